import Foundation
import XCTest

/// A journal as journald would have written it: entries in systemd's export
/// format, turned into a real journal file by systemd-journal-remote, so
/// that sd-journal reads it exactly as it reads /var/log/journal.
struct JournalFixture {
    static let journalRemote = "/lib/systemd/systemd-journal-remote"
    /// 2026-01-01T00:00:00Z, in µs.
    static let epoch: Int64 = 1_767_225_600_000_000

    private var stream = Data()
    private(set) var count = 0

    /// Boot ids in the journal's form (32 hex digits), from a digit: 1 → "1111…".
    static func boot(_ digit: Character) -> String { String(repeating: digit, count: 32) }
    static func dashed(_ id: String) -> String {
        let h = Array(id)
        return [h[0..<8], h[8..<12], h[12..<16], h[16..<20], h[20..<32]].map { String($0) }.joined(separator: "-")
    }

    /// `second`: seconds after `epoch`. `fields` beyond MESSAGE: SYSLOG_IDENTIFIER, MESSAGE_ID, UNIT…
    mutating func add(boot: String, second: Double, _ message: String, _ fields: [String: String] = [:],
                      transport: String = "journal") {
        var all = fields
        all["MESSAGE"] = message
        add(boot: boot, second: second, all.mapValues { Data($0.utf8) }, transport: transport)
    }

    /// What journald stamps for the genuine writer of each identifier (its
    /// trusted `_` fields), where a test gives none of its own.
    static let genuine: [String: [String: String]] = [
        // journald stamps the real uid: the invoking user's (setuid root
        // changes only the effective one). 61000 is nobody on a test machine.
        "sudo": ["_UID": "61000", "_COMM": "sudo", "_EXE": "/usr/bin/sudo"],
        "pkexec": ["_UID": "61000", "_COMM": "pkexec", "_EXE": "/usr/bin/pkexec"],
        "systemd-logind": ["_UID": "0", "_PID": "612", "_COMM": "systemd-logind", "_EXE": "/usr/lib/systemd/systemd-logind",
                           "_SYSTEMD_UNIT": "systemd-logind.service"],
        "sshd": ["_UID": "0", "_COMM": "sshd", "_EXE": "/usr/sbin/sshd", "_SYSTEMD_UNIT": "ssh.service"],
        "systemd-journald": ["_UID": "0", "_PID": "230", "_COMM": "systemd-journal", "_EXE": "/usr/lib/systemd/systemd-journald",
                             "_SYSTEMD_UNIT": "systemd-journald.service"],
        "systemd-fsck": ["_UID": "0", "_COMM": "systemd-fsck", "_EXE": "/usr/lib/systemd/systemd-fsck"],
        "systemd": ["_UID": "0", "_PID": "1", "_COMM": "systemd", "_EXE": "/usr/lib/systemd/systemd", "_SYSTEMD_UNIT": "init.scope"],
    ]

    /// Fields as raw bytes (for messages that are not UTF-8). Trusted fields
    /// the test does not give are those of the identifier's genuine writer.
    mutating func add(boot: String, second: Double, _ fields: [String: Data], transport: String = "journal") {
        let realtime = Self.epoch + Int64(second * 1_000_000)
        var entry = "__REALTIME_TIMESTAMP=\(realtime)\n__MONOTONIC_TIMESTAMP=\(Int64(second * 1_000_000) + 1)\n"
        entry += "_BOOT_ID=\(boot)\n_TRANSPORT=\(transport)\n"
        if fields["SYSLOG_IDENTIFIER"] == nil && transport == "kernel" { entry += "SYSLOG_IDENTIFIER=kernel\n" }
        if transport == "kernel" && fields["SYSLOG_FACILITY"] == nil { entry += "SYSLOG_FACILITY=0\n" }
        let identifier = fields["SYSLOG_IDENTIFIER"].map { String(decoding: $0, as: UTF8.self) } ?? ""
        if transport != "kernel", fields["_UID"] == nil, let stamped = Self.genuine[identifier] {
            for (name, value) in stamped.sorted(by: { $0.key < $1.key }) where fields[name] == nil {
                entry += "\(name)=\(value)\n"
            }
        }
        stream.append(Data(entry.utf8))
        for (name, value) in fields.sorted(by: { $0.key < $1.key }) {
            if value.contains(10) || String(data: value, encoding: .utf8) == nil {
                // Export format's binary form: NAME\n, little-endian 64-bit size, bytes, \n.
                stream.append(Data((name + "\n").utf8))
                withUnsafeBytes(of: UInt64(value.count).littleEndian) { stream.append(contentsOf: $0) }
                stream.append(value)
                stream.append(10)
            } else {
                stream.append(Data("\(name)=".utf8) + value + Data([10]))
            }
        }
        stream.append(10)
        count += 1
    }

    /// Writes `directory/system.journal`; returns the directory.
    @discardableResult
    func write(to directory: URL) throws -> URL {
        guard FileManager.default.isExecutableFile(atPath: Self.journalRemote) else {
            XCTFail("\(Self.journalRemote) is missing: apt-get install systemd-journal-remote (CI installs it)")
            throw CocoaError(.fileNoSuchFile)
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let input = directory.appendingPathComponent("export.stream")
        try stream.write(to: input)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "\"$0\" --output=\"$1\" - < \"$2\"", Self.journalRemote,
                             directory.appendingPathComponent("system.journal").path, input.path]
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try FileManager.default.removeItem(at: input)
        XCTAssertEqual(process.terminationStatus, 0, "systemd-journal-remote")
        return directory
    }

    /// A boot's ordinary start: the kernel's first lines and journald's.
    mutating func bootStart(_ boot: String, at second: Double, unclean: Bool = false) {
        add(boot: boot, second: second, "Linux version 6.1.0-28-amd64 (debian-kernel@lists.debian.org)", transport: "kernel")
        if unclean {
            add(boot: boot, second: second + 1, "EXT4-fs (vda1): recovery complete", transport: "kernel")
            add(boot: boot, second: second + 3,
                "File /var/log/journal/0123/system.journal corrupted or uncleanly shut down, renaming and replacing.",
                ["SYSLOG_IDENTIFIER": "systemd-journald"])
        }
        add(boot: boot, second: second + 1.5, "EXT4-fs (vda1): mounted filesystem with ordered data mode.", transport: "kernel")
        add(boot: boot, second: second + 4, "Journal started", ["SYSLOG_IDENTIFIER": "systemd-journald",
                                                                 "MESSAGE_ID": "f77379a8490b408bbe5f6940505a777b"])
    }

    /// A line an unprivileged user wrote with sd_journal_send or logger,
    /// claiming whatever `fields` say: journald stamps its real writer.
    mutating func forged(boot: String, second: Double, _ message: String, _ fields: [String: String]) {
        var all = fields
        all["_UID"] = "1000"; all["_GID"] = "1000"; all["_PID"] = "4711"; all["_COMM"] = "python3"
        all["_EXE"] = "/usr/bin/python3.11"; all["_SYSTEMD_UNIT"] = "user@1000.service"
        add(boot: boot, second: second, message, all)
    }

    /// alice's ssh login: sshd's "Accepted" line and its "session opened" line
    /// (which journald tags with the audit session only when its cache allows).
    mutating func sshLogin(_ boot: String, at second: Double, session: String?) {
        add(boot: boot, second: second, "Accepted publickey for alice from 10.10.10.34 port 51633 ssh2: ED25519 SHA256:abc",
            ["SYSLOG_IDENTIFIER": "sshd", "_PID": "900"])
        var opened = ["SYSLOG_IDENTIFIER": "sshd", "_PID": "900"]
        if let session { opened["_AUDIT_SESSION"] = session; opened["_AUDIT_LOGINUID"] = "1000" }
        add(boot: boot, second: second + 0.2, "pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)", opened)
    }

    /// The orderly end of a boot as systemd 252 logs it after logind's verdict.
    mutating func orderlyEnd(_ boot: String, at second: Double, verb: String = "reboot") {
        let words = ["reboot": "System is rebooting.", "power-off": "System is powering down."]
        add(boot: boot, second: second, words[verb] ?? "System is shutting down.",
            ["SYSLOG_IDENTIFIER": "systemd-logind", "MESSAGE_ID": "98268866d1d54a499c4e98921d93bc40", "SHUTDOWN": verb])
        for (offset, unit) in ["ssh.service", "cron.service", "rsyslog.service"].enumerated() {
            add(boot: boot, second: second + 0.1 + Double(offset) * 0.1, "Stopped \(unit).",
                ["SYSLOG_IDENTIFIER": "systemd", "_PID": "1", "UNIT": unit, "MESSAGE_ID": "9d1aaa27d60140bd96365438aad20286"])
        }
        let target = verb == "reboot" ? "reboot.target" : "poweroff.target"
        add(boot: boot, second: second + 1, "Reached target \(target) - System \(verb == "reboot" ? "Reboot" : "Power-Off").",
            ["SYSLOG_IDENTIFIER": "systemd", "_PID": "1", "UNIT": target, "MESSAGE_ID": "39f53479d3a045ac8e11786248231fbf"])
    }
}
