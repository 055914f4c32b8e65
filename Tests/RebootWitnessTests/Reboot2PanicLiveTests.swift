import Foundation
@testable import WitnessArm
@testable import WitnessReport
import WitnessStore
import XCTest

/// `arm --reboot2panic` against a stand-in /proc and /sys (--reboot2panic-root):
/// no test changes this machine's kernel settings or can panic it. The
/// settings must be set while armed, shown by `status`, and restored by
/// `disarm` even after arm was SIGKILLed.
final class Reboot2PanicLiveTests: XCTestCase {
    /// A stand-in root with the files reboot2panic reads and writes.
    func standIn(pstoreBackend: String?) throws -> URL {
        let root = try temporaryDirectory("r2p-root")
        let files = [("proc/sys/kernel/panic", "0"), ("proc/sys/kernel/ftrace_dump_on_oops", "0"), ("proc/sysrq-trigger", ""),
                     ("sys/module/pstore/parameters/backend", pstoreBackend ?? "(null)"), ("sys/kernel/kexec_crash_loaded", "0")]
        for (path, text) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try (text + "\n").write(to: url, atomically: false, encoding: .utf8)
        }
        return root
    }

    func read(_ root: URL, _ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func testDisarmRestoresWhatReboot2PanicChangedAfterAKill() throws {
        guard geteuid() == 0, FileManager.default.fileExists(atPath: "/sys/kernel/btf/vmlinux") else {
            throw XCTSkip("live tests need root and kernel BTF")
        }
        let hostPanic = try String(contentsOfFile: "/proc/sys/kernel/panic", encoding: .utf8)
        let store = try temporaryDirectory("r2p")
        let bare = try standIn(pstoreBackend: nil)
        let refused = try runProgram(Built.witness, ["arm", "--no-pin", "--reboot2panic", "--reboot2panic-root", bare.path,
                                                     "--store", store.path])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("use --force"), refused.stderr)

        let root = try standIn(pstoreBackend: "ramoops")
        let (arm, text) = try startArm(["--reboot2panic", "--reboot2panic-root", root.path, "--panic-timeout", "17",
                                        "--store", store.path])
        XCTAssertTrue(text.contains("reboot2panic: kernel.panic=17"), text)
        XCTAssertEqual(try read(root, "proc/sys/kernel/panic"), "17")
        XCTAssertEqual(try read(root, "proc/sys/kernel/ftrace_dump_on_oops"), "1")
        let status = try runProgram(Built.witness, ["status", "--json", "--store", store.path])
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        let changed = try XCTUnwrap((object["reboot2panic"] as? [String: Any])?["changed"] as? [[String: Any]])
        XCTAssertEqual(changed.first { $0["path"] as? String == root.path + "/proc/sys/kernel/panic" }?["original"] as? String, "0")

        kill(arm.processIdentifier, SIGKILL)  // no clean stop: only disarm can restore now
        arm.waitUntilExit()
        XCTAssertEqual(try read(root, "proc/sys/kernel/panic"), "17", "a killed arm restores nothing itself")
        let disarm = try runProgram(Built.witness, ["disarm", "--store", store.path, "--keep-capture"])
        XCTAssertEqual(disarm.status, 0, disarm.stderr)
        XCTAssertTrue(disarm.stdout.contains("restored \(root.path)/proc/sys/kernel/panic = 0"), disarm.stdout)
        XCTAssertEqual(try read(root, "proc/sys/kernel/panic"), "0")
        XCTAssertEqual(try read(root, "proc/sys/kernel/ftrace_dump_on_oops"), "0")
        let again = try runProgram(Built.witness, ["disarm", "--store", store.path, "--keep-capture"])
        XCTAssertTrue(again.stdout.contains("no reboot2panic settings to restore"), again.stdout)
        XCTAssertEqual(try String(contentsOfFile: "/proc/sys/kernel/panic", encoding: .utf8), hostPanic, "the host was never touched")
    }

    /// A damaged settings file may be the only copy of the host's original
    /// settings: it once loaded as "nothing saved", disarm said so, and the
    /// next arm --reboot2panic overwrote it. Now it is refused and kept.
    func testADamagedSettingsFileIsRefusedAndKept() throws {
        guard geteuid() == 0, FileManager.default.fileExists(atPath: "/sys/kernel/btf/vmlinux") else {
            throw XCTSkip("live tests need root and kernel BTF")
        }
        let store = try temporaryDirectory("r2p-damaged")
        let saved = store.appendingPathComponent(PanicSettings.fileName)
        let damaged = Data("{\"changes\":[{\"path\":\"/proc/sys/kernel/pa".utf8)
        try damaged.write(to: saved)
        chmod(store.path, 0o700)
        let root = try standIn(pstoreBackend: "ramoops")
        let refused = try runProgram(Built.witness, ["arm", "--no-pin", "--reboot2panic", "--reboot2panic-root", root.path,
                                                     "--store", store.path])
        XCTAssertEqual(refused.status, 1, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("reboot2panic.json is damaged"), refused.stderr)
        XCTAssertEqual(try read(root, "proc/sys/kernel/panic"), "0", "nothing was changed")
        let disarm = try runProgram(Built.witness, ["disarm", "--store", store.path, "--keep-capture"])
        XCTAssertEqual(disarm.status, 1)
        XCTAssertTrue(disarm.stderr.contains("could not restore the reboot2panic settings"), disarm.stderr)
        let status = try runProgram(Built.witness, ["status", "--json", "--store", store.path])
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        XCTAssertTrue(((object["reboot2panic"] as? [String: Any])?["damaged"] as? String)?.contains("is damaged") == true)
        XCTAssertEqual(try Data(contentsOf: saved), damaged, "kept byte for byte")
    }

    /// [the settings cannot be saved (here: a directory where the temporary
    /// file goes) after kernel.panic was set]: the arm is refused and puts
    /// kernel.panic back itself; it once left it changed, with no saved copy
    /// of the original for disarm.
    func testAnArmRefusedHalfWayPutsBackWhatItSet() throws {
        guard geteuid() == 0, FileManager.default.fileExists(atPath: "/sys/kernel/btf/vmlinux") else {
            throw XCTSkip("live tests need root and kernel BTF")
        }
        let store = try temporaryDirectory("r2p-unsaved")
        chmod(store.path, 0o700)
        try FileManager.default.createDirectory(at: store.appendingPathComponent(PanicSettings.fileName + ".tmp"),
                                                withIntermediateDirectories: false)
        let root = try standIn(pstoreBackend: "ramoops")
        let refused = try runProgram(Built.witness, ["arm", "--no-pin", "--reboot2panic", "--reboot2panic-root", root.path,
                                                     "--panic-timeout", "17", "--store", store.path])
        XCTAssertEqual(refused.status, 1, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("reboot2panic.json.tmp") && refused.stderr.contains("every setting it had changed was put back"), refused.stderr)
        XCTAssertEqual(try read(root, "proc/sys/kernel/panic"), "0")
        XCTAssertFalse(FileManager.default.fileExists(atPath: store.appendingPathComponent(PanicSettings.fileName).path))
    }

    func options(root: String) -> Reboot2Panic.Options {
        var options = Reboot2Panic.Options()
        options.root = root
        return options
    }

    /// The hold never keeps a reboot from happening: where the panic cannot
    /// be triggered (the write fails, or returns), the held call is replayed.
    func testAPanicThatDoesNotHappenReplaysTheHeldCall() throws {
        let record = sampleCaller(boot: "b1")
        let log = try temporaryDirectory("r2p-kmsg").appendingPathComponent("kmsg")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let kmsg = KernelLog(path: log.path, priorityPrefix: false)

        let failing = try standIn(pstoreBackend: "ramoops")
        try FileManager.default.removeItem(at: failing.appendingPathComponent("proc/sysrq-trigger"))
        try FileManager.default.createDirectory(at: failing.appendingPathComponent("proc/sysrq-trigger"),
                                                withIntermediateDirectories: false)  // open(O_WRONLY) fails: EISDIR
        var replays = 0
        Reboot2Panic(options: options(root: failing.path), savedIn: failing.path).panic(for: record, kmsg: kmsg) { replays += 1 }
        XCTAssertEqual(replays, 1, "a failed sysrq write replays the held call")

        let returning = try standIn(pstoreBackend: "ramoops")
        Reboot2Panic(options: options(root: returning.path), savedIn: returning.path).panic(for: record, kmsg: kmsg) { replays += 1 }
        XCTAssertEqual(replays, 2, "a sysrq write that returns (no panic) replays the held call too")
        XCTAssertEqual(try read(returning, "proc/sysrq-trigger"), "c")
        let lines = try String(contentsOf: log, encoding: .utf8)
        // The line the Panic record keeps names the call as the kernel does (the QEMU check reads it).
        XCTAssertTrue(lines.contains("reboot-witness: reboot2panic: sys_enter_reboot RESTART by \(record.comm)[\(record.pid)]"), lines)
        XCTAssertTrue(lines.contains("reboot2panic: no panic (open"), lines)
        XCTAssertTrue(lines.contains("replaying the held reboot(2)"), lines)
    }
}
