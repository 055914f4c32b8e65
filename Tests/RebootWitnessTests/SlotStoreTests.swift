import Foundation
import CZlib
@testable import WitnessStore
import XCTest
import WitnessModel

final class SlotStoreTests: XCTestCase {
    var dir: URL!
    var file: String { dir.appendingPathComponent(SlotStore.fileName).path }

    override func setUpWithError() throws {
        dir = try temporaryDirectory("slots")
    }

    func store(size: Int = 16 * 4096) throws -> SlotStore {
        try SlotStore(directory: dir.path, size: size, create: true)
    }

    func callers(_ contents: StoreContents) -> [CallerRecord] {
        contents.entries.compactMap { if case .caller(let r) = $0 { return r } else { return nil } }
    }

    func testRoundTripIsPreallocatedAndPrivate() throws {
        let s = try store()
        let record = sampleCaller(boot: "b1")
        try s.append([.start(.init(bootID: "b1", time: "t", kernel: "6.1", pid: 9)), .caller(record)])
        let reopened = try SlotStore(directory: dir.path, create: false)
        XCTAssertEqual(try reopened.load().entries, [.start(.init(bootID: "b1", time: "t", kernel: "6.1", pid: 9)), .caller(record)])
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        XCTAssertEqual(attributes[.posixPermissions] as? Int, 0o600)
        XCTAssertEqual(attributes[.size] as? Int, 16 * 4096, "header slot + 15 slots, allocated up front")
    }

    func testWraparoundOverwritesTheOldestAndNeverGrows() throws {
        let s = try store(size: 5 * 4096)  // 4 slots
        for tid in 1...10 {
            try s.append([.caller(sampleCaller(boot: "b1", tid: UInt32(tid), comm: "caller\(tid)", exe: "/bin/caller\(tid)"))])
        }
        XCTAssertEqual(callers(try SlotStore(directory: dir.path, create: false).load()).map(\.tid), [7, 8, 9, 10])
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int, 5 * 4096)
    }

    func testACrashLoopCostsOneRecordWithAnExactCount() throws {
        let s = try store()
        for batch in 0..<50 {
            // distinct pids, same caller: systemd restarting the same unit
            try s.append((0..<20).map { .caller(sampleCaller(boot: "b1", tid: UInt32(batch * 20 + $0 + 100))) })
        }
        try s.append([.caller(sampleCaller(boot: "b1", comm: "other", exe: "/bin/other"))])
        let loaded = callers(try SlotStore(directory: dir.path, create: false).load())
        XCTAssertEqual(loaded.map(\.count), [1000, 1])
        XCTAssertEqual(loaded[0].lastTime, "2026-11-23T00:00:00.000Z")
        // A new boot is a new record even for the same caller.
        try s.append([.caller(sampleCaller(boot: "b2"))])
        XCTAssertEqual(callers(try s.load()).map(\.count), [1000, 1, 1])
    }

    func testTheAliveMarkerIsRewrittenNotAppended() throws {
        let s = try store(size: 6 * 4096)
        for second in 0..<100 {
            try s.append([.alive(.init(bootID: "b1", time: "t\(second)", kernel: "6.1", pid: 3))])
        }
        XCTAssertEqual(try SlotStore(directory: dir.path, create: false).load().entries,
                       [.alive(.init(bootID: "b1", time: "t99", kernel: "6.1", pid: 3))])
    }

    /// A reset while an update is written tears that slot only: the other
    /// copy holds the count acknowledged before.
    func testATornUpdateKeepsTheLastAcknowledgedCount() throws {
        let s = try store()
        try s.append([.caller(sampleCaller(boot: "b1"))])
        try s.append([.caller(sampleCaller(boot: "b1"))])   // count 2 → second slot
        try s.append([.caller(sampleCaller(boot: "b1"))])   // count 3 → back to the first slot
        // Tear the slot holding count 3 (slot index 0, after the header slot).
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: file))
        handle.seek(toFileOffset: 4096 + 100)
        handle.write(Data([0xde, 0xad, 0xbe, 0xef]))
        handle.closeFile()
        let contents = try SlotStore(directory: dir.path, create: false).load()
        XCTAssertEqual(callers(contents).map(\.count), [2])
        XCTAssertEqual(contents.skipped, 1)
    }

    func testTruncationAtEveryByteOfASlotNeverCrashesOrInventsRecords() throws {
        let s = try store(size: 4 * 4096)
        try s.append([.caller(sampleCaller(boot: "b1", comm: "first", exe: "/bin/first")),
                      .caller(sampleCaller(boot: "b1", comm: "second", exe: "/bin/second"))])
        let original = try Data(contentsOf: URL(fileURLWithPath: file))
        for cut in stride(from: 2 * 4096, through: 3 * 4096, by: 1) {
            try original.prefix(cut).write(to: URL(fileURLWithPath: file))
            let contents = try SlotStore(directory: dir.path, create: false).load()
            let comms = callers(contents).map(\.comm)
            if cut >= 2 * 4096 + 40 + 2000 && comms.count == 2 { continue }  // second slot intact
            XCTAssertEqual(comms.first, "first", "cut at \(cut)")
            XCTAssertLessThanOrEqual(comms.count, 2)
        }
    }

    func testRandomCorruptionIsDetectedNotDecoded() throws {
        let s = try store(size: 8 * 4096)
        try s.append((0..<6).map { .caller(sampleCaller(boot: "b1", comm: "c\($0)", exe: "/bin/c\($0)")) })
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let offset = Int.random(in: 4096..<(7 * 4096), using: &generator)  // the six used slots
            bytes[offset] ^= UInt8.random(in: 1...255, using: &generator)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let contents = try SlotStore(directory: dir.path, create: false).load()
        for record in callers(contents) {
            XCTAssertTrue(record.comm.hasPrefix("c"), "a corrupted slot decoded: \(record.comm)")
        }
        XCTAssertEqual(callers(contents).count + contents.skipped, 6)
    }

    func testANewerFormatIsRefusedUntouched() throws {
        _ = try store()
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        bytes[8] = 3  // format version 3, checksum recomputed below by a newer writer
        let crc = SlotFormat.crc(bytes[0..<20])
        withUnsafeBytes(of: crc.littleEndian) { for (i, b) in $0.enumerated() { bytes[20 + i] = b } }
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        XCTAssertThrowsError(try SlotStore(directory: dir.path, create: true)) { error in
            XCTAssertTrue("\(error)".contains("store format 3 is newer"), "\(error)")
        }
        XCTAssertEqual([UInt8](try Data(contentsOf: URL(fileURLWithPath: file))), bytes, "left untouched")
    }

    func testChecksumsAreCRC32CAndFormatOneIsStillRead() throws {
        XCTAssertEqual(SlotFormat.crc(Array("123456789".utf8)[...]), 0xE306_9283, "the CRC32C check value")
        XCTAssertEqual(SlotFormat.crc(Array("1234".utf8)[...], Array("56789".utf8)[...]), 0xE306_9283, "chained")
        XCTAssertEqual(SlotFormat.crc(format: 1, Array("123456789".utf8)[...]), 0xCBF4_3926, "zlib's CRC-32")
        // A format-1 store, as the first releases wrote it: header and slot with zlib's CRC-32.
        let s = try store()
        try s.append([.caller(sampleCaller(boot: "b1", comm: "old", exe: "/bin/old"))])
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        func rewrite(at offset: Int, crcAt: Int, covering ranges: [Range<Int>]) {
            bytes[offset] = 1
            let crc = crc32Zlib(ranges.map { bytes[$0] })
            withUnsafeBytes(of: crc.littleEndian) { for (i, b) in $0.enumerated() { bytes[crcAt + i] = b } }
        }
        rewrite(at: 8, crcAt: 20, covering: [0..<20])
        let slot = 4096, length = Int(bytes[slot + 32]) | Int(bytes[slot + 33]) << 8
        rewrite(at: slot + 4, crcAt: slot + 36, covering: [slot..<(slot + 36), (slot + 40)..<(slot + 40 + length)])
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let contents = try SlotStore(directory: dir.path, create: false).load()
        XCTAssertEqual(callers(contents).map(\.comm), ["old"])
        XCTAssertEqual(contents.skipped, 0)
    }

    func crc32Zlib(_ parts: [ArraySlice<UInt8>]) -> UInt32 {
        var crc = crc32(0, nil, 0)
        for part in parts { crc = part.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, UInt32($0.count)) } }
        return UInt32(crc)
    }

    func testNotAStoreIsRefused() throws {
        try Data("hello".utf8).write(to: URL(fileURLWithPath: file))
        XCTAssertThrowsError(try SlotStore(directory: dir.path, create: false)) { error in
            XCTAssertTrue("\(error)".contains("is not ours alone (uid 0, mode 644)"), "a store others could read or write: \(error)")
        }
        chmod(file, 0o600)
        XCTAssertThrowsError(try SlotStore(directory: dir.path, create: false)) { error in
            XCTAssertTrue("\(error)".contains("not a reboot-witness store"), "\(error)")
        }
    }

    /// A header is data: one claiming 2³²−1 slots once made the reader
    /// allocate 4 GiB and abort. It is refused in one line.
    func testAForgedHeaderClaimingBillionsOfSlotsIsRefused() throws {
        _ = try store()
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        withUnsafeBytes(of: UInt32.max.littleEndian) { for (i, b) in $0.enumerated() { bytes[16 + i] = b } }
        let crc = SlotFormat.crc(bytes[0..<20])
        withUnsafeBytes(of: crc.littleEndian) { for (i, b) in $0.enumerated() { bytes[20 + i] = b } }
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        XCTAssertThrowsError(try SlotStore(directory: dir.path, create: false)) { error in
            XCTAssertTrue("\(error)".contains("4294967295 slots"), "\(error)")
        }
        // 20 M slots claimed, a 64 KiB file: read as far as the file goes, no 600 MB of bookkeeping.
        withUnsafeBytes(of: UInt32(20_000_000).littleEndian) { for (i, b) in $0.enumerated() { bytes[16 + i] = b } }
        let crc2 = SlotFormat.crc(bytes[0..<20])
        withUnsafeBytes(of: crc2.littleEndian) { for (i, b) in $0.enumerated() { bytes[20 + i] = b } }
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        XCTAssertThrowsError(try SlotStore(directory: dir.path, create: false))
    }

    /// A FIFO (or any non-regular file) in the store's place once hung the
    /// reader in open(2); a symlink would redirect it.
    func testAFIFOOrASymlinkAsTheStoreFileIsRefusedWithoutHanging() throws {
        XCTAssertEqual(mkfifo(file, 0o600), 0)
        XCTAssertThrowsError(try SlotStore(directory: dir.path, create: false)) { error in
            XCTAssertTrue("\(error)".contains("not a regular file"), "\(error)")
        }
        unlink(file)
        let elsewhere = try temporaryDirectory("slots-elsewhere")
        _ = try SlotStore(directory: elsewhere.path, size: 16 * 4096, create: true)
        XCTAssertEqual(symlink(elsewhere.appendingPathComponent(SlotStore.fileName).path, file), 0)
        XCTAssertThrowsError(try SlotStore(directory: dir.path, create: false)) { error in
            XCTAssertTrue("\(error)".contains("cannot open"), "\(error)")
        }
    }
}
