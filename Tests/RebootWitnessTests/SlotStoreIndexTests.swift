import Foundation
@testable import WitnessStore
@testable import WitnessModel
import XCTest

/// An opened store reads each record's index (kind, boot, retention) and
/// decodes a record whole only when it is read or merged: what it stores,
/// merges and gives back must be what a store that decoded everything did.
final class SlotStoreIndexTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = try temporaryDirectory("slot-index")
    }

    func reopened(writing: Bool = false) throws -> SlotStore { try SlotStore(directory: dir.path, create: writing) }

    func callers(_ entries: [StoreEntry]) -> [CallerRecord] {
        entries.compactMap { if case .caller(let r) = $0 { return r } else { return nil } }
    }

    func marker(_ boot: String, _ time: String = "t") -> StoreEntry.BootMarker {
        .init(bootID: boot, time: time, kernel: "6.1", pid: 3)
    }

    func pstore(_ boot: String?) -> PstoreRecord {
        PstoreRecord(bootID: boot, file: "dmesg-ramoops-0", header: "Panic#1 Part1", time: nil, bytes: 812, excerpt: ["Kernel panic"])
    }

    /// One of each kind and retention, as the store writes them.
    func everyKind() -> [StoreEntry] {
        var sysrq = sampleCaller(boot: "b1", probe: .writeSysrqTrigger)
        sysrq.cmd = nil
        sysrq.cmdArg = "b"
        var halt = sampleCaller(boot: "b1", tid: 11)
        halt.cmd = .halt
        let watchdog = WatchdogRecord(bootID: "b1", time: "t", device: "watchdog0", timeoutSeconds: 10, sinceKeepaliveSeconds: 9.5,
                                      keepalives: 3, lastKeepaliveBootNs: 1, lastKeepaliveTime: "t",
                                      pinger: .init(pid: 812, tid: 812, comm: "starver", exe: nil, state: "S", stateName: "sleeping",
                                                    wchan: "do_nanosleep", kernelStack: []))
        return [.caller(sampleCaller(boot: "b1")), .caller(sampleCaller(boot: "b1", probe: .sysExitReboot, retval: -22)),
                .caller(sampleCaller(boot: "b1", probe: .sysExitReboot, retval: 0)), .caller(sysrq), .caller(halt),
                .caller(sampleCaller(boot: "b1", probe: .kernelRestart)), .caller(sampleCaller(boot: "b1", probe: "from_a_newer_build")),
                .start(marker("b1")), .alive(marker("b1")), .stop(marker("b1")), .pstore(pstore("b0")), .pstore(pstore(nil)),
                .watchdog(watchdog),
                .preflight(PreflightRecord(bootID: "b1", time: "t", trigger: "arm started", outcome: "bootable", kernel: nil,
                                           version: nil, initrds: [], rule: nil, problems: []))]
    }

    func testTheIndexReadFromARecordsJSONIsWhatTheWholeRecordSays() throws {
        let encoder = SlotStore.makeEncoder()
        XCTAssertEqual(Set(everyKind().map(\.retention)), Set(Retention.allCases))
        for entry in everyKind() {
            let index = try JSONDecoder().decode(StoreEntryIndex.self, from: try encoder.encode(entry))
            XCTAssertEqual(index, StoreEntryIndex(entry), "\(entry)")
            XCTAssertEqual(index.retention, entry.retention, "\(entry)")
            XCTAssertEqual(index.mergeDomain, entry.mergeDomain, "\(entry)")
            XCTAssertEqual(entry.mergeKey == nil, entry.mergeDomain == nil, "a key with no domain is never found again: \(entry)")
        }
    }

    func testEntriesThatUpdateEachOtherShareAMergeDomain() {
        let later: [StoreEntry] = [.caller(sampleCaller(boot: "b1", tid: 99)), .alive(marker("b1", "t2")), .pstore(pstore("b7"))]
        var merging = 0
        for entry in everyKind() {
            for other in later where entry.mergeKey == other.mergeKey && entry.mergeKey != nil {
                XCTAssertEqual(entry.mergeDomain, other.mergeDomain, "\(entry) and \(other)")
                merging += 1
            }
        }
        XCTAssertEqual(merging, 4, "a caller's repeat, the alive marker, and a pstore record found again (with and without a boot)")
        XCTAssertNotEqual(StoreEntry.alive(marker("b1")).mergeDomain, StoreEntry.alive(marker("b2")).mergeDomain)
    }

    func testAReopenedStoreUpdatesTheRecordsAnEarlierOpenWrote() throws {
        let first = try SlotStore(directory: dir.path, size: 16 * 4096, create: true)
        try first.append([.caller(sampleCaller(boot: "b1")), .alive(marker("b1", "t1")), .pstore(pstore("b0")),
                          .caller(sampleCaller(boot: "b0"))])
        let second = try reopened(writing: true)
        try second.append([.caller(sampleCaller(boot: "b1", tid: 77)), .alive(marker("b1", "t2")), .pstore(pstore("b1"))])
        let entries = try reopened().load().entries
        XCTAssertEqual(callers(entries).map(\.count), [2, 1], "the b1 caller's repeat merged, the b0 one apart")
        XCTAssertEqual(entries.filter { if case .alive = $0 { return true } else { return false } }, [.alive(marker("b1", "t2"))])
        XCTAssertEqual(entries.filter { if case .pstore = $0 { return true } else { return false } }, [.pstore(pstore("b0"))],
                       "a pstore record found again keeps the boot it was first harvested for")
    }

    func testOneBootsRecordsAndTheLatestOtherBootAreFoundFromTheIndex() throws {
        let first = try SlotStore(directory: dir.path, size: 16 * 4096, create: true)
        try first.append([.start(marker("b0")), .caller(sampleCaller(boot: "b0")), .start(marker("b1")),
                          .caller(sampleCaller(boot: "b1", tid: 5)), .start(marker("b2")), .pstore(pstore("b1"))])
        let store = try reopened()
        XCTAssertEqual(try store.entries(ofBoot: "b1"), [.start(marker("b1")), .caller(sampleCaller(boot: "b1", tid: 5)),
                                                          .pstore(pstore("b1"))])
        XCTAssertEqual(try store.latestBoot(other: "b2"), "b1", "pstore records aside")
        XCTAssertEqual(try store.latestBoot(other: "b1"), "b2")
        XCTAssertEqual(try store.load().entries.count, 6)
    }

    /// A record whose index fields read but whose whole does not (a field
    /// missing) is skipped as a corrupt slot is, when it is first read,
    /// and its slot is the first a new record takes.
    func testARecordWhoseIndexReadsButNotItsWholeIsSkippedAndItsSlotTakenFirst() throws {
        let store = try SlotStore(directory: dir.path, size: 5 * 4096, create: true)  // 4 slots
        try store.append((1...4).map { .caller(sampleCaller(boot: "b1", tid: UInt32($0), comm: "c\($0)", exe: "/bin/c\($0)")) })
        // The third record's JSON without "pid", under a valid checksum.
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: SlotStore.makeEncoder().encode(
            StoreEntry.caller(sampleCaller(boot: "b1", tid: 3, comm: "c3", exe: "/bin/c3")))) as? [String: Any])
        object["pid"] = nil
        let payload = [UInt8](try JSONSerialization.data(withJSONObject: object))
        let slot = try XCTUnwrap(SlotFormat.encodeSlot(SlotFormat.SlotHeader(alloc: 3, seq: 3, id: 3), payload: payload, slotSize: 4096))
        let handle = try FileHandle(forUpdating: dir.appendingPathComponent(SlotStore.fileName))
        handle.seek(toFileOffset: 3 * 4096)
        handle.write(Data(slot))
        handle.closeFile()

        let damaged = try reopened(writing: true)
        try damaged.append([.caller(sampleCaller(boot: "b1", tid: 5, comm: "c5", exe: "/bin/c5"))])
        XCTAssertEqual(callers(try reopened().load().entries).map(\.comm), ["c1", "c2", "c4", "c5"], "the oldest good record kept")
        XCTAssertEqual(try damaged.load().skipped, 1)
    }
}
