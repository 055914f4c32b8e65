import Foundation
@testable import WitnessEvidence
import WitnessModel
import XCTest

/// Only vouched-for journal lines decide. Real journal files (made by
/// systemd-journal-remote) hold lines an unprivileged user wrote with
/// sd_journal_send — any SYSLOG_IDENTIFIER, MESSAGE_ID or UNIT they like —
/// beside the genuine writers' lines, whose trusted `_` fields journald
/// stamped. Forged lines never move a verdict; each is named, with its real
/// writer, as evidence against it.
final class JournalForgeryTests: XCTestCase {
    static let ended = JournalFixture.boot("1"), next = JournalFixture.boot("2")
    static let python = "written by uid 1000 (python3, /usr/bin/python3.11)"

    func last(_ journal: JournalFixture, _ name: String) throws -> [String: Any] {
        let dir = try temporaryDirectory(name)
        try journal.write(to: dir.appendingPathComponent("journal"))
        return try lastJSON(dir, boot: Self.ended)
    }

    /// The issue's own case: a hard reset, and a user who wrote sudo's,
    /// logind's and PID 1's shutdown lines beforehand to blame bob.
    func testForgedSudoLogindAndPID1LinesCannotTurnAHardResetIntoBobsReboot() throws {
        var journal = JournalFixture()
        journal.bootStart(Self.ended, at: 0)
        journal.forged(boot: Self.ended, second: 3000,
                       "bob : TTY=pts/3 ; PWD=/home/bob ; USER=root ; COMMAND=/usr/sbin/reboot", ["SYSLOG_IDENTIFIER": "sudo"])
        journal.forged(boot: Self.ended, second: 3001, "System is rebooting.",
                       ["SYSLOG_IDENTIFIER": "systemd-logind", "MESSAGE_ID": MessageID.shutdown, "SHUTDOWN": "reboot"])
        journal.forged(boot: Self.ended, second: 3002, "Reached target reboot.target - System Reboot.",
                       ["SYSLOG_IDENTIFIER": "systemd", "UNIT": "reboot.target", "MESSAGE_ID": MessageID.unitStarted])
        journal.add(boot: Self.ended, second: 3010, "still working", ["SYSLOG_IDENTIFIER": "cron"])
        journal.bootStart(Self.next, at: 5000, unclean: true)

        let v = try last(journal, "forged-reboot")
        XCTAssertEqual(v["reason"] as? String, "hard_reset", "\(v["summary"] ?? "")")
        XCTAssertNil(v["initiator"] as? [String: Any], "nobody is named")
        XCTAssertFalse((v["summary"] as? String ?? "").contains("bob"))
        let against = excerpts(v, stance: "contradicts")
        for claim in ["posing as sudo", "posing as systemd-logind", "posing as systemd"] {
            XCTAssertTrue(against.contains { $0.hasPrefix("a line \(claim), \(Self.python)") }, "\(claim): \(against)")
        }
        XCTAssertTrue(excerpts(v, stance: "supports").contains { $0.contains("recovery complete") }, "\(v)")
    }

    /// Each fact family with a genuine line and a forged one side by side:
    /// the genuine one decides, the forged one is named.
    func testGenuineLinesDecideAndForgedOnesBesideThemAreNamed() throws {
        var journal = JournalFixture()
        journal.bootStart(Self.ended, at: 0)
        journal.sshLogin(Self.ended, at: 100, session: "7")
        journal.forged(boot: Self.ended, second: 150, "Accepted password for mallory from 6.6.6.6 port 666 ssh2",
                       ["SYSLOG_IDENTIFIER": "sshd", "_AUDIT_SESSION": "7"])
        // The genuine request (alice, session 7) and a later forged one naming eve.
        journal.add(boot: Self.ended, second: 2000, "alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/sbin/reboot",
                    ["SYSLOG_IDENTIFIER": "sudo", "_AUDIT_SESSION": "7", "_PID": "1300"])
        journal.forged(boot: Self.ended, second: 2001, "eve : TTY=pts/9 ; PWD=/ ; USER=root ; COMMAND=/usr/sbin/poweroff",
                       ["SYSLOG_IDENTIFIER": "sudo"])
        // Trouble posing as the kernel: written to /dev/kmsg by a root process (facility user), or by sd_journal_send.
        journal.add(boot: Self.ended, second: 2002, "Out of memory: Killed process 1 (systemd)",
                    ["SYSLOG_FACILITY": "1"], transport: "kernel")
        journal.forged(boot: Self.ended, second: 2003, "Kernel panic - not syncing: fake", ["SYSLOG_IDENTIFIER": "kernel"])
        journal.orderlyEnd(Self.ended, at: 2005)
        journal.forged(boot: Self.ended, second: 2004, "Power key pressed short.",
                       ["SYSLOG_IDENTIFIER": "systemd-logind", "MESSAGE_ID": MessageID.powerKey])
        journal.bootStart(Self.next, at: 5000)
        journal.forged(boot: Self.next, second: 5010, "EXT4-fs (vda1): recovery complete", ["SYSLOG_IDENTIFIER": "systemd-fsck"])

        let v = try last(journal, "forged-beside")
        XCTAssertEqual(v["bootstat"] as? String, "reboot,user,alice", "\(v["summary"] ?? "")")
        let initiator = try XCTUnwrap(v["initiator"] as? [String: Any])
        XCTAssertEqual(initiator["ssh_peer"] as? String, "10.10.10.34:51633", "sshd's own line, not mallory's")
        XCTAssertFalse((v["summary"] as? String ?? "").contains("power key"), "a forged power key explains nothing")
        let against = excerpts(v, stance: "contradicts")
        XCTAssertTrue(against.contains { $0.contains("posing as sudo, \(Self.python)") && $0.contains("eve") }, "\(against)")
        XCTAssertTrue(against.contains { $0.contains("posing as sshd") && $0.contains("mallory") }, "\(against)")
        XCTAssertTrue(against.contains { $0.contains("posing as systemd-logind") && $0.contains("Power key") }, "\(against)")
        XCTAssertTrue(against.contains { $0.contains("posing as kernel, written by a process writing to /dev/kmsg (facility 1)") },
                      "\(against)")
        XCTAssertTrue(against.contains { $0.contains("posing as kernel, \(Self.python)") && $0.contains("Kernel panic") }, "\(against)")
        XCTAssertNotEqual(v["reason"] as? String, "panic")
        XCTAssertTrue(against.contains { $0.contains("posing as systemd-fsck") }, "\(against)")
        XCTAssertFalse(excerpts(v).contains { $0.hasPrefix("next boot:") }, "a forged recovery line is no unclean marker")
    }

    /// A container's root runs its own /usr/bin/sudo as uid 0 and writes
    /// through the host's journal socket: journald's _SYSTEMD_CGROUP gives it away.
    func testAContainersRootPosingAsSudoIsNamedNotBelieved() throws {
        let docker = "/system.slice/docker-" + String(repeating: "cd", count: 32) + ".scope"
        var journal = JournalFixture()
        journal.bootStart(Self.ended, at: 0)
        journal.add(boot: Self.ended, second: 3000, "bob : TTY=pts/3 ; PWD=/root ; USER=root ; COMMAND=/usr/sbin/reboot",
                    ["SYSLOG_IDENTIFIER": "sudo", "_SYSTEMD_CGROUP": docker, "_SYSTEMD_UNIT": "docker-" + String(repeating: "cd", count: 32) + ".scope",
                     "_PID": "8800", "_UID": "0", "_COMM": "sudo", "_EXE": "/usr/bin/sudo"])
        journal.bootStart(Self.next, at: 5000, unclean: true)
        let v = try last(journal, "container-sudo")
        XCTAssertEqual(v["reason"] as? String, "hard_reset", "\(v["summary"] ?? "")")
        XCTAssertFalse((v["summary"] as? String ?? "").contains("bob"))
        XCTAssertTrue(excerpts(v, stance: "contradicts").contains {
            $0.hasPrefix("a line posing as sudo, written by uid 0 (sudo, /usr/bin/sudo) pid 8800 in docker container cdcdcdcdcdcd")
        }, "\(excerpts(v, stance: "contradicts"))")
    }

    func testTheWriterOfALineIsWhatJournaldStamped() {
        let python = JournalWriter(uid: 1000, pid: 4711, comm: "python3", exe: "/usr/bin/python3.11")
        XCTAssertFalse(JournalVoucher.sudo.vouches(for: python))
        XCTAssertEqual(python.description, "uid 1000 (python3, /usr/bin/python3.11) pid 4711")
        XCTAssertTrue(JournalVoucher.sudo.vouches(for: JournalWriter(uid: 0, comm: "sudo", exe: "/usr/bin/sudo")))
        XCTAssertFalse(JournalVoucher.sudo.vouches(for: JournalWriter(uid: 1000, comm: "sudo", exe: "/home/u/sudo")),
                       "a program named sudo run by a user is not sudo")
        XCTAssertTrue(JournalVoucher.kernel.vouches(for: JournalWriter(transport: "kernel", facility: 0)))
        XCTAssertFalse(JournalVoucher.kernel.vouches(for: JournalWriter(transport: "kernel", facility: 1)))
        XCTAssertTrue(JournalVoucher.systemd.vouches(for: JournalWriter(uid: 0, pid: 1)))
        XCTAssertTrue(JournalVoucher.logind.vouches(for: JournalWriter(uid: 0, comm: "systemd-logind", unit: "systemd-logind.service")))
        XCTAssertTrue(JournalVoucher.sshd.vouches(for: JournalWriter(uid: 0, exe: "/usr/lib/openssh/sshd-session")))
        // A container's root running its own /usr/bin/sudo, with the host's journal socket bind-mounted.
        let docker = "/system.slice/docker-" + String(repeating: "ab", count: 32) + ".scope"
        let contained = JournalWriter(uid: 0, pid: 8800, comm: "sudo", exe: "/usr/bin/sudo", cgroup: docker)
        XCTAssertFalse(JournalVoucher.sudo.vouches(for: contained))
        XCTAssertEqual(contained.description, "uid 0 (sudo, /usr/bin/sudo) pid 8800 in docker container abababababab")
        XCTAssertTrue(JournalVoucher.sudo.vouches(for: JournalWriter(uid: 0, comm: "sudo", exe: "/usr/bin/sudo",
                                                                     cgroup: "/user.slice/user-1000.slice/session-4.scope")))
    }

    /// Text from a journal (a user name, a command) reaches a terminal only
    /// escaped: `last`, `last --list`, and `last --check`'s one-line protocol.
    func testControlCharactersInJournalTextNeverReachTheTerminal() throws {
        var journal = JournalFixture()
        journal.bootStart(Self.ended, at: 0)
        let message = "al\u{1b}[2Jice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/usr/sbin/reboot \u{1b}]52;c;eA==\u{7}\nreboot,graceful,nobody"
        journal.add(boot: Self.ended, second: 2000, ["SYSLOG_IDENTIFIER": Data("sudo".utf8), "MESSAGE": Data(message.utf8)])
        journal.orderlyEnd(Self.ended, at: 2005)
        journal.bootStart(Self.next, at: 5000)
        let dir = try temporaryDirectory("last-escape")
        try journal.write(to: dir.appendingPathComponent("journal"))
        let common = ["--journal-dir", dir.appendingPathComponent("journal").path, "--no-syslog", "--store", dir.appendingPathComponent("none").path,
                      "--audit-dir", dir.appendingPathComponent("audit").path, "--wtmp", dir.appendingPathComponent("wtmp").path]
        for extra in [["--boot", String(Self.ended.prefix(12))], ["--list"], ["--check", "--boot", String(Self.ended.prefix(12))]] {
            let result = try runProgram(Built.witness, ["last"] + common + extra)
            let raw = result.stdout.unicodeScalars.filter { ($0.value < 0x20 && $0 != "\n") || $0.value == 0x7f }
            XCTAssertTrue(raw.isEmpty, "\(extra): \(result.stdout)")
            XCTAssertTrue(result.stdout.contains("al\\x1b[2Jice"), "\(extra): \(result.stdout)")
            if extra.first == "--check" { XCTAssertEqual(result.stdout.split(separator: "\n").count, 1, result.stdout) }
        }
        let json = try lastJSON(dir, boot: Self.ended)
        XCTAssertEqual((json["initiator"] as? [String: Any])?["login_user"] as? String, "al\u{1b}[2Jice", "exact in JSON")
    }

    /// sudo is setuid root but journald stamps the invoking user's uid: the
    /// real shape (uid 61000, /usr/bin/sudo) naming its own user decides; a
    /// copy of sudo elsewhere, or /usr/bin/sudo in a user's private mount
    /// namespace naming someone else, is a forgery.
    func testSudoLinesVouchOnlyAsTheSystemBinaryNamingItsOwnUser() throws {
        var journal = JournalFixture()
        journal.bootStart(Self.ended, at: 0)
        journal.add(boot: Self.ended, second: 10, "alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/sbin/reboot",
                    ["SYSLOG_IDENTIFIER": "sudo", "_PID": "700"])
        journal.add(boot: Self.ended, second: 11, "bob : TTY=pts/1 ; PWD=/home/bob ; USER=root ; COMMAND=/usr/sbin/poweroff",
                    ["SYSLOG_IDENTIFIER": "sudo", "_PID": "701"])
        journal.add(boot: Self.ended, second: 12, "carol : TTY=pts/2 ; PWD=/ ; USER=root ; COMMAND=/usr/sbin/halt",
                    ["SYSLOG_IDENTIFIER": "sudo", "_PID": "702", "_UID": "61001", "_COMM": "sudo", "_EXE": "/tmp/x/sudo"])
        journal.add(boot: Self.ended, second: 13, "dave : TTY=pts/3 ; PWD=/ ; USER=root ; COMMAND=/usr/sbin/reboot",
                    ["SYSLOG_IDENTIFIER": "sudo", "_PID": "703", "_UID": "0", "_COMM": "sudo", "_EXE": "/usr/bin/sudo"])
        let dir = try temporaryDirectory("sudo-uid")
        try journal.write(to: dir)
        let reader = try JournalReader(directory: dir.path)
        let facts = JournalEvidence.facts(of: Self.ended, in: reader, accounts: { $0 == 61000 ? "alice" : nil })
        XCTAssertEqual(facts.commands.map(\.user), ["alice", "dave"], "alice as herself; root's line as written")
        let forged = facts.forgeries.map(\.finding)
        XCTAssertTrue(forged.contains { $0.contains("uid 61000 (sudo, /usr/bin/sudo) pid 701") && $0.contains("bob") }, "\(forged)")
        XCTAssertTrue(forged.contains { $0.contains("uid 61001 (sudo, /tmp/x/sudo)") && $0.contains("carol") }, "\(forged)")
        XCTAssertEqual(forged.count, 2, "\(forged)")
    }
}
