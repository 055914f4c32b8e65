import Foundation
@testable import WitnessEvidence
import WitnessSystem
import XCTest

/// `last` on hosts whose journal is volatile (RHEL's default) and whose
/// previous boots live only in rsyslog's files: the seeds' own shapes.
final class SyslogHostTests: XCTestCase {
    /// A /var/log of text files: each written as given, mtime set (the year of an RFC 3164 file's last line).
    func logDirectory(_ name: String, _ files: [String: String], modified: String = "2026-08-01T00:00:00Z",
                      gzip: Set<String> = []) throws -> URL {
        let dir = try temporaryDirectory(name)
        let logs = dir.appendingPathComponent("syslog")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let date = try XCTUnwrap(ISO8601DateFormatter().date(from: modified))
        for (file, text) in files {
            let path = logs.appendingPathComponent(file)
            if gzip.contains(file) {
                let plain = logs.appendingPathComponent(String(file.dropLast(3)))
                try text.write(to: plain, atomically: true, encoding: .utf8)
                let zipped = try runProgram("/bin/gzip", ["-n", plain.path])
                XCTAssertEqual(zipped.status, 0, zipped.stderr)
            } else {
                try text.write(to: path, atomically: true, encoding: .utf8)
            }
            try FileManager.default.setAttributes([.modificationDate: date, .posixPermissions: 0o600], ofItemAtPath: path.path)
        }
        return dir
    }

    func lastJSON(_ dir: URL, boot: String, _ extra: [String] = []) throws -> [String: Any] {
        // A journal directory without the running boot: the copy of another host's logs, as hermetic as a test is.
        let result = try runProgram(Built.witness, ["last", "--json", "--boot", boot, "--journal-dir", dir.appendingPathComponent("journal").path,
                                                    "--syslog-dir", dir.appendingPathComponent("syslog").path,
                                                    "--store", dir.appendingPathComponent("none").path,
                                                    "--audit-dir", dir.appendingPathComponent("audit").path,
                                                    "--wtmp", dir.appendingPathComponent("wtmp").path] + extra)
        XCTAssertEqual(result.status, 0, result.stderr)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], result.stdout)
    }

    // MARK: - Seed 003: an appliance on Oracle Linux 7, traditional format, no sudo

    static let oda = (
        messages: """
        Jul 31 05:58:01 oda1db01 kernel: Linux version 4.1.12-124.20.3.el7uek.x86_64 (mockbuild@host) (gcc version 4.8.5 20150623 (Red Hat 4.8.5-16) (GCC) ) #2 SMP Thu Oct 11 17:12:11 PDT 2018
        Jul 31 05:58:01 oda1db01 kernel: Command line: BOOT_IMAGE=/vmlinuz-4.1.12-124.20.3.el7uek.x86_64 root=/dev/mapper/VolGroupSys-LogVolRoot ro
        Jul 31 05:58:30 oda1db01 systemd: Startup finished in 1.2s (kernel) + 4.1s (initrd) + 24.0s (userspace) = 29.3s.
        Jul 31 08:35:29 oda1db01 systemd: Started Session 4021 of user root.
        Jul 31 08:35:29 oda1db01 systemd-logind: New session 4021 of user root.
        Jul 31 09:16:52 oda1db01 oakd: acfsutil snap delete actemp
        Jul 31 09:20:01 oda1db01 systemd-logind: System is rebooting.
        Jul 31 09:20:01 oda1db01 systemd: Stopping Session 4021 of user root.
        Jul 31 09:20:02 oda1db01 systemd: Stopping System Logging Service...
        Jul 31 09:20:02 oda1db01 rsyslogd: [origin software="rsyslogd" swVersion="8.24.0-34.el7" x-pid="1190" x-info="http://www.rsyslog.com"] exiting on signal 15.
        Jul 31 09:22:58 oda1db01 kernel: Linux version 4.1.12-124.20.3.el7uek.x86_64 (mockbuild@host) (gcc version 4.8.5 20150623 (Red Hat 4.8.5-16) (GCC) ) #2 SMP Thu Oct 11 17:12:11 PDT 2018
        Jul 31 09:23:02 oda1db01 kernel: XFS (dm-0): Mounting V5 Filesystem
        Jul 31 09:23:30 oda1db01 systemd: Startup finished in 1.1s (kernel) + 4.0s (initrd) + 23.9s (userspace) = 29.0s.
        Jul 31 09:30:00 oda1db01 systemd: Started Session 1 of user grid.

        """,
        secure: """
        Jul 31 08:35:29 oda1db01 sshd[87883]: Accepted password for root from 10.10.10.34 port 51633 ssh2
        Jul 31 08:35:29 oda1db01 sshd[87883]: pam_unix(sshd:session): session opened for user root by (uid=0)
        Jul 31 08:40:10 oda1db01 sshd[88001]: Accepted publickey for oracle from 10.10.10.50 port 40022 ssh2
        Jul 31 09:10:00 oda1db01 sshd[88001]: pam_unix(sshd:session): session closed for user oracle

        """)

    func testSeed003AGracefulRebootAndTheSSHLoginOpenAsItBeganFromTheTextLogsAlone() throws {
        let dir = try logDirectory("oda", ["messages": Self.oda.messages, "secure": Self.oda.secure])
        let v = try lastJSON(dir, boot: "2")
        XCTAssertEqual(v["reason"] as? String, "reboot", "\(v)")
        XCTAssertEqual(v["subreason"] as? String, "graceful")
        XCTAssertEqual(v["confidence"] as? String, "medium")
        let supports = excerpts(v, stance: "supports")
        XCTAssertTrue(supports.contains { $0.hasPrefix("systemd-logind: System is rebooting. (") && $0.hasSuffix("/syslog/messages:7)") },
                      "\(supports)")
        let notes = excerpts(v, stance: "note")
        XCTAssertTrue(notes.contains { $0.hasPrefix("ssh login still open as the shutdown began: sshd[87883]: Accepted password for root from 10.10.10.34 port 51633 ssh2 (")
            && $0.hasSuffix("/syslog/secure:1)") }, "\(notes)")
        XCTAssertFalse(notes.contains { $0.contains("oracle") }, "a login closed before the shutdown is not named")
        XCTAssertTrue(notes.contains { $0.hasPrefix("read from ") && $0.contains("each line is a claim") }, "\(notes)")
        XCTAssertTrue(((v["evidence"] as? [[String: Any]]) ?? []).contains { $0["source"] as? String == "syslog" })
    }

    // MARK: - Seed 002: CentOS 7.7, a kernel update, a reboot that never came back

    /// yum updates the kernel, salt reboots the VM; the new kernel's
    /// initramfs finds no disk, so those boots never reach rsyslog; the
    /// rescue boot (the older kernel) is the next one the file has. RHEL 7's
    /// kernel prints its cgroup lines before "Linux version".
    static let centos = """
        Nov 28 09:00:00 web07 kernel: Initializing cgroup subsys cpuset
        Nov 28 09:00:00 web07 kernel: Initializing cgroup subsys cpu
        Nov 28 09:00:00 web07 kernel: Linux version 3.10.0-1062.1.2.el7.x86_64 (mockbuild@kbuilder.bsys.centos.org) (gcc version 4.8.5 20150623 (Red Hat 4.8.5-39) (GCC) ) #1 SMP Mon Sep 30 14:19:46 UTC 2019
        Nov 28 09:00:00 web07 kernel: Command line: BOOT_IMAGE=/vmlinuz-3.10.0-1062.1.2.el7.x86_64 root=/dev/mapper/centos-root ro crashkernel=auto rd.lvm.lv=centos/root rd.lvm.lv=centos/swap rhgb quiet
        Nov 28 09:00:31 web07 systemd: Startup finished in 712ms (kernel) + 2.113s (initrd) + 28.402s (userspace) = 31.228s.
        Nov 29 02:10:12 web07 yum[20417]: Updated: kernel-3.10.0-1062.4.1.el7.x86_64
        Nov 29 02:10:40 web07 salt-minion: [INFO    ] Executing command 'shutdown -r +1' in directory '/root'
        Nov 29 02:11:40 web07 systemd-logind: System is rebooting.
        Nov 29 02:11:40 web07 systemd: Stopped target Multi-User System.
        Nov 29 02:11:41 web07 systemd: Stopping System Logging Service...
        Nov 29 02:11:41 web07 rsyslogd: [origin software="rsyslogd" swVersion="8.24.0-41.el7_7" x-pid="1034" x-info="http://www.rsyslog.com"] exiting on signal 15.
        Nov 29 03:02:17 web07 kernel: Initializing cgroup subsys cpuset
        Nov 29 03:02:17 web07 kernel: Initializing cgroup subsys cpu
        Nov 29 03:02:17 web07 kernel: Initializing cgroup subsys cpuacct
        Nov 29 03:02:17 web07 kernel: Linux version 3.10.0-1062.1.2.el7.x86_64 (mockbuild@kbuilder.bsys.centos.org) (gcc version 4.8.5 20150623 (Red Hat 4.8.5-39) (GCC) ) #1 SMP Mon Sep 30 14:19:46 UTC 2019
        Nov 29 03:02:17 web07 kernel: Command line: BOOT_IMAGE=/vmlinuz-3.10.0-1062.1.2.el7.x86_64 root=/dev/mapper/centos-root ro crashkernel=auto rd.lvm.lv=centos/root rd.lvm.lv=centos/swap rhgb quiet
        Nov 29 03:02:49 web07 systemd: Startup finished in 702ms (kernel) + 2.101s (initrd) + 29.110s (userspace) = 31.913s.

        """

    func testSeed002TheRebootAfterTheKernelUpdateWasGracefulAndItsLastWordsAreItsOwn() throws {
        let dir = try logDirectory("centos7", ["messages": Self.centos, "secure": ""], modified: "2026-11-29T04:00:00Z")
        let v = try lastJSON(dir, boot: "2")
        XCTAssertEqual(v["bootstat"] as? String, "reboot,graceful,", "\(v)")
        XCTAssertNotEqual(v["confidence"] as? String, "high", "text-log claims never reach high")
        let lastSeen = try XCTUnwrap(v["last_seen"] as? String)
        let expected = try XCTUnwrap(SyslogFileScan.localInstant(year: 2026, month: 11, day: 29, second: 2 * 3600 + 11 * 60 + 41))
        XCTAssertEqual(lastSeen, expected.iso8601, "rsyslogd's exit, not the next boot's cgroup lines")
        XCTAssertTrue(excerpts(v, stance: "supports").contains { $0.hasPrefix("systemd-logind: System is rebooting. (") && $0.hasSuffix("/syslog/messages:8)") },
                      "\(excerpts(v))")
    }

    // MARK: - Debian 12 / Ubuntu 24.04: RFC 3339, rotations, gzip

    static func stamp(_ day: Int, _ time: String) -> String { "2026-11-\(day)T\(time).000001+00:00" }
    static func debian(_ day: Int, _ time: String) -> String { stamp(day, time) + " web01" }

    func debianHost(_ name: String) throws -> URL {
        let d = Self.debian
        // Boot 1 (syslog.2.gz), boot 2 ended by alice's sudo reboot (syslog.1), boot 3 ended by OOM then a reset (syslog).
        let old = """
        \(d(20, "08:00:00")) kernel: [    0.000000] Linux version 6.1.0-25-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.106-3
        \(d(20, "08:00:20")) systemd[1]: Startup finished in 2.1s (kernel) + 18.0s (userspace) = 20.1s.
        \(d(27, "07:59:58")) systemd-logind[612]: System is powering down.
        \(d(27, "07:59:59")) rsyslogd: [origin software="rsyslogd" swVersion="8.2302.0" x-pid="510" x-info="https://www.rsyslog.com"] exiting on signal 15.

        """
        let middle = """
        \(d(28, "09:00:00")) kernel: [    0.000000] Linux version 6.1.0-26-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.112-1
        \(d(28, "09:00:21")) systemd[1]: Startup finished in 2.0s (kernel) + 19.0s (userspace) = 21.0s.
        \(d(29, "09:59:58")) systemd-logind[612]: System is rebooting.
        \(d(29, "09:59:59")) systemd[1]: Stopping System Logging Service...
        \(d(29, "09:59:59")) rsyslogd: [origin software="rsyslogd" swVersion="8.2302.0" x-pid="511" x-info="https://www.rsyslog.com"] exiting on signal 15.

        """
        let current = """
        \(d(29, "10:01:00")) kernel: [    0.000000] Linux version 6.1.0-26-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.112-1
        \(d(29, "10:01:21")) systemd[1]: Startup finished in 2.0s (kernel) + 19.0s (userspace) = 21.0s.
        \(d(30, "03:00:00")) systemd[1]: app.service: Scheduled restart job, restart counter is at 412.
        \(d(30, "03:10:02")) kernel: [61742.123456] java invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0
        \(d(30, "03:10:02")) kernel: [61742.123999] Out of memory: Killed process 3100 (java) total-vm:7582132kB, anon-rss:7420324kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:14000kB oom_score_adj:0
        \(d(30, "03:10:40")) systemd[1]: app.service: Scheduled restart job, restart counter is at 413.
        \(d(30, "03:11:00")) kernel: [    0.000000] Linux version 6.1.0-26-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.112-1
        \(d(30, "03:11:03")) kernel: [    3.201000] EXT4-fs (vda1): recovery complete
        \(d(30, "03:11:21")) systemd[1]: Startup finished in 2.0s (kernel) + 19.0s (userspace) = 21.0s.

        """
        let auth1 = """
        \(d(29, "09:40:00")) sshd[900]: Accepted publickey for alice from 10.10.10.34 port 51633 ssh2: ED25519 SHA256:abc
        \(d(29, "09:40:00")) sshd[900]: pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)
        \(d(29, "09:59:57")) sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/sbin/reboot
        \(d(29, "09:59:57")) sudo: pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)

        """
        let files = ["syslog.2.gz": old, "syslog.1": middle, "syslog": current, "auth.log.1": auth1, "auth.log": ""]
        return try logDirectory(name, files, modified: "2026-11-30T04:00:00Z", gzip: ["syslog.2.gz"])
    }

    func testDebianRotationsNameAliceAndHerSSHClientForOneRebootAndAnOOMBeforeTheResetForTheNext() throws {
        let dir = try debianHost("debian")
        // No running boot here (a copy): --boot 1 is the newest listed, 2 the OOM one, 3 alice's.
        let alice = try lastJSON(dir, boot: "3")
        XCTAssertEqual(alice["bootstat"] as? String, "reboot,user,alice", "\(alice)")
        XCTAssertEqual(alice["confidence"] as? String, "medium")
        XCTAssertTrue((alice["summary"] as? String ?? "").contains("ssh from 10.10.10.34:51633"), "\(alice["summary"] ?? "")")
        XCTAssertTrue(excerpts(alice, stance: "supports").contains {
            $0.hasPrefix("sudo: alice on pts/0 ran `/usr/sbin/reboot` (") && $0.contains("/syslog/auth.log.1:3), logged in by ssh from 10.10.10.34:51633 (")
                && $0.hasSuffix("/syslog/auth.log.1:1)")
        }, "each claim says where it was read: \(excerpts(alice))")
        let oom = try lastJSON(dir, boot: "2")
        XCTAssertEqual([oom["reason"] as? String, oom["subreason"] as? String], ["hard_reset", "oom_then_reset"], "\(oom)")
        XCTAssertTrue(excerpts(oom, stance: "supports").contains { $0.contains("recovery complete") && $0.contains("/syslog/syslog:8)") },
                      "\(excerpts(oom))")
        XCTAssertEqual((oom["crash_loop"] as? [String: Any])?["count"] as? Int, 413)
        let powerOff = try lastJSON(dir, boot: "4")
        XCTAssertEqual(powerOff["reason"] as? String, "poweroff", "from the gzip rotation: \(powerOff)")

        let list = try runProgram(Built.witness, ["last", "--list", "--json", "--journal-dir", dir.appendingPathComponent("journal").path, "--syslog-dir", dir.appendingPathComponent("syslog").path,
                                                  "--store", "/nonexistent", "--audit-dir", "/nonexistent", "--wtmp", "/nonexistent"])
        XCTAssertEqual(list.status, 0, list.stderr)
        let bootstats = list.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .map { $0["bootstat"] as? String ?? "-" }
        XCTAssertEqual(bootstats.dropFirst(), ["hard_reset,oom_then_reset,", "reboot,user,alice", "poweroff,graceful,"], list.stdout)
    }

    /// The audit log is written by the kernel and root only: where it kept
    /// the boot and has no USER_CMD for a sudo line, the line is a claim it contradicts.
    func testASudoLineTheAuditLogDoesNotConfirmNamesNobody() throws {
        let dir = try debianHost("unconfirmed")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("audit"), withIntermediateDirectories: true)
        let audit = "type=SERVICE_START msg=audit(1795946300.100:50): pid=1 uid=0 auid=4294967295 ses=4294967295 subj=unconfined msg='unit=cron comm=\"systemd\" exe=\"/usr/lib/systemd/systemd\" hostname=? addr=? terminal=? res=success'\u{1d}UID=\"root\" AUID=\"unset\"\n"
        let log = dir.appendingPathComponent("audit/audit.log")
        try audit.write(to: log, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: log.path)
        let v = try lastJSON(dir, boot: "3")
        XCTAssertEqual(v["bootstat"] as? String, "reboot,graceful,", "\(v)")
        XCTAssertTrue(excerpts(v, stance: "contradicts").contains {
            $0 == "a sudo line naming alice (`/usr/sbin/reboot`) that the audit log does not confirm (no USER_CMD): not evidence"
        }, "\(excerpts(v))")
    }

    func testALogSomeoneElseOwnsOrCanWriteIsNotRead() throws {
        let dir = try debianHost("owned")
        let auth = dir.appendingPathComponent("syslog/auth.log.1").path
        chown(auth, 1000, 1000)
        let v = try lastJSON(dir, boot: "3")
        XCTAssertEqual(v["bootstat"] as? String, "reboot,graceful,", "\(v)")
        XCTAssertTrue(excerpts(v, stance: "note").contains { $0.hasSuffix("auth.log.1 not read: owned by uid 1000, not root or syslog") },
                      "\(excerpts(v))")
    }

    // MARK: - Bad input

    func testJunkTruncationRemoteHostsAndClockStepsAreNotedAndTheVerdictGoesOn() throws {
        let d = Self.debian
        let current = """
        \(d(29, "10:01:00")) kernel: [    0.000000] Linux version 6.1.0-26-amd64 (debian-kernel@lists.debian.org) #1 SMP
        \u{0}\u{0}\u{0}\u{0} binary junk \u{1}\u{2}
        a line with no stamp
        \(Self.stamp(29, "10:02:00")) otherhost sudo:    mallory : TTY=pts/9 ; PWD=/ ; USER=root ; COMMAND=/usr/sbin/reboot
        \(d(29, "09:00:00")) systemd[1]: the clock stepped back
        \(d(29, "10:05:00")) systemd-logind[612]: System is powering down.
        \(d(29, "10:06:00")) kernel: [    0.000000] Linux version 6.1.0-26-amd64 (debian-kernel@lists.debian.org) #1 SMP

        """
        var bytes = Array(current.utf8)
        bytes.insert(contentsOf: [0xff, 0xfe, 0x0a], at: bytes.count / 2)
        let dir = try logDirectory("junk", ["syslog.1.gz": String(repeating: d(28, "00:00:00") + " kernel: filler\n", count: 2000)],
                                   modified: "2026-11-30T04:00:00Z", gzip: ["syslog.1.gz"])
        let logs = dir.appendingPathComponent("syslog")
        try Data(bytes).write(to: logs.appendingPathComponent("syslog"))
        // A rotation cut short: the gzip stream ends in the middle.
        let gz = logs.appendingPathComponent("syslog.1.gz")
        let whole = try Data(contentsOf: gz)
        try whole.prefix(whole.count / 2).write(to: gz)
        let v = try lastJSON(dir, boot: "2")
        XCTAssertEqual(v["reason"] as? String, "poweroff", "\(v)")
        XCTAssertFalse((v["summary"] as? String ?? "").contains("mallory"), "a remote host's line is not this host's")
        let notes = excerpts(v, stance: "note").joined(separator: "\n")
        for expected in ["line(s) from host otherhost (remote syslog) not used", "line(s) with no syslog stamp, host and tag",
                         "the time went backward 1 time(s)"] {
            XCTAssertTrue(notes.contains(expected), "\(expected) in \(excerpts(v, stance: "note"))")
        }
        // The boot before, whose start was rotated away, is told from the truncated rotation: so far as it goes.
        let older = try lastJSON(dir, boot: "3")
        XCTAssertTrue(excerpts(older, stance: "note").contains { $0.contains("syslog.1.gz: read stopped at line ") && $0.hasSuffix(": unexpected end of file") }
                      && excerpts(older, stance: "note").contains { $0.contains("begins inside a boot: its start was rotated away") },
                      "\(excerpts(older, stance: "note"))")
    }

    /// Debian's rsyslog reads the kernel's lines (imklog) when it starts,
    /// after the early lines journald forwarded and the socket kept: the
    /// next boot begins at PID 1's first line, not at the kernel's, and the
    /// boot before keeps its own last words. dracut's initrd manager before
    /// the root's is one boot; a manager after "Startup finished" with no
    /// kernel line is a soft reboot.
    func testABootBeginsAtPID1sFirstLineWhenTheKernelsLinesAreLoggedLate() throws {
        let d = Self.debian
        let text = """
        \(d(29, "10:00:00")) kernel: [    0.000000] Linux version 6.1.0-26-amd64 (x) #1 SMP
        \(d(29, "10:00:01")) systemd[1]: systemd 252.30-1~deb12u2 running in system mode (+PAM +AUDIT)
        \(d(29, "10:00:20")) systemd[1]: Startup finished in 2.0s (kernel) + 18.0s (userspace) = 20.0s.
        \(d(29, "11:00:00")) rw-scenario: last words
        \(d(29, "11:01:01")) systemd[1]: systemd 252.30-1~deb12u2 running in system mode (+PAM +AUDIT)
        \(d(29, "11:01:02")) systemd[1]: Starting systemd-journal-flush.service - Flush Journal to Persistent Storage...
        \(d(29, "11:01:20")) kernel: [    0.000000] Linux version 6.1.0-26-amd64 (x) #1 SMP
        \(d(29, "11:01:20")) kernel: [   13.031119] EXT4-fs (vda): recovery complete
        \(d(29, "11:01:40")) systemd[1]: Startup finished in 2.0s (kernel) + 38.0s (userspace) = 40.0s.
        \(d(29, "12:00:00")) systemd[1]: systemd 257.9-1~deb13u1 running in system mode (+PAM +AUDIT)
        \(d(29, "12:00:09")) systemd[1]: Startup finished in 9.0s (userspace).

        """
        let dir = try logDirectory("imklog-late", ["syslog": text])
        let boots = SyslogSource(directory: dir.appendingPathComponent("syslog").path).boots(newest: nil)
        XCTAssertEqual(boots.count, 3, "\(boots.map { $0.start?.iso8601 ?? "-" })")
        guard boots.count == 3 else { return }
        XCTAssertEqual(boots[0].tail.last?.line.message, "last words", "the early lines of the next boot are not the last words")
        XCTAssertEqual(boots[1].start, boots[1].managerLine?.time, "PID 1's stamp, 19 s before the kernel's line was read")
        XCTAssertEqual(boots[1].kernel, "6.1.0-26-amd64")
        XCTAssertNil(boots[2].startLine, "a soft reboot: no kernel line")
        XCTAssertTrue(boots[2].managerLine?.line.message.hasPrefix("systemd 257") ?? false)
    }

    /// What QEMU's syslog-oom-reset met: after a reset, journald forwards
    /// the new boot's early lines (their own stamps) before rsyslog's imklog
    /// reads the kernel's ring (stamped when read, half a minute later), and
    /// PID 1's first line comes with the kernel's. More early lines than the
    /// last-lines ring holds: the old boot's last words survive by the quiet
    /// gap before the reset, and the kernel's clock ("[ 31.2 ]" at the read)
    /// puts the early lines in the new boot.
    func testTheNextBootsEarlyLinesBeforeItsKernelLinesAreNotTheLastWordsOfTheBootBefore() throws {
        let d = Self.debian
        var text = """
        \(d(29, "10:40:00")) kernel: [    0.000000] Linux version 6.1.0-26-amd64 (x) #1 SMP
        \(d(29, "10:40:00")) kernel: [   19.800000] EXT4-fs (vda): mounted filesystem
        \(d(29, "10:40:01")) systemd[1]: Startup finished in 2.0s (kernel) + 18.0s (userspace) = 20.0s.
        \(d(29, "10:42:33")) kernel: [  171.263152] oom-kill:constraint=CONSTRAINT_MEMCG,task=tail,pid=200,uid=0
        \(d(29, "10:42:34")) rw-scenario: last words 1
        \(d(29, "10:42:34")) rw-scenario: last words 3

        """
        for n in 0..<20 { text += "\(d(29, "10:42:\(40 + n)")) systemd[1]: Starting early-\(n).service - Early \(n)...\n" }
        text += """
        \(d(29, "10:43:10")) kernel: [    0.000000] Linux version 6.1.0-26-amd64 (x) #1 SMP
        \(d(29, "10:43:10")) systemd[1]: systemd 252.30-1~deb12u2 running in system mode (+PAM +AUDIT)
        \(d(29, "10:43:10")) kernel: [   13.031119] EXT4-fs (vda): recovery complete
        \(d(29, "10:43:10")) kernel: [   31.200000] rsyslogd started imklog
        \(d(29, "10:43:12")) systemd[1]: Startup finished in 2.0s (kernel) + 29.0s (userspace) = 31.0s.

        """
        let dir = try logDirectory("imklog-late-forwarded", ["syslog": text])
        let boots = SyslogSource(directory: dir.appendingPathComponent("syslog").path).boots(newest: nil)
        XCTAssertEqual(boots.count, 2, "\(boots.map { $0.start?.iso8601 ?? "-" })")
        guard boots.count == 2 else { return }
        XCTAssertEqual(boots[0].tail.last?.line.message, "last words 3", "\(boots[0].tail.map(\.line.message))")
        XCTAssertEqual(boots[0].last, boots[0].tail.last?.time, "its last sign of life")
        XCTAssertTrue(boots[1].tail.contains { $0.line.message.hasPrefix("Starting early-") } || boots[1].telling.contains { $0.line.message.hasPrefix("Starting early-") },
                      "the early lines are the new boot's")
        XCTAssertTrue(SyslogEvidence.uncleanMarkers(nextBoot: boots[1]).contains { $0.message.contains("recovery complete") })
    }

    func testALogLargerThanTheLimitIsReadFromItsNewestPart() throws {
        let d = Self.debian
        let dir = try logDirectory("large", ["syslog": ""])
        let path = dir.appendingPathComponent("syslog/syslog").path
        let filler = String(repeating: d(29, "09:00:00") + " cron[1]: filler line to pass the limit\n", count: 20_000)
        let tail = "\(d(29, "10:01:00")) kernel: [    0.000000] Linux version 6.1.0-26-amd64 (x) #1 SMP\n"
            + "\(d(29, "10:05:00")) systemd-logind[612]: System is rebooting.\n"
            + "\(d(29, "10:06:00")) kernel: [    0.000000] Linux version 6.1.0-26-amd64 (x) #1 SMP\n"
        try (filler + tail).write(toFile: path, atomically: true, encoding: .utf8)
        let source = SyslogSource(directory: dir.appendingPathComponent("syslog").path, budget: 64 << 10)
        let boots = source.boots(newest: nil)
        XCTAssertEqual(boots.filter { $0.start != nil }.count, 2)
        XCTAssertTrue(boots.flatMap(\.notes).contains { $0.contains("bytes not read (larger than the limit)") }, "\(boots.flatMap(\.notes))")
    }
}
