@testable import WitnessEvidence
import WitnessSystem
import XCTest

/// The exact line shapes rsyslog's two file templates write, as RHEL/CentOS
/// 7 (imjournal: no pid for native journal senders), RHEL 8/9, Debian ≤ 11
/// (traditional, imklog's printk time) and Debian 12 / Ubuntu 24.04
/// (RFC 3339) have them.
final class SyslogLineTests: XCTestCase {
    func line(_ text: String) throws -> SyslogLine { try XCTUnwrap(SyslogLine(Array(text.utf8)), text) }

    func testRSYSLOGTraditionalFileFormatAsCentOS7WritesIt() throws {
        let boot = try line("Dec 23 13:16:58 localhost kernel: Linux version 3.10.0-1160.el7.x86_64 (mockbuild@kbuilder.bsys.centos.org) (gcc version 4.8.5 20150623 (Red Hat 4.8.5-44) (GCC) ) #1 SMP Mon Oct 19 16:18:59 UTC 2020")
        XCTAssertEqual(boot.stamp, .rfc3164(month: 12, day: 23, seconds: 13 * 3600 + 16 * 60 + 58))
        XCTAssertEqual([boot.host, boot.ident], ["localhost", "kernel"])
        XCTAssertNil(boot.pid)
        XCTAssertTrue(boot.message.hasPrefix("Linux version 3.10.0-1160.el7.x86_64 (mockbuild@"))
        let logind = try line("Apr 22 13:58:03 localhost systemd-logind: New session 4 of user vagrant.")
        XCTAssertEqual([logind.ident, logind.message], ["systemd-logind", "New session 4 of user vagrant."])
        let sshd = try line("Jul 31 08:35:29 oda1db01 sshd[87883]: Accepted password for root from 10.10.10.34 port 51633 ssh2")
        XCTAssertEqual(sshd.pid, 87883)
        XCTAssertEqual(sshd.quoted, "sshd[87883]: Accepted password for root from 10.10.10.34 port 51633 ssh2")
        // The day is padded with a space.
        XCTAssertEqual(try line("Jun  9 01:02:03 h sudo:  usuario : TTY=pts/0 ; PWD=/home/usuario ; USER=root ; COMMAND=/usr/sbin/reboot").stamp,
                       .rfc3164(month: 6, day: 9, seconds: 3723))
    }

    func testRSYSLOGFileFormatAsDebian12AndUbuntu2404WriteIt() throws {
        let sshd = try line("2026-04-21T09:37:11.784716+00:00 minitwit-app sshd[3925975]: Accepted publickey for root from 52.161.50.37 port 44034 ssh2: ED25519 SHA256:iVsayaUOt4pfhUW1gnZmrYyNnTMdM2O2nw67EkRqFEY")
        XCTAssertEqual(sshd.stamp, .rfc3339(Instant(seconds: 1_776_764_231, microseconds: 784_716)))
        XCTAssertEqual(sshd.pid, 3_925_975)
        let zoned = try line("2026-11-29T10:00:02.000001+01:00 host systemd-logind[612]: System is rebooting.")
        XCTAssertEqual(zoned.stamp, .rfc3339(Instant(seconds: 1_795_946_402 - 3600, microseconds: 1)))
        XCTAssertEqual([zoned.ident, zoned.message], ["systemd-logind", "System is rebooting."])
        XCTAssertEqual(try line("2026-11-29T09:00:02Z h kernel: x").stamp, .rfc3339(Instant(seconds: 1_795_942_802)))
    }

    func testDebiansImklogKeepsThePrintkTimeInTheBootLine() throws {
        let bytes = Array("Dec 30 10:24:25 WORKHORSE kernel: [    0.000000] Linux version 3.2.0-35-generic-pae (buildd@aatxe) #55-Ubuntu SMP".utf8)
        let fields = try XCTUnwrap(SyslogLine.Fields(bytes))
        XCTAssertEqual(SyslogTelling.kind(bytes[...], fields), .bootStart)
        let mention = Array("Dec 30 10:24:25 WORKHORSE kernel: audit: Linux version mentioned later".utf8)
        XCTAssertNotEqual(SyslogTelling.kind(mention[...], try XCTUnwrap(SyslogLine.Fields(mention))), .bootStart)
    }

    func testLinesThatAreNotSyslogAreRefusedNotGuessed() {
        for text in ["", "continuation of a stack trace", "Jul 31 08:35:29", "Jul 31 08:35:29 host", "Foo 31 08:35:29 h t: m",
                     "Jul 32 08:35:29 h t: m", "2026-13-01T00:00:00Z h t: m", "2026-01-01T00:00:00 h t: m",
                     "Jul 31 08:35:29 host no-colon-tag message", "\u{0}\u{1}\u{2}binary"] {
            XCTAssertNil(SyslogLine(Array(text.utf8)), text)
        }
        XCTAssertNil(SyslogLine([0xff, 0xfe, 0x00, 0x4a, 0x75, 0x6c]))
    }
}
