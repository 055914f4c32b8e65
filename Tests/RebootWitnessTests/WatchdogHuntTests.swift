import CWitness
import Foundation
@testable import WitnessArm
@testable import WitnessReport
import WitnessStore
import XCTest

final class WatchdogHuntTests: XCTestCase {
    func state(id: UInt32 = 0, lastPing: UInt64, timeout: UInt32 = 10, pid: UInt32, flags: UInt32 = 0) -> rw_watchdog_state {
        var s = rw_watchdog_state()
        s.id = id
        s.last_ping_ns = lastPing
        s.timeout_s = timeout
        s.pings = 4
        s.pinger_tgid = pid
        s.pinger_tid = pid
        s.flags = flags
        withUnsafeMutableBytes(of: &s.pinger_comm) { $0.copyBytes(from: Array("feeder".utf8)) }
        return s
    }

    func testStarvationIsReportedFromHalfTheTimeoutAndRefreshedAtMostEverySecond() {
        var hunt = WatchdogHunt()
        let me = UInt32(getpid())
        let ping: UInt64 = 100_000_000_000
        XCTAssertTrue(hunt.findings(in: [state(lastPing: ping, pid: me)], bootID: "b", now: Int64(ping) + 4_900_000_000).isEmpty,
                      "4.9 s of a 10 s timeout is not starving yet")
        let found = hunt.findings(in: [state(lastPing: ping, pid: me)], bootID: "b", now: Int64(ping) + 5_000_000_000)
        XCTAssertEqual(found.count, 1)
        let record = found[0]
        XCTAssertEqual(record.device, "watchdog0")
        XCTAssertEqual(record.sinceKeepaliveSeconds, 5.0, accuracy: 0.001)
        XCTAssertEqual(record.pinger.comm, "feeder")
        XCTAssertEqual(record.pinger.pid, me)
        XCTAssertEqual(record.pinger.state, "R", "this test's own thread is running while it reads /proc")
        XCTAssertNotNil(record.pinger.exe)
        XCTAssertTrue(record.summary.contains("no keepalive for 5.0 s of 10 s; last by feeder[\(me)]"), record.summary)
        XCTAssertTrue(hunt.findings(in: [state(lastPing: ping, pid: me)], bootID: "b", now: Int64(ping) + 5_500_000_000).isEmpty,
                      "rewritten at most once a second")
        XCTAssertEqual(hunt.findings(in: [state(lastPing: ping, pid: me)], bootID: "b", now: Int64(ping) + 6_000_000_000).count, 1)
    }

    func testAStoppedWatchdogOrAnExitedFeeder() {
        var hunt = WatchdogHunt()
        let magic = state(lastPing: 1, pid: 1, flags: RW_WD_CLOSED.rawValue | RW_WD_MAGIC_CLOSE.rawValue)
        XCTAssertTrue(hunt.findings(in: [magic], bootID: "b", now: 60_000_000_000).isEmpty, "closed with 'V': stopped")
        let gone = hunt.findings(in: [state(id: 1, lastPing: 1, pid: 0x7fff_fff0)], bootID: "b", now: 60_000_000_000)
        XCTAssertEqual(gone.first?.pinger.state, "gone")
        XCTAssertTrue(gone.first?.summary.contains("which has exited") == true)
    }

    func testSoftdogModeComesFromItsLoadMessage() {
        let log = "foo\nsoftdog: initialized. soft_noboot=0 soft_margin=60 sec soft_panic=0 (nowayout=0)\nbar"
        XCTAssertEqual(SoftdogConfiguration.softPanic(kernelLog: log), false)
        XCTAssertEqual(SoftdogConfiguration.softPanic(kernelLog: log + "\nsoftdog: initialized. soft_noboot=0 soft_margin=5 sec soft_panic=1 (nowayout=0)"), true)
        XCTAssertNil(SoftdogConfiguration.softPanic(kernelLog: "nothing here"))
    }

    func testSettingsAreRestoredFromTheirSavedOriginals() throws {
        let dir = try temporaryDirectory("settings")
        let knob = dir.appendingPathComponent("panic").path
        try "0\n".write(toFile: knob, atomically: false, encoding: .utf8)
        var settings = PanicSettings()
        try settings.set(knob, "10")
        try settings.set(knob, "20")  // the first original is the one kept
        try settings.save(to: dir.path)
        XCTAssertEqual(try String(contentsOfFile: knob, encoding: .utf8), "20\n")
        let loaded = try XCTUnwrap(PanicSettings.load(from: dir.path))
        XCTAssertEqual(loaded.changes.map(\.original), ["0"])
        XCTAssertEqual(loaded.restore(), [])
        XCTAssertEqual(try String(contentsOfFile: knob, encoding: .utf8), "0\n")
        XCTAssertThrowsError(try settings.set(dir.appendingPathComponent("missing").path, "1"))
    }

    func testWhereAPanicGoes() {
        let none = PanicSettings.Destinations(pstoreBackend: nil, kdumpLoaded: false, crashKexecPostNotifiers: nil)
        XCTAssertNotNil(none.refusal)
        let kdump = PanicSettings.Destinations(pstoreBackend: "ramoops", kdumpLoaded: true, crashKexecPostNotifiers: false)
        XCTAssertNil(kdump.refusal)
        XCTAssertTrue(kdump.description.contains("pstore never sees the panic"), kdump.description)
    }
}
