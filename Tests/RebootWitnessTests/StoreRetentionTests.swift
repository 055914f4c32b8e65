import Foundation
@testable import WitnessStore
import WitnessSystem
import XCTest
import WitnessModel

/// A full store gives way by class: noise only to noise, and the call that
/// stopped the machine never to noise (issue: "never lose the record").
final class StoreRetentionTests: XCTestCase {
    func callers(_ store: SlotStore) throws -> [CallerRecord] {
        try store.load().entries.compactMap { if case .caller(let r) = $0 { return r } else { return nil } }
    }

    /// A refused call from its own executable (a distinct caller each).
    func noise(_ n: Int) -> CallerRecord {
        var record = sampleCaller(boot: "b1", tid: UInt32(10_000 + n), comm: "noisy", exe: "/tmp/noise/\(n)")
        record.cmd = .invalid
        record.magic1 = 0xDEADBEEF
        return record
    }

    func testAThousandNoisyCallersDoNotFlushTheStoppingCallBeforeThem() throws {
        let store = try SlotStore(directory: try temporaryDirectory("retention").path, size: 64 * 4096, create: true)  // 63 slots
        try store.append([.start(.init(bootID: "b1", time: "t0", kernel: "6.1", pid: 9))])
        var restart = sampleCaller(boot: "b1", tid: 42, comm: "init", exe: "/usr/bin/rw-selftest")
        restart.inInitPidNs = false
        try store.append([.caller(restart)])
        for n in 0..<1000 { try store.append([.caller(noise(n))]) }
        let reopened = try SlotStore(directory: store.location, create: false)
        let kept = try callers(reopened)
        XCTAssertTrue(kept.contains { $0.tid == 42 && $0.cmd == .restart }, "the stopping call survived 1,000 noisy callers")
        XCTAssertTrue(try reopened.load().entries.contains { if case .start = $0 { return true } else { return false } },
                      "and so did the boot's start marker (routine)")
        let noisy = kept.filter { $0.cmd == .invalid }
        XCTAssertEqual(noisy.count, 61, "noise cycles through the slots the others left")
        XCTAssertEqual(noisy.map(\.tid).max(), 10_999, "the newest noise is the one kept")
        XCTAssertEqual(store.droppedNoise, 0)
    }

    func testNoiseIsDroppedRatherThanReplacingAnythingElse() throws {
        let store = try SlotStore(directory: try temporaryDirectory("retention").path, size: 5 * 4096, create: true)  // 4 slots
        for tid in 1...4 {
            try store.append([.caller(sampleCaller(boot: "b1", tid: UInt32(tid), comm: "r\(tid)", exe: "/bin/r\(tid)"))])
        }
        try store.append([.caller(noise(1))])
        XCTAssertEqual(store.droppedNoise, 1)
        XCTAssertEqual(try callers(store).map(\.tid), [1, 2, 3, 4])
    }

    func testStoppingCallsEvictOnlyOlderStoppingCalls() throws {
        let store = try SlotStore(directory: try temporaryDirectory("retention").path, size: 9 * 4096, create: true)  // 8 slots
        for n in 0..<4 { try store.append([.start(.init(bootID: "b\(n)", time: "t", kernel: "6.1", pid: Int32(n)))]) }
        // A crash loop of container restarts (each its own caller): stopping, and many.
        for tid in 1...30 {
            try store.append([.caller(sampleCaller(boot: "b3", tid: UInt32(tid), comm: "c\(tid)", exe: "/bin/c\(tid)"))])
        }
        let entries = try SlotStore(directory: store.location, create: false).load().entries
        XCTAssertEqual(entries.filter { if case .start = $0 { return true } else { return false } }.count, 4,
                       "the boot markers stay")
        XCTAssertEqual(try callers(store).map(\.tid), Array(27...30), "stopping calls replace the oldest stopping ones")
    }

    func testEachClassTakesBackItsQuarter() throws {
        let store = try SlotStore(directory: try temporaryDirectory("retention").path, size: 9 * 4096, create: true)  // 8 slots, 2 kept
        try store.append([.start(.init(bootID: "b0", time: "t", kernel: "6.1", pid: 1))])
        for tid in 1...7 {
            try store.append([.caller(sampleCaller(boot: "b0", tid: UInt32(tid), comm: "c\(tid)", exe: "/bin/c\(tid)"))])
        }
        for n in 1...3 { try store.append([.start(.init(bootID: "b\(n)", time: "t", kernel: "6.1", pid: Int32(n)))]) }
        let entries = try store.load().entries
        XCTAssertEqual(entries.filter { if case .start = $0 { return true } else { return false } }.count, 2,
                       "routine entries took back their quarter, and no more")
        XCTAssertEqual(try callers(store).map(\.tid), Array(2...7))
    }

    func testRetentionClassesOfRecords() {
        XCTAssertEqual(sampleCaller(boot: "b").retention, .stopping)
        XCTAssertEqual(noise(0).retention, .noise)
        XCTAssertEqual(sampleCaller(boot: "b", probe: "sys_exit_reboot", retval: -22).retention, .noise)
        XCTAssertEqual(sampleCaller(boot: "b", probe: "sys_exit_reboot", retval: -1).retention, .routine)
        var cad = sampleCaller(boot: "b")
        cad.cmd = .cadOff
        XCTAssertEqual(cad.retention, .routine)
        var intent = sampleCaller(boot: "b", probe: "sched_process_exec")
        intent.cmd = .restart
        XCTAssertEqual(intent.retention, .routine)
        var panic = sampleCaller(boot: "b", probe: "panic")
        panic.cmd = nil
        XCTAssertEqual(panic.retention, .stopping)
        XCTAssertEqual(StoreEntry.alive(.init(bootID: "b", time: "t", kernel: "k", pid: 1)).retention, .routine)
    }
}
