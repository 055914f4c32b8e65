@testable import WitnessEvidence
@testable import WitnessReport
import WitnessModel
import WitnessSystem
import XCTest

/// The BMC's account of a reset: SEL records as IPMI 2.0 lays them out,
/// matched to the boot whose end they fall in, and trusted only when the
/// BMC itself wrote them.
final class BMCEvidenceTests: XCTestCase, VerdictFixtures {
    /// A system event record (type 0x02) as Get SEL Entry returns it.
    func sel(id: UInt16, time: UInt32, generator: UInt16 = 0x0020, sensorType: UInt8, offset: UInt8,
             deasserted: Bool = false, data2: UInt8 = 0xFF) -> SELRecord {
        let bytes: [UInt8] = [UInt8(id & 0xFF), UInt8(id >> 8), 0x02,
                              UInt8(time & 0xFF), UInt8(time >> 8 & 0xFF), UInt8(time >> 16 & 0xFF), UInt8(time >> 24),
                              UInt8(generator & 0xFF), UInt8(generator >> 8), 0x04, sensorType, 0x01,
                              0x6F | (deasserted ? 0x80 : 0), 0xC0 | offset, data2, 0xFF]
        return SELRecord(bytes[...])!
    }

    static let lastSeen = Instant(iso8601: "2026-01-01T09:59:55.000Z")!
    var seconds: UInt32 { UInt32(Self.lastSeen.microseconds / 1_000_000) }

    func testAWatchdogTwoHardResetFromTheBMCIsAResetByTheBMCsWatchdog() throws {
        let record = sel(id: 7, time: seconds + 12, sensorType: 0x23, offset: 1)
        XCTAssertEqual(record.ending, .watchdog("hard reset"))
        XCTAssertTrue(record.fromBMC)
        XCTAssertEqual(record.time, Instant(seconds: Int64(seconds + 12)))
        let facts = try gathered([record])
        let v = VerdictEngine.decide(facts)
        XCTAssertEqual(v.triple + [v.detail], ["hard_reset", "bmc_watchdog", "medium", "hard reset"])
        XCTAssertTrue(v.summary.contains("at 2026-01-01T10:00:07.000Z (the BMC's time, on the host's clock)"), v.summary)
        XCTAssertTrue(v.evidence.contains { $0.source == .bmc && $0.supports && $0.excerpt.hasPrefix("SEL 0x7 ") }, "\(v.evidence)")
    }

    func testTheBMCsWatchdogOutranksTheWitnessesHuntButNotAPanicInPstore() throws {
        var facts = try gathered([sel(id: 7, time: seconds + 12, sensorType: 0x23, offset: 3)])
        facts.watchdog = [WatchdogRecord(bootID: "b1", time: "2026-01-01T10:00:00.000Z", device: "watchdog0", timeoutSeconds: 10,
                                         sinceKeepaliveSeconds: 9.5, keepalives: 3, lastKeepaliveBootNs: 1,
                                         lastKeepaliveTime: "2026-01-01T09:59:52.000Z",
                                         pinger: .init(pid: 812, tid: 812, comm: "starver", exe: "/usr/local/bin/starver", state: "S",
                                                       stateName: "sleeping", wchan: "do_nanosleep", kernelStack: []))]
        let v = VerdictEngine.decide(facts)
        XCTAssertEqual(v.triple + [v.detail], ["hard_reset", "bmc_watchdog", "medium", "power cycle"])
        XCTAssertTrue(v.evidence.contains { $0.excerpt.contains("starver") }, "the hunt says who stopped feeding it: \(v.evidence)")
        facts.pstore = [PstoreRecord.from(file: "/sys/fs/pstore/dmesg-ramoops-0", text: """
            Panic#1 Part1
            <0>[   40.1] Kernel panic - not syncing: Out of memory and no killable processes
            """, bootID: "b1", time: nil)]
        XCTAssertEqual(VerdictEngine.decide(facts).triple, ["panic", "oom", "high"])
    }

    func testChassisControlButtonsAndPowerEachNameTheirReset() throws {
        let cases: [(SELRecord, String, String)] = [
            (sel(id: 1, time: seconds + 5, sensorType: 0x1D, offset: 7, data2: 0x01), "chassis_control", "chassis control command"),
            (sel(id: 2, time: seconds + 5, sensorType: 0x09, offset: 1), "chassis_control", "power cycle"),
            (sel(id: 3, time: seconds + 5, sensorType: 0x14, offset: 2), "power_button", "reset button pressed"),
            (sel(id: 4, time: seconds + 5, sensorType: 0x09, offset: 4), "power_failure", "AC lost"),
        ]
        for (record, subreason, detail) in cases {
            let v = VerdictEngine.decide(try gathered([record]))
            XCTAssertEqual([v.reason.rawValue, v.subreason.rawValue, v.detail], ["hard_reset", subreason, detail], record.line)
        }
    }

    func testRecordsOutsideTheBootsEndOrDeassertedOrUntimedSayNothing() throws {
        let records = [sel(id: 1, time: seconds - 3600, sensorType: 0x23, offset: 1),  // an hour before the end
                       sel(id: 2, time: seconds + 10, sensorType: 0x23, offset: 1, deasserted: true),
                       sel(id: 3, time: 0x0000_1234, sensorType: 0x23, offset: 1),  // the BMC's clock unset
                       sel(id: 4, time: seconds + 10, sensorType: 0x01, offset: 1)]  // a temperature sensor
        XCTAssertNil(records[2].time, "a time from the BMC's own start is not a date")
        XCTAssertTrue(records[2].line.contains("BMC clock unset"), records[2].line)
        let v = VerdictEngine.decide(try gathered(records))
        XCTAssertEqual(v.triple, ["hard_reset", "no_shutdown_path", "medium"])
    }

    func testAnEntryWrittenBySoftwareOnTheHostIsAClaimNotEvidence() throws {
        // Root on the host can add SEL entries (Add SEL Entry): generator 0x0041 is system software.
        let forged = sel(id: 9, time: seconds + 12, generator: 0x0041, sensorType: 0x23, offset: 1)
        XCTAssertFalse(forged.fromBMC)
        let v = VerdictEngine.decide(try gathered([forged]))
        XCTAssertEqual(v.triple, ["hard_reset", "no_shutdown_path", "medium"])
        XCTAssertTrue(v.evidence.contains { $0.stance == .contradicts && $0.excerpt.contains("written by software on the host") },
                      "\(v.evidence)")
    }

    /// Add SEL Entry stores any record root on the host sends, generator id
    /// included: [reboot -f by mallory, then a forged "BMC watchdog" entry]
    /// still says who rebooted.
    func testAForgedSELEntryNeverOutranksARecordedReboot() throws {
        var facts = try gathered([sel(id: 9, time: seconds + 2, generator: 0x0020, sensorType: 0x23, offset: 1)])
        facts.records = [caller(comm: "reboot", time: "2026-01-01T09:59:56.000Z")]
        let v = VerdictEngine.decide(facts)
        XCTAssertEqual(v.reason, .reboot, v.summary)
        XCTAssertEqual(v.confidence, .high)
    }

    func testAWatchdogThatExpiredInTheFirmwareOrAnotherEventTypeEndsNoBoot() {
        // Event data 2's timer use: 1 BIOS FRB2, 2 BIOS/POST (data 1 bits 7:6 = 0b11 say data 2 is set).
        XCTAssertNil(sel(id: 1, time: seconds, sensorType: 0x23, offset: 1, data2: 0x01).ending)
        XCTAssertNil(sel(id: 2, time: seconds, sensorType: 0x23, offset: 1, data2: 0x02).ending)
        XCTAssertEqual(sel(id: 3, time: seconds, sensorType: 0x23, offset: 1, data2: 0x04).ending, .watchdog("hard reset"))
        // A threshold event (type 0x01) on a power unit is no "AC lost".
        var threshold = Array(repeating: UInt8(0), count: 16)
        threshold[2] = 0x02; threshold[7] = 0x20; threshold[10] = 0x09; threshold[12] = 0x01; threshold[13] = 0x04
        XCTAssertNil(SELRecord(threshold[...])?.ending)
    }

    func testSELTimesArePutOnTheHostsClockByTheBMCsOffset() throws {
        // The BMC's clock is an hour ahead (local time kept by many BMCs).
        var reading = BMCReading(device: "/dev/ipmi0")
        reading.records = [sel(id: 7, time: seconds + 12 + 3600, sensorType: 0x23, offset: 1)]
        reading.clockOffset = 3600
        let v = VerdictEngine.decide(try gathered(reading, nextIsCurrent: false))
        XCTAssertEqual(v.subreason, .bmcWatchdog)
        XCTAssertTrue(v.summary.contains("at 2026-01-01T10:00:07.000Z"), v.summary)
        reading.clockOffset = 0
        XCTAssertEqual(VerdictEngine.decide(try gathered(reading, nextIsCurrent: false)).subreason, .noShutdownPath,
                       "uncorrected, the entry is an hour after the boot's end")
    }

    func testTheRestartCauseSpeaksOnlyOfTheBootBeforeThisOne() throws {
        var reading = BMCReading(device: "/dev/ipmi0")
        reading.restartCause = RestartCause(code: 0x4)
        reading.watchdog = BMCWatchdog([0x44, 0x01, 0x00, 0x10, 0x64, 0x00, 0x32, 0x00])
        XCTAssertEqual(reading.watchdog?.summary, "BMC watchdog: running, action hard reset, countdown 10.0 s, expired: SMS/OS")
        // As QEMU's BMC answers after the expiry: "started" echoed, no countdown left.
        XCTAssertEqual(BMCWatchdog([0x44, 0x01, 0x00, 0x10, 0x64, 0x00, 0x00, 0x00])?.running, false)
        let v = VerdictEngine.decide(try gathered(reading, nextIsCurrent: true))
        XCTAssertEqual(v.triple + [v.detail], ["hard_reset", "bmc_watchdog", "medium", "watchdog expiration"])
        XCTAssertTrue(v.evidence.contains { $0.excerpt.contains("expired: SMS/OS") && $0.stance == .note })
        let older = VerdictEngine.decide(try gathered(reading, nextIsCurrent: false))
        XCTAssertEqual(older.subreason, .noShutdownPath, "an older boot's end is not this boot's restart cause")
    }

    func testAShortOrMalformedAnswerIsNoRecord() {
        XCTAssertNil(SELRecord([UInt8](repeating: 0, count: 15)[...]))
        XCTAssertNil(SELRecord([UInt8](repeating: 0, count: 17)[...]))
        XCTAssertNil(BMCWatchdog([0x44, 0x01]))
        XCTAssertEqual(BMCWatchdog([0x04, 0x07, 0, 0, 0, 0])?.actionWords, "reserved action 7")
        // An OEM record without a timestamp (type 0xE0) has no time and ends nothing.
        var oem = [UInt8](repeating: 0xFF, count: 16)
        oem[2] = 0xE0
        XCTAssertNil(SELRecord(oem[...])?.time)
        XCTAssertNil(SELRecord(oem[...])?.ending)
    }

    func testAMachineWithoutABMCSaysNothingAndADeviceThatRefusesIsOneNote() throws {
        XCTAssertNil(BMCReading.read(device: "/nonexistent/ipmi0"))
        // /dev/null opens but is no IPMI device: its ioctl refuses (ENOTTY).
        let refused = try XCTUnwrap(BMCReading.read(device: "/dev/null"))
        XCTAssertEqual(refused.notes.count, 1)
        XCTAssertTrue(refused.notes[0].contains("Get Device ID failed") && refused.notes[0].contains("ENOTTY"), refused.notes[0])
        XCTAssertTrue(refused.records.isEmpty)
    }

    // MARK: -

    func gathered(_ records: [SELRecord]) throws -> BootFacts {
        var reading = BMCReading(device: "/dev/ipmi0")
        reading.records = records
        return try gathered(reading, nextIsCurrent: false)
    }

    /// Armed, alive at 09:59:55, no clean stop; the next boot started at 10:01.
    func gathered(_ reading: BMCReading, nextIsCurrent: Bool) throws -> BootFacts {
        var boot = BootTimeline.Boot(id: "b1")
        boot.start = Instant(iso8601: "2026-01-01T09:00:00.000Z")
        var next = BootTimeline.Boot(id: "b2")
        next.start = Instant(iso8601: "2026-01-01T10:01:00.000Z")
        next.isCurrent = nextIsCurrent
        var f = facts { $0.lastSeen = "2026-01-01T09:59:55.000Z" }
        FactGathering.bmc(boot, next: next, reading, &f)
        return f
    }
}
