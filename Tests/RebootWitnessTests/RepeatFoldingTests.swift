import CWitness
@testable import WitnessArm
@testable import WitnessReport
import WitnessCapture
import WitnessStore
import XCTest
import WitnessModel

/// The kernel counts repeats; the controller stores the growth. Counts are
/// folded once each, survive a failed store, and end in the store exactly.
final class RepeatFoldingTests: XCTestCase {
    func firstCall(tid: UInt32, at ns: UInt64) -> (CapturedRecord, CallerRecord) {
        var raw = CapturedRecordTests.sampleRecord()
        raw.probe = UInt16(RW_PROBE_SYS_ENTER_REBOOT.rawValue)
        raw.attach = UInt16(RW_ATTACH_TRACEPOINT.rawValue)
        raw.tid = tid
        raw.boot_ns = ns
        let captured = CapturedRecord(raw)
        return (captured, RecordResolver(bootID: "boot-a", symbols: KernelSymbols(path: "/dev/null")).resolve(captured))
    }

    func testGrowthIsFoldedOnceAndAddsUpInTheStore() throws {
        let store = try SlotStore(directory: try temporaryDirectory("fold").path, size: 64 * 1024, create: true)
        var folding = RepeatFolding()
        let (captured, record) = firstCall(tid: 40, at: 1_000)
        folding.register(captured, as: record)
        try store.append([.caller(record)])

        func kernel(_ count: UInt64) -> [CallerCount] {
            [CallerCount(firstTid: 40, firstBootNanoseconds: 1_000, count: count, lastBootNanoseconds: 9_000)]
        }
        var growth = folding.growth(in: kernel(700))
        XCTAssertEqual(growth.map(\.record.count), [699], "the ring already carried the first call")
        XCTAssertEqual(growth.map(\.count), [700])
        // Not committed (the store failed): the next fold still carries it.
        growth = folding.growth(in: kernel(1_000))
        XCTAssertEqual(growth.map(\.record.count), [999])
        try store.append(growth.map { .caller($0.record) })
        folding.commit(growth)
        XCTAssertTrue(folding.growth(in: kernel(1_000)).isEmpty, "nothing new, nothing stored")
        growth = folding.growth(in: kernel(50_000))
        try store.append(growth.map { .caller($0.record) })
        folding.commit(growth)

        let callers = try store.load().entries.compactMap { entry -> CallerRecord? in
            if case .caller(let r) = entry { return r } else { return nil }
        }
        XCTAssertEqual(callers.map(\.count), [50_000])
        XCTAssertNotNil(callers.first?.lastTime)
    }

    func testOnlyKnownFirstCallsAreFoldedAndUncountedOnesForgotten() {
        var folding = RepeatFolding()
        let (a, recordA) = firstCall(tid: 1, at: 10)
        let (b, recordB) = firstCall(tid: 2, at: 20)
        folding.register(a, as: recordA)
        folding.register(b, as: recordB)
        // b never got a kernel entry (map full): it is dropped; an entry whose
        // ring record was not seen yet waits for it.
        let kernel = [CallerCount(firstTid: 1, firstBootNanoseconds: 10, count: 3, lastBootNanoseconds: 30),
                      CallerCount(firstTid: 9, firstBootNanoseconds: 90, count: 5, lastBootNanoseconds: 95)]
        XCTAssertEqual(folding.growth(in: kernel).map(\.record.tid), [1])
        let later = [CallerCount(firstTid: 2, firstBootNanoseconds: 20, count: 4, lastBootNanoseconds: 40)]
        XCTAssertTrue(folding.growth(in: later).isEmpty, "b was forgotten when the kernel did not count it")
    }

    func testExitRecordsAreNotFirstCalls() {
        var folding = RepeatFolding()
        var raw = CapturedRecordTests.sampleRecord()
        raw.probe = UInt16(RW_PROBE_SYS_EXIT_REBOOT.rawValue)
        raw.tid = 5
        raw.boot_ns = 50
        let captured = CapturedRecord(raw)
        folding.register(captured, as: RecordResolver(bootID: "b", symbols: KernelSymbols(path: "/dev/null")).resolve(captured))
        let kernel = [CallerCount(firstTid: 5, firstBootNanoseconds: 50, count: 2, lastBootNanoseconds: 60)]
        XCTAssertTrue(folding.growth(in: kernel).isEmpty)
    }

    /// Two captures in one boot saw the same caller afresh (an arm that
    /// stopped and unpinned, then another): the store merges both into one
    /// record. An arm adopting the second capture must still find it by the
    /// second first call, or the repeats the kernel counts are never stored.
    func testAResumedFoldFindsACallerTheStoreMergedFromAnEarlierCapture() throws {
        let store = try SlotStore(directory: try temporaryDirectory("fold-merged").path, size: 64 * 1024, create: true)
        let (_, older) = firstCall(tid: 40, at: 1_000)
        var (_, newer) = firstCall(tid: 41, at: 5_000)
        newer.time = "2026-12-31T23:59:59.000Z"
        try store.append([.caller(older)])
        try store.append([.caller(newer)])
        let stored = try store.load().entries.compactMap { entry -> CallerRecord? in
            if case .caller(let r) = entry { return r } else { return nil }
        }
        XCTAssertEqual(stored.count, 1, "one caller, one record")
        var folding = RepeatFolding()
        let kernel = [CallerCount(firstTid: 41, firstBootNanoseconds: 5_000, count: 30, lastBootNanoseconds: 9_000, folded: 1)]
        folding.resume(stored: stored, kernel: kernel)
        XCTAssertEqual(folding.growth(in: kernel).map(\.record.count), [29], "the adopted capture's repeats are folded")
    }
}
