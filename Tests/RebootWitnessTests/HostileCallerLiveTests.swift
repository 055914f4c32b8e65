import Foundation
@testable import WitnessEvidence
import XCTest

/// A caller that wants to hijack the admin's terminal, or to make one record
/// read like another: its comm carries ESC, CR and LF, its argv an OSC 52
/// clipboard write, a line break followed by a fake record, a bidi override
/// and bytes that are not UTF-8. Live, on this kernel: every human line and
/// kernel-log line shows them escaped; --json keeps them exactly.
final class HostileCallerLiveTests: XCTestCase {
    static let comm = "\u{1b}[31mX\rY\nZ"
    static let osc52 = "\u{1b}]52;c;ZWNobyBwd25lZA==\u{7}"

    override func setUpWithError() throws {
        guard geteuid() == 0, FileManager.default.fileExists(atPath: "/sys/kernel/btf/vmlinux") else {
            throw XCTSkip("live tests need root and kernel BTF")
        }
    }

    func testHostileCommAndArgvAreEscapedForPeopleAndExactInJSON() throws {
        let store = try temporaryDirectory("hostile")
        let arm = Process()
        arm.executableURL = URL(fileURLWithPath: Built.witness)
        arm.arguments = ["arm", "--no-pin", "--no-dbus", "--no-preflight", "--no-journal-entries", "--store", store.path]
        let out = Pipe(), err = Pipe()
        arm.standardOutput = out
        arm.standardError = err
        try arm.run()
        defer { if arm.isRunning { arm.interrupt(); arm.waitUntilExit() } }
        XCTAssertTrue(read(err, until: "armed:").contains("armed:"))

        XCTAssertEqual(try runProgram(Built.selftest, ["bad-magic", "--comm", Self.comm]).status, 0)
        // An exec of a tool named systemctl (the intent filter's argv decides): hostile arguments.
        let tools = try temporaryDirectory("hostile-tools")
        let systemctl = tools.appendingPathComponent("systemctl")
        try FileManager.default.createSymbolicLink(atPath: systemctl.path, withDestinationPath: Built.selftest)
        var argv: [CChar] = []
        for argument in ["systemctl", "reboot", Self.osc52, "x\nreboot-witness: sys_enter_reboot RESTART by systemd[1]",
                         "\u{202e}gpj.exe"] {
            argv += argument.utf8CString
        }
        let invalid: [CChar] = [0x66, CChar(bitPattern: 0xff), 0x6f, 0]  // "f\xffo": not UTF-8
        _ = runRaw(systemctl.path, arguments: argv + invalid)

        var human = ""
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline, !(human.contains("sched_process_exec") && human.contains("sys_enter_reboot INVALID")) {
            human += read(out, until: "sched_process_exec", timeout: 1)
        }
        arm.interrupt()
        arm.waitUntilExit()

        // arm's live lines.
        XCTAssertTrue(human.contains("by \\x1b[31mX\\rY\\nZ[") , human)
        XCTAssertTrue(human.contains("\\x1b]52;c;ZWNobyBwd25lZA==\\x07"), human)
        XCTAssertTrue(human.contains("x\\nreboot-witness: sys_enter_reboot RESTART by systemd[1]"), human)
        XCTAssertTrue(human.contains("\\u{202e}gpj.exe"), human)
        XCTAssertTrue(human.contains("f\u{fffd}o"), human)
        assertNoControlBytes(human, "arm's live lines")

        // dump for people, and for machines.
        let dump = try runProgram(Built.witness, ["dump", "--store", store.path]).stdout
        XCTAssertTrue(dump.contains("by \\x1b[31mX\\rY\\nZ[") || dump.contains("\\x1b[31mX\\rY\\nZ["), dump)
        assertNoControlBytes(dump, "dump")
        let records = try ndjsonObjects(try runProgram(Built.witness, ["dump", "--json", "--store", store.path]).stdout)
        XCTAssertTrue(records.contains { $0["comm"] as? String == Self.comm }, "the exact comm in JSON")
        let intent = try XCTUnwrap(records.first { $0["probe"] as? String == "sched_process_exec" })
        XCTAssertTrue((intent["cmd_arg"] as? String)?.contains(Self.osc52 + " x\nreboot-witness:") == true, "\(intent)")

        // The kernel log: one record per line, never a second one smuggled in.
        // (/dev/kmsg shows a backslash as \x5c: our "\x1b" reads "\x5cx1b" there.)
        let kmsg = KernelRing.recentText()
        XCTAssertTrue(kmsg.contains("reboot-witness: sys_enter_reboot INVALID by \\x5cx1b[31mX\\x5crY\\x5cnZ["), String(kmsg.suffix(2000)))
        XCTAssertFalse(kmsg.contains("reboot-witness: sys_enter_reboot INVALID by \u{1b}"))
        XCTAssertFalse(kmsg.split(separator: "\n").contains { $0.hasPrefix("reboot-witness: sys_enter_reboot RESTART by systemd[1]") },
                       "a forged record line in the kernel log")
    }

    /// Nothing but printable text and our own line breaks.
    func assertNoControlBytes(_ text: String, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let bad = text.unicodeScalars.filter { ($0.value < 0x20 && $0 != "\n") || $0.value == 0x7f || (0x80...0x9f).contains($0.value)
            || (0x202a...0x202e).contains($0.value) || (0x2066...0x2069).contains($0.value) }
        XCTAssertTrue(bad.isEmpty, "\(what) carries raw control characters: \(bad.map { String($0.value, radix: 16) })",
                      file: file, line: line)
    }

    /// Runs `path` with NUL-separated raw argv bytes (not every argument is UTF-8); returns its exit status.
    func runRaw(_ path: String, arguments: [CChar]) -> Int32 {
        var pointers: [UnsafeMutablePointer<CChar>?] = []
        var start = 0
        for (index, byte) in arguments.enumerated() where byte == 0 {
            let piece = Array(arguments[start...index])
            let copy = UnsafeMutablePointer<CChar>.allocate(capacity: piece.count)
            copy.initialize(from: piece, count: piece.count)
            pointers.append(copy)
            start = index + 1
        }
        pointers.append(nil)
        defer { pointers.forEach { $0?.deallocate() } }
        var pid: pid_t = 0
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        defer { posix_spawn_file_actions_destroy(&actions) }
        guard posix_spawn(&pid, path, &actions, nil, pointers, environ) == 0 else { return -1 }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return status
    }
}
