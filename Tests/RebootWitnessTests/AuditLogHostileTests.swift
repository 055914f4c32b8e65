import Foundation
@testable import WitnessEvidence
import WitnessSystem
import XCTest

/// The audit log under hostile shapes: bounded work for libauparse, fields
/// kept whatever their length, and only what root and the right sender wrote.
final class AuditLogHostileTests: XCTestCase {
    let start = JournalFixture.epoch / 1_000_000

    func line(_ type: String, _ second: Int64, _ serial: Int, _ body: String) -> String {
        "type=\(type) msg=audit(\(start + second).123:\(serial)): \(body)\n"
    }

    func sudo(_ second: Int64, serial: Int, cwd: String = "/home/alice", exe: String = "/usr/bin/sudo") -> String {
        line("USER_CMD", second, serial, "pid=1500 uid=1000 auid=1000 ses=4 subj=unconfined msg='cwd=\"\(cwd)\" "
             + "cmd=7265626F6F74 exe=\"\(exe)\" terminal=pts/0 res=success'")
    }

    func read(_ text: String, mode: mode_t = 0o600, owner: uid_t = 0) throws -> AuditLog.Reading {
        let dir = try temporaryDirectory("audit-hostile")
        let file = dir.appendingPathComponent("audit.log")
        try text.write(to: file, atomically: false, encoding: .utf8)
        chmod(file.path, mode)
        chown(file.path, owner, owner)
        return try AuditLog.read(directory: dir.path, from: Instant(seconds: start)).get()
    }

    /// SYSCALL records with no EOE, all in one second, once took libauparse
    /// minutes to group: only the record types read reach it now.
    func testTenMegabytesOfUngroupedSyscallRecordsCostSeconds() throws {
        var text = ""
        let syscall = line("SYSCALL", 5, 1, "arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=2 ppid=1 pid=2 auid=0 uid=0 comm=\"x\" exe=\"/bin/x\" key=(null)")
        text.reserveCapacity(11 << 20)
        while text.utf8.count < 10 << 20 { text += syscall }
        text += sudo(6, serial: 99)
        let started = Date()
        let reading = try read(text)
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        XCTAssertEqual(AuditLog.userCommands(reading.events).map(\.command), ["reboot"])
    }

    func testALongCommandLineNeverPushesResOutOfTheEvent() throws {
        let reading = try read(sudo(5, serial: 1, cwd: "/" + String(repeating: "d", count: 3000)))
        XCTAssertEqual(reading.events.first?["res"], "success")
        // The user is the login uid, as auparse names it on this host.
        XCTAssertEqual(AuditLog.userCommands(reading.events).first?.user, reading.events.first?["auid"])
        XCTAssertNotNil(reading.events.first?["auid"])
    }

    func testALogOthersCouldWriteIsNotRead() throws {
        var reading = try read(sudo(5, serial: 1), mode: 0o666)
        XCTAssertTrue(reading.events.isEmpty)
        XCTAssertTrue(reading.notes.contains { $0.contains("not read: writable by anyone") }, "\(reading.notes)")
        reading = try read(sudo(5, serial: 1), owner: 1000)
        XCTAssertTrue(reading.notes.contains { $0.contains("not read: owned by uid 1000") }, "\(reading.notes)")
    }

    func testAnEventFromAnotherSenderThanItsProgramIsNoEvidence() throws {
        let reading = try read(sudo(5, serial: 1, exe: "/usr/bin/python3.11")
                               + line("SERVICE_START", 6, 2, "pid=4711 uid=0 auid=1000 ses=4 msg='unit=reboot-now comm=\"sh\" exe=\"/bin/sh\" res=success'"))
        XCTAssertEqual(reading.events.compactMap(\.distrust),
                       ["a USER_CMD sent by /usr/bin/python3.11, not sudo", "a SERVICE_START not sent by PID 1"])
    }
}
