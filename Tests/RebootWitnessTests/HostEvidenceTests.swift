import Foundation
@testable import WitnessArm
@testable import WitnessReport
@testable import WitnessEvidence
import WitnessSystem
import XCTest

/// Runs `last --json` on `dir`'s journal (and audit log, wtmp), for `boot`.
func lastJSON(_ dir: URL, _ extra: [String] = [], boot: String) throws -> [String: Any] {
    let result = try runProgram(Built.witness, ["last", "--json", "--journal-dir", dir.appendingPathComponent("journal").path, "--syslog-dir", dir.appendingPathComponent("syslog").path,
                                                "--store", dir.appendingPathComponent("no-store").path,
                                                "--audit-dir", dir.appendingPathComponent("audit").path,
                                                "--wtmp", dir.appendingPathComponent("wtmp").path, "--boot", String(boot.prefix(12))] + extra)
    XCTAssertEqual(result.status, 0, result.stderr)
    XCTAssertEqual(result.stderr, "")
    return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], result.stdout)
}

/// The excerpts of a verdict's evidence, of one stance (supports, contradicts, note) or all.
func excerpts(_ verdict: [String: Any], stance: String? = nil) -> [String] {
    (verdict["evidence"] as? [[String: Any]] ?? []).filter { stance == nil || $0["stance"] as? String == stance }
        .compactMap { $0["excerpt"] as? String }
}

/// `last` on hosts where the witness was never armed: real journal files
/// (systemd-journal-remote), audit logs in auditd's own format, read through
/// the CLI as a new user would. The boots here are not the running one, so
/// this host's own kernel log never enters the verdict.
final class HostEvidenceTests: XCTestCase {
    static let ended = JournalFixture.boot("1"), next = JournalFixture.boot("2")

    func last(_ dir: URL, _ extra: [String] = [], boot: String = ended) throws -> [String: Any] {
        try lastJSON(dir, extra, boot: boot)
    }

    /// Seed 004: a getty crash loop all boot long, an OOM kill, then silence
    /// until a hard reset; the next boot recovers its file systems.
    func testSeed004CrashLoopOutOfMemoryThenAHardReset() throws {
        var journal = JournalFixture()
        journal.bootStart(Self.ended, at: 0)
        for n in 1...600 {
            let t = 10 + Double(n) * 10
            journal.add(boot: Self.ended, second: t, "could not get terminal name: -22", ["SYSLOG_IDENTIFIER": "agetty", "_PID": "\(1000 + n)"])
            journal.add(boot: Self.ended, second: t + 0.1, "serial-getty@ttyS0.service: Scheduled restart job, restart counter is at \(n).",
                        ["SYSLOG_IDENTIFIER": "systemd", "_PID": "1", "UNIT": "serial-getty@ttyS0.service",
                         "MESSAGE_ID": MessageID.restartScheduled, "N_RESTARTS": "\(n)"])
        }
        journal.add(boot: Self.ended, second: 6100, "mariadbd invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0",
                    transport: "kernel")
        journal.add(boot: Self.ended, second: 6100.5, "Out of memory: Killed process 812 (mariadbd) total-vm:1612560kB", transport: "kernel")
        journal.add(boot: Self.ended, second: 6160, "could not get terminal name: -22", ["SYSLOG_IDENTIFIER": "agetty"])
        journal.bootStart(Self.next, at: 90_000, unclean: true)
        let dir = try temporaryDirectory("seed004")
        try journal.write(to: dir.appendingPathComponent("journal"))

        let v = try last(dir)
        XCTAssertEqual(v["bootstat"] as? String, "hard_reset,oom_then_reset,")
        XCTAssertEqual(v["confidence"] as? String, "medium", "no witness record: never high")
        XCTAssertEqual(v["boot_id"] as? String, JournalFixture.dashed(Self.ended))
        XCTAssertEqual(v["last_seen"] as? String, "2026-01-01T01:42:40.000Z", "the journal's last entry")
        let loop = try XCTUnwrap(v["crash_loop"] as? [String: Any])
        XCTAssertEqual(loop["what"] as? String, "serial-getty@ttyS0.service")
        XCTAssertEqual(loop["count"] as? Int, 600)
        let support = excerpts(v, stance: "supports")
        XCTAssertTrue(support.contains { $0.contains("the journal ends with no shutdown sequence") }, "\(support)")
        XCTAssertTrue(support.contains { $0.contains("next boot: kernel: EXT4-fs (vda1): recovery complete") }, "\(support)")
        XCTAssertTrue(support.contains { $0.contains("uncleanly shut down") }, "\(support)")
        XCTAssertTrue(support.contains { $0.contains("Out of memory: Killed process 812") }, "\(support)")
        XCTAssertTrue(excerpts(v, stance: "note").contains { $0.contains("never armed") })
    }

    /// A loop that stopped early in the boot is found from its first messages,
    /// and counted to its last one, however many restarts of another unit follow.
    func testCrashLoopsAreCountedAtBothEndsOfTheBoot() throws {
        var journal = JournalFixture()
        journal.bootStart(Self.ended, at: 0)
        for n in 1...150 {
            journal.add(boot: Self.ended, second: 10 + Double(n), "early.service: Scheduled restart job, restart counter is at \(n).",
                        ["_PID": "1", "UNIT": "early.service", "MESSAGE_ID": MessageID.restartScheduled, "N_RESTARTS": "\(n)"])
        }
        for n in 1...2500 {
            journal.add(boot: Self.ended, second: 500 + Double(n), "late.service: Scheduled restart job, restart counter is at \(n).",
                        ["_PID": "1", "UNIT": "late.service", "MESSAGE_ID": MessageID.restartScheduled])
        }
        let dir = try temporaryDirectory("loops")
        try journal.write(to: dir)
        let reader = try JournalReader(directory: dir.path)
        let facts = JournalEvidence.facts(of: Self.ended, in: reader)
        XCTAssertEqual(facts.restarts.map { "\($0.unit)=\($0.count)" }, ["late.service=2500", "early.service=150"],
                       "N_RESTARTS or, where absent, the message's counter")
        XCTAssertEqual(reader.unreadable, 0)
    }

    /// Seed 003: alice logs in by ssh and runs `sudo reboot`; the journal alone names her and her client.
    func testAUserRebootThroughSSHAndSudoFromTheJournalAlone() throws {
        var journal = JournalFixture()
        journal.bootStart(Self.ended, at: 0)
        journal.sshLogin(Self.ended, at: 100, session: "4")
        journal.add(boot: Self.ended, second: 100.3, "New session 4 of user alice.",
                    ["SYSLOG_IDENTIFIER": "systemd-logind", "MESSAGE_ID": MessageID.sessionStart, "SESSION_ID": "4", "LEADER": "900"])
        // Another session's sudo that is no reboot, and a refused one.
        journal.add(boot: Self.ended, second: 200, "bob : TTY=pts/1 ; PWD=/home/bob ; USER=root ; COMMAND=/usr/bin/systemctl status",
                    ["SYSLOG_IDENTIFIER": "sudo", "_PID": "1400", "_AUDIT_SESSION": "5"])
        journal.add(boot: Self.ended, second: 210, "bob : command not allowed ; TTY=pts/1 ; PWD=/home/bob ; USER=root ; COMMAND=/usr/sbin/reboot",
                    ["SYSLOG_IDENTIFIER": "sudo", "_PID": "1410", "_AUDIT_SESSION": "5"])
        journal.add(boot: Self.ended, second: 300, "   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/sbin/reboot",
                    ["SYSLOG_IDENTIFIER": "sudo", "_PID": "1500", "_AUDIT_SESSION": "4", "_AUDIT_LOGINUID": "1000"])
        journal.orderlyEnd(Self.ended, at: 301)
        journal.bootStart(Self.next, at: 400)
        let dir = try temporaryDirectory("seed003")
        try journal.write(to: dir.appendingPathComponent("journal"))

        let v = try last(dir)
        XCTAssertEqual(v["bootstat"] as? String, "reboot,user,alice")
        XCTAssertEqual(v["confidence"] as? String, "medium")
        let initiator = try XCTUnwrap(v["initiator"] as? [String: Any])
        XCTAssertEqual(initiator["ssh_peer"] as? String, "10.10.10.34:51633")
        XCTAssertEqual(initiator["tty"] as? String, "pts/0")
        XCTAssertEqual(initiator["argv"] as? String, "/usr/sbin/reboot")
        XCTAssertEqual(initiator["login_user"] as? String, "alice")
        XCTAssertEqual(initiator["sessionid"] as? Int, 4)
        XCTAssertEqual(initiator["pid"] as? Int, 1500)
        XCTAssertTrue((v["summary"] as? String ?? "").contains("ssh from 10.10.10.34:51633"), "\(v["summary"] ?? "")")
        XCTAssertTrue(excerpts(v, stance: "supports").contains("systemd-logind: System is rebooting."))
        XCTAssertTrue(excerpts(v, stance: "contradicts").isEmpty, "the next boot was clean")
    }

    /// journald caches a process's audit session: sshd's lines right after
    /// login often carry none, and hosts without pam_systemd have no logind
    /// session. The session's own later sshd lines still name the client.
    func testTheSSHClientFromTheSessionsOwnSSHDLines() throws {
        var journal = JournalFixture()
        journal.bootStart(Self.ended, at: 0)
        journal.sshLogin(Self.ended, at: 100, session: nil)
        journal.add(boot: Self.ended, second: 300, "alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/sbin/reboot",
                    ["SYSLOG_IDENTIFIER": "sudo", "_PID": "1500", "_AUDIT_SESSION": "4"])
        journal.orderlyEnd(Self.ended, at: 301)
        journal.add(boot: Self.ended, second: 301.5, "Disconnected from user alice 10.10.10.34 port 51633",
                    ["SYSLOG_IDENTIFIER": "sshd", "_PID": "910", "_AUDIT_SESSION": "4"])
        journal.bootStart(Self.next, at: 400)
        let dir = try temporaryDirectory("ssh-cache")
        try journal.write(to: dir.appendingPathComponent("journal"))
        let v = try last(dir)
        XCTAssertEqual((v["initiator"] as? [String: Any])?["ssh_peer"] as? String, "10.10.10.34:51633")
        XCTAssertEqual(JournalEvidence.peer(in: "Received disconnect from 2001:db8::7 port 40022:11: disconnected by user"),
                       "[2001:db8::7]:40022")
        XCTAssertNil(JournalEvidence.peer(in: "Server listening on 0.0.0.0 port 22."), "not a client")
    }

    /// Seed 000, case 2: a machine-config rollout reboots through its unit.
    func testAServiceRebootFromItsUnitOrFromPID1sRequestLine() throws {
        for variant in ["unit-start", "requested"] {
            var journal = JournalFixture()
            journal.bootStart(Self.ended, at: 0)
            if variant == "unit-start" {
                journal.add(boot: Self.ended, second: 500,
                            "Started machine-config-daemon: Node will reboot into config rendered-worker-04636f9acf052beffabf57725a564095.",
                            ["SYSLOG_IDENTIFIER": "systemd", "_PID": "1", "UNIT": "machine-config-daemon-reboot.service",
                             "MESSAGE_ID": MessageID.unitStarted])
            } else {
                journal.add(boot: Self.ended, second: 500,
                            "Reboot requested from client PID 4242 ('systemctl') (unit machine-config-daemon-reboot.service)...",
                            ["SYSLOG_IDENTIFIER": "systemd", "_PID": "1"])
            }
            journal.orderlyEnd(Self.ended, at: 501)
            journal.bootStart(Self.next, at: 600)
            let dir = try temporaryDirectory("seed000-\(variant)")
            try journal.write(to: dir.appendingPathComponent("journal"))
            let v = try last(dir)
            XCTAssertEqual(v["bootstat"] as? String, "reboot,service,machine-config-daemon-reboot.service", variant)
            XCTAssertEqual(v["confidence"] as? String, "medium", variant)
        }
    }

    /// Seed 000, cases 3 and 4: a container's reboot leaves only logind's
    /// lines (no one is named); the hypervisor's soft reboot leaves the power key.
    func testAGracefulRebootNobodyIsNamedForAndTheHypervisorsPowerKey() throws {
        var journal = JournalFixture()
        journal.bootStart(Self.ended, at: 0)
        journal.add(boot: Self.ended, second: 300, "The system will reboot now!", ["SYSLOG_IDENTIFIER": "systemd-logind"])
        journal.orderlyEnd(Self.ended, at: 300.1)
        journal.bootStart(Self.next, at: 400)
        journal.add(boot: Self.next, second: 900, "Power key pressed short.",
                    ["SYSLOG_IDENTIFIER": "systemd-logind", "MESSAGE_ID": MessageID.powerKey])
        journal.orderlyEnd(Self.next, at: 900.2, verb: "power-off")
        journal.bootStart(JournalFixture.boot("3"), at: 1000)
        let dir = try temporaryDirectory("seed000-graceful")
        try journal.write(to: dir.appendingPathComponent("journal"))
        let container = try last(dir)
        XCTAssertEqual(container["bootstat"] as? String, "reboot,graceful,")
        XCTAssertTrue((container["summary"] as? String ?? "").contains("no source names who asked"))
        XCTAssertNil(container["initiator"] as? [String: Any])
        let hypervisor = try last(dir, boot: Self.next)
        XCTAssertEqual(hypervisor["bootstat"] as? String, "poweroff,acpi,power_button")
        XCTAssertEqual(hypervisor["confidence"] as? String, "medium")
    }

    /// A graceful end in the journal, yet the next boot recovered its file
    /// systems: the recovery is shown against the verdict.
    func testRecoveryAtTheNextBootContradictsAGracefulEnd() throws {
        var journal = JournalFixture()
        journal.bootStart(Self.ended, at: 0)
        journal.orderlyEnd(Self.ended, at: 300)
        journal.bootStart(Self.next, at: 400, unclean: true)
        let dir = try temporaryDirectory("contradiction")
        try journal.write(to: dir.appendingPathComponent("journal"))
        let v = try last(dir)
        XCTAssertEqual(v["bootstat"] as? String, "reboot,graceful,")
        XCTAssertTrue(excerpts(v, stance: "contradicts").contains { $0.contains("recovery complete") }, "\(excerpts(v))")
    }
}

/// The audit log, bad input, `--list`, and the one timeline `dump` and `last` share.
final class HostEvidenceEdgeTests: XCTestCase {
    let ended = HostEvidenceTests.ended, next = HostEvidenceTests.next

    /// auditd's own lines (enriched format: the names after \x1d): sudo's
    /// USER_CMD with a hex-encoded command, sshd's USER_LOGIN, systemd's
    /// SERVICE_START and SYSTEM_SHUTDOWN; the journal has only logind's line.
    func testTheAuditLogNamesThePersonAndTheService() throws {
        let start = JournalFixture.epoch / 1_000_000
        func line(_ type: String, _ second: Int64, _ serial: Int, _ body: String, _ names: String) -> String {
            "type=\(type) msg=audit(\(start + second).123:\(serial)): \(body)\u{1d}\(names)\n"
        }
        var journal = JournalFixture()
        journal.bootStart(ended, at: 0)
        journal.orderlyEnd(ended, at: 301)
        journal.bootStart(next, at: 400)
        journal.orderlyEnd(next, at: 801)
        journal.bootStart(JournalFixture.boot("3"), at: 900)
        let dir = try temporaryDirectory("audit")
        try journal.write(to: dir.appendingPathComponent("journal"))
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("audit"), withIntermediateDirectories: true)
        let rotated = line("SYSTEM_BOOT", 2, 10, "pid=300 uid=0 auid=4294967295 ses=4294967295 subj=unconfined msg=' comm=\"systemd-update-utmp\" exe=\"/usr/lib/systemd/systemd-update-utmp\" hostname=? addr=? terminal=? res=success'", "UID=\"root\" AUID=\"unset\"")
            + line("USER_LOGIN", 100, 210, "pid=900 uid=0 auid=1000 ses=4 subj=unconfined msg='op=login id=1000 exe=\"/usr/sbin/sshd\" hostname=10.10.10.34 addr=10.10.10.34 terminal=/dev/pts/0 res=success'", "UID=\"root\" AUID=\"alice\" ID=\"alice\"")
        let current = line("USER_CMD", 300, 305, "pid=1500 uid=1000 auid=1000 ses=4 subj=unconfined msg='cwd=\"/home/alice\" cmd=73687574646F776E202D72206E6F77 exe=\"/usr/bin/sudo\" terminal=pts/0 res=success'", "UID=\"alice\" AUID=\"alice\"")
            + line("SYSTEM_RUNLEVEL", 301, 306, "pid=2100 uid=0 auid=4294967295 ses=4294967295 subj=unconfined msg='old-level=5 new-level=6 comm=\"systemd-update-utmp\" exe=\"/usr/lib/systemd/systemd-update-utmp\" hostname=? addr=? terminal=? res=success'", "UID=\"root\" AUID=\"unset\"")
            + line("SYSTEM_SHUTDOWN", 302, 307, "pid=2100 uid=0 auid=4294967295 ses=4294967295 subj=unconfined msg=' comm=\"systemd-update-utmp\" exe=\"/usr/lib/systemd/systemd-update-utmp\" hostname=? addr=? terminal=? res=success'", "UID=\"root\" AUID=\"unset\"")
            + line("SERVICE_START", 800, 410, "pid=1 uid=0 auid=4294967295 ses=4294967295 subj=unconfined msg='unit=machine-config-daemon-reboot comm=\"systemd\" exe=\"/usr/lib/systemd/systemd\" hostname=? addr=? terminal=? res=success'", "UID=\"root\" AUID=\"unset\"")
        try rotated.write(to: dir.appendingPathComponent("audit/audit.log.1"), atomically: true, encoding: .utf8)
        try current.write(to: dir.appendingPathComponent("audit/audit.log"), atomically: true, encoding: .utf8)

        let person = try lastJSON(dir, boot: ended)
        XCTAssertEqual(person["bootstat"] as? String, "reboot,user,alice")
        let initiator = try XCTUnwrap(person["initiator"] as? [String: Any])
        XCTAssertEqual(initiator["argv"] as? String, "shutdown -r now", "auparse decodes the hex command")
        XCTAssertEqual(initiator["ssh_peer"] as? String, "10.10.10.34", "from sshd's USER_LOGIN in the rotated file")
        XCTAssertEqual(initiator["tty"] as? String, "pts/0")
        let evidence = excerpts(person)
        XCTAssertTrue(evidence.contains { $0.hasPrefix("USER_CMD: alice on pts/0 ran `shutdown -r now` (session 4)") }, "\(evidence)")
        XCTAssertTrue(evidence.contains { $0.hasPrefix("SYSTEM_SHUTDOWN by systemd-update-utmp") && $0.contains("audit.log:3") }, "\(evidence)")
        let service = try lastJSON(dir, boot: next)
        XCTAssertEqual(service["bootstat"] as? String, "reboot,service,machine-config-daemon-reboot.service")
        XCTAssertTrue(excerpts(service).contains { $0.hasPrefix("SERVICE_START unit=machine-config-daemon-reboot") })
    }

    func testBadInputIsNamedAndTheVerdictGoesOn() throws {
        var journal = JournalFixture()
        journal.bootStart(ended, at: 0)
        for n in 0..<3000 { journal.add(boot: ended, second: 10 + Double(n), "filler \(n)", ["SYSLOG_IDENTIFIER": "app"]) }
        journal.add(boot: ended, second: 4000, ["MESSAGE": Data([0x62, 0x61, 0x64, 0xff, 0xfe, 0x0a, 0x00, 0x21]),
                                                "SYSLOG_IDENTIFIER": Data("app".utf8)])
        journal.bootStart(next, at: 5000, unclean: true)
        let dir = try temporaryDirectory("bad")
        try journal.write(to: dir.appendingPathComponent("journal"))
        // A truncated audit log, and a wtmp that is a directory.
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("audit"), withIntermediateDirectories: true)
        try "type=SYSTEM_SHUTDOWN msg=audit(1767225900.1".write(to: dir.appendingPathComponent("audit/audit.log"),
                                                                atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("wtmp"), withIntermediateDirectories: true)

        let v = try lastJSON(dir, boot: ended)
        XCTAssertEqual(v["bootstat"] as? String, "hard_reset,no_shutdown_path,")
        let notes = excerpts(v, stance: "note")
        XCTAssertTrue(notes.contains { $0.hasPrefix("unreadable:") && $0.contains("wtmp") }, "\(notes)")
        XCTAssertTrue(notes.contains { $0.hasPrefix("partly read: an incomplete event at") && $0.hasSuffix("audit.log:1 left out") },
                      "the cut line is no SYSTEM_SHUTDOWN: \(notes)")
        XCTAssertTrue(excerpts(v).contains { $0.contains("app: bad\u{fffd}\u{fffd}\nbad") || $0.contains("bad\u{fffd}") },
                      "non-UTF-8 bytes are replaced, not fatal: \(excerpts(v))")

        // The journal file cut in half and scribbled over: sd-journal reads what it can.
        let file = dir.appendingPathComponent("journal/system.journal")
        let bytes = try Data(contentsOf: file)
        var damaged = bytes.prefix(bytes.count / 2)
        damaged.replaceSubrange(damaged.count / 2..<(damaged.count / 2 + 4096), with: Data(repeating: 0xa5, count: 4096))
        try damaged.write(to: file)
        let result = try runProgram(Built.witness, ["last", "--journal-dir", dir.appendingPathComponent("journal").path, "--syslog-dir", dir.appendingPathComponent("syslog").path,
                                                    "--store", "/nonexistent", "--no-journal", "--boot", "1"])
        XCTAssertEqual(result.status, 1, "with the journal off, no boot is known: one line")
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        let damagedBoot = try runProgram(Built.witness, ["last", "--json", "--journal-dir", dir.appendingPathComponent("journal").path, "--syslog-dir", dir.appendingPathComponent("syslog").path,
                                                         "--store", "/nonexistent", "--audit-dir", "/nonexistent",
                                                         "--boot", String(ended.prefix(8))])
        XCTAssertEqual(damagedBoot.status, 1, "sd-journal refuses the truncated file: that boot is unknown")
        XCTAssertTrue(damagedBoot.stderr.hasPrefix("Error: no boot 11111111") && damagedBoot.stderr.contains(
            "1 journal file(s) could not be read (truncated or corrupt): \(file.path)"), damagedBoot.stderr)
        let damagedList = try runProgram(Built.witness, ["last", "--list", "--json", "--journal-dir", dir.appendingPathComponent("journal").path, "--syslog-dir", dir.appendingPathComponent("syslog").path,
                                                         "--store", "/nonexistent", "--audit-dir", "/nonexistent"])
        XCTAssertEqual(damagedList.status, 0, damagedList.stderr)
        XCTAssertEqual(damagedList.stderr, "reboot-witness: 1 journal file(s) could not be read (truncated or corrupt): \(file.path)\n")
        // A boot nobody knows.
        let unknown = try runProgram(Built.witness, ["last", "--journal-dir", dir.appendingPathComponent("journal").path, "--syslog-dir", dir.appendingPathComponent("syslog").path,
                                                     "--boot", "deadbeefdeadbeef"])
        XCTAssertEqual(unknown.status, 1)
        XCTAssertTrue(unknown.stderr.hasPrefix("Error: no boot deadbeefdeadbeef"), unknown.stderr)
    }

    /// `--list`: every boot newest first with how it ended; `--count` keeps the newest.
    func testListGivesEveryBootNewestFirst() throws {
        var journal = JournalFixture()
        let boots = (1...5).map { JournalFixture.boot(Character(String($0))) }
        for (i, boot) in boots.enumerated() {
            journal.bootStart(boot, at: Double(i) * 1000, unclean: i == 3)
            if i != 2 && i < 4 { journal.orderlyEnd(boot, at: Double(i) * 1000 + 500) }
        }
        let dir = try temporaryDirectory("list")
        try journal.write(to: dir.appendingPathComponent("journal"))
        let result = try runProgram(Built.witness, ["last", "--list", "--json", "--journal-dir", dir.appendingPathComponent("journal").path, "--syslog-dir", dir.appendingPathComponent("syslog").path,
                                                    "--store", "/nonexistent", "--audit-dir", "/nonexistent"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = try ndjsonObjects(result.stdout)
        XCTAssertEqual(lines.map { $0["boot_id"] as? String }, boots.reversed().map { JournalFixture.dashed($0) })
        XCTAssertEqual(lines.map { $0["index"] as? Int }, [-1, -2, -3, -4, -5], "another host's journal: none is running")
        XCTAssertEqual(lines.map { $0["bootstat"] as? String },
                       ["hard_reset,no_shutdown_path,", "reboot,graceful,", "hard_reset,no_shutdown_path,", "reboot,graceful,",
                        "reboot,graceful,"])
        XCTAssertEqual(lines.map { $0["confidence"] as? String }, ["low", "medium", "medium", "medium", "medium"],
                       "the reset before the unclean boot is medium, the last boot's end unconfirmed is low")
        let counted = try runProgram(Built.witness, ["last", "--list", "--count", "2", "--journal-dir", dir.appendingPathComponent("journal").path, "--syslog-dir", dir.appendingPathComponent("syslog").path,
                                                     "--store", "/nonexistent", "--audit-dir", "/nonexistent"])
        XCTAssertEqual(counted.stdout.split(separator: "\n").count, 3, "header and two boots: \(counted.stdout)")
        XCTAssertTrue(counted.stdout.hasPrefix(" IDX BOOT ID"), counted.stdout)
    }

    /// On the running host: the previous boot is the journal's, even when the
    /// store never saw it, for `dump --boot previous` and `last` alike.
    func testDumpAndLastChooseThePreviousBootFromOneTimeline() throws {
        let current = String(decoding: try Data(contentsOf: URL(fileURLWithPath: "/proc/sys/kernel/random/boot_id")), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let currentHex = current.replacingOccurrences(of: "-", with: "")
        var journal = JournalFixture()
        journal.bootStart(ended, at: 0)
        journal.orderlyEnd(ended, at: 100)
        journal.bootStart(next, at: 200)
        journal.add(boot: next, second: 250, "Power key pressed short.", ["SYSLOG_IDENTIFIER": "systemd-logind", "MESSAGE_ID": MessageID.powerKey])
        journal.orderlyEnd(next, at: 250.5, verb: "power-off")
        journal.bootStart(currentHex, at: 400)
        let dir = try temporaryDirectory("timeline")
        try journal.write(to: dir.appendingPathComponent("journal"))
        var locations = HostEvidence.Locations()
        locations.store = dir.appendingPathComponent("store").path
        locations.journalDirectory = dir.appendingPathComponent("journal").path
        locations.auditDirectory = "/nonexistent"
        locations.kernelLog = "/nonexistent"
        locations.watchdogRoot = "/nonexistent"
        locations.pstoreRoots = []
        let host = HostEvidence(locations, current: current, currentStart: nil)
        XCTAssertTrue(host.thisHost)
        XCTAssertEqual(host.timeline.boots.map(\.name), [ended, next, currentHex].map(JournalFixture.dashed))
        XCTAssertEqual(host.timeline.index(back: 1), 1)
        let verdict = try LastReport.verdict(LastReport.Target(boot: .back(1)), host: host).get()
        XCTAssertEqual(verdict.bootID, JournalFixture.dashed(next))
        XCTAssertEqual(verdict.bootstat, "poweroff,acpi,power_button")
        let dump = DumpReport(timeline: host.timeline, skipped: 0, selection: .previous)
        XCTAssertEqual(dump.boots, [JournalFixture.dashed(next)], "dump chooses the same boot")
        XCTAssertNil(dump.witness[JournalFixture.dashed(next)], "which the witness did not see")
        let list = LastReport.list(host: host, count: nil)
        XCTAssertEqual(list.map(\.index), [0, -1, -2])
        XCTAssertEqual(list.first?.current, true)
        XCTAssertNil(list.first?.verdict, "the running boot has no verdict")
    }

    /// wtmp's boots join the boot that started with them; others stand alone.
    func testWtmpBootsJoinByStartTime() {
        let journal = [JournalBoot(id: JournalFixture.dashed(ended), first: Instant(seconds: 1000), last: Instant(seconds: 2000))]
        let wtmp = [WtmpEntry(kind: .boot, user: "reboot", time: Instant(seconds: 400).iso8601),
                    WtmpEntry(kind: .shutdown, user: "shutdown", time: Instant(seconds: 900).iso8601),
                    WtmpEntry(kind: .boot, user: "reboot", time: Instant(seconds: 1002).iso8601)]
        let timeline = BootTimeline(witness: [], journal: journal, wtmp: wtmp, current: "unknown", currentStart: nil)
        XCTAssertEqual(timeline.boots.map(\.name), ["wtmp-boot-1970-01-01T00:06:40.000Z", JournalFixture.dashed(ended)])
        XCTAssertEqual(timeline.boots[1].wtmpBoot, Instant(seconds: 1002))
    }

    /// A boot's syslog line is logged after it started (rsyslog, half a minute
    /// in under QEMU), never before: the previous boot's line, a few seconds
    /// before the running boot began, is not the running boot's (the QEMU
    /// syslog scenarios met this).
    func testSyslogBootsJoinTheBootThatStartedBeforeThemNotTheNearestOne() {
        let current = JournalFixture.dashed(next)
        let journal = [JournalBoot(id: current, first: Instant(seconds: 1037), last: Instant(seconds: 1100))]
        let syslog = [SyslogBoot(start: Instant(seconds: 1018)), SyslogBoot(start: Instant(seconds: 1057))]
        let timeline = BootTimeline(witness: [], journal: journal, syslog: syslog, wtmp: [], current: current,
                                    currentStart: Instant(seconds: 1037))
        XCTAssertEqual(timeline.boots.map(\.name), ["syslog-boot-1970-01-01T00:16:58.000Z", current])
        XCTAssertEqual(timeline.boots.last?.syslog?.start, Instant(seconds: 1057))
    }
}
