import Foundation
import XCTest

/// `arm --reboot2panic` on this host changes only harmless settings (nothing
/// can be held here, so nothing panics): they must be set while armed, shown
/// by `status`, and restored by `disarm` even after arm was SIGKILLed.
final class Reboot2PanicLiveTests: XCTestCase {
    func sysctl(_ name: String) throws -> String {
        try String(contentsOfFile: "/proc/sys/kernel/\(name)", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func testDisarmRestoresWhatReboot2PanicChangedAfterAKill() throws {
        guard geteuid() == 0, FileManager.default.fileExists(atPath: "/sys/kernel/btf/vmlinux") else {
            throw XCTSkip("live tests need root and kernel BTF")
        }
        let store = try temporaryDirectory("r2p")
        let before = (panic: try sysctl("panic"), dump: try sysctl("ftrace_dump_on_oops"))
        let timeout = before.panic == "17" ? "19" : "17"

        let refused = try runProgram(Built.witness, ["arm", "--reboot2panic", "--store", store.path])
        if PanicDestinationsProbe.none {
            XCTAssertEqual(refused.status, 1)
            XCTAssertTrue(refused.stderr.contains("use --force"), refused.stderr)
        }
        let (arm, text) = try startArm(["--reboot2panic", "--force", "--panic-timeout", timeout, "--store", store.path])
        XCTAssertTrue(text.contains("reboot2panic: kernel.panic=\(timeout)"), text)
        XCTAssertEqual(try sysctl("panic"), timeout)
        if !text.contains("ftrace_dump_on_oops not set") {  // some hosts refuse it (EPERM): said, not fatal
            XCTAssertEqual(try sysctl("ftrace_dump_on_oops"), "1")
        }
        let status = try runProgram(Built.witness, ["status", "--json", "--store", store.path])
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        let changed = try XCTUnwrap((object["reboot2panic"] as? [String: Any])?["changed"] as? [[String: Any]])
        XCTAssertEqual(changed.first { $0["path"] as? String == "/proc/sys/kernel/panic" }?["original"] as? String, before.panic)

        kill(arm.processIdentifier, SIGKILL)  // no clean stop: only disarm can restore now
        arm.waitUntilExit()
        XCTAssertEqual(try sysctl("panic"), timeout, "a killed arm restores nothing itself")
        let disarm = try runProgram(Built.witness, ["disarm", "--store", store.path])
        XCTAssertEqual(disarm.status, 0, disarm.stderr)
        XCTAssertTrue(disarm.stdout.contains("restored /proc/sys/kernel/panic = \(before.panic)"), disarm.stdout)
        XCTAssertEqual(try sysctl("panic"), before.panic)
        XCTAssertEqual(try sysctl("ftrace_dump_on_oops"), before.dump)
        let again = try runProgram(Built.witness, ["disarm", "--store", store.path])
        XCTAssertTrue(again.stdout.contains("no reboot2panic settings to restore"), again.stdout)
    }
}

/// Whether this machine has neither a pstore backend nor kdump.
enum PanicDestinationsProbe {
    static var none: Bool {
        let backend = (try? String(contentsOfFile: "/sys/module/pstore/parameters/backend", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let kdump = (try? String(contentsOfFile: "/sys/kernel/kexec_crash_loaded", encoding: .utf8))?.hasPrefix("1") ?? false
        return (backend.isEmpty || backend == "(null)") && !kdump
    }
}
