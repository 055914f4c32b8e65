@testable import WitnessStore
import XCTest

/// The store is read many slots per pread; a read error must still cost
/// only the slots it hits, and a torn file end only what is missing.
final class SlotReaderTests: XCTestCase {
    let slotSize = 4096

    /// A stand-in store file: the header slot, then `slots` slots whose first byte is their index + 1.
    func file(slots: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: slotSize * (slots + 1))
        for index in 0..<slots { bytes[slotSize * (index + 1)] = UInt8(truncatingIfNeeded: index + 1) }
        return bytes
    }

    /// What a SlotReader over `bytes` visits, and how many reads it made. A
    /// read overlapping `failing` fails; one longer than a slot comes back
    /// a byte short where `shortRuns` (a real bad block often reads short).
    func visits(of bytes: [UInt8], slotCount: Int, failing: Range<Int>? = nil,
                shortRuns: Bool = false) -> (slots: [(Int, ArraySlice<UInt8>?)], reads: Int) {
        var reads = 0
        let reader = SlotReader(slotSize: slotSize, slotCount: slotCount, fileSize: bytes.count) { [slotSize] offset, buffer in
            reads += 1
            if let failing, failing.overlaps(offset..<(offset + buffer.count)) { return nil }
            let got = min(buffer.count, bytes.count - offset) - (shortRuns && buffer.count > slotSize ? 1 : 0)
            bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + got)])) }
            return got
        }
        var slots: [(Int, ArraySlice<UInt8>?)] = []
        reader.forEach { slots.append(($0, $1.map { ArraySlice(Array($0)) })) }
        return (slots, reads)
    }

    func testAFailingReadCostsOnlyTheSlotsItHits() {
        let bytes = file(slots: 100)
        let bad = slotSize * 71 + 100  // inside slot 70
        let (slots, reads) = visits(of: bytes, slotCount: 100, failing: bad..<(bad + 1))
        XCTAssertEqual(slots.map(\.0), Array(0..<100))
        XCTAssertEqual(slots.filter { $0.1 == nil }.map(\.0), [70])
        for (index, slot) in slots where index != 70 {
            XCTAssertEqual(slot?.count, slotSize)
            XCTAssertEqual(slot?.first, UInt8(index + 1), "slot \(index)")
        }
        // One read for the first 64 slots; the run holding the bad block is read again slot by slot.
        XCTAssertEqual(reads, 1 + 1 + 36)
    }

    func testARunThatReadsShortIsReadAgainSlotBySlot() {
        let (slots, reads) = visits(of: file(slots: 10), slotCount: 10, shortRuns: true)
        XCTAssertEqual(slots.map(\.0), Array(0..<10))
        XCTAssertEqual(slots.map { $0.1?.count }, Array(repeating: slotSize, count: 10))
        XCTAssertEqual(slots.map { $0.1?.first }, (1...10).map { UInt8($0) })
        XCTAssertEqual(reads, 1 + 10)
    }

    func testATornFileEndsWithAShortLastSlot() {
        var bytes = file(slots: 20)
        bytes.removeLast(slotSize * 10 - 512)  // slots 10…19 gone but for 512 bytes of slot 10
        let (slots, reads) = visits(of: bytes, slotCount: 20)
        XCTAssertEqual(slots.map(\.0), Array(0...10))
        XCTAssertEqual(slots.last?.1?.count, 512)
        XCTAssertEqual(reads, 1)
        XCTAssertEqual(SlotFormat.decodeSlot(slots[3].1!), .corrupt, "a slot with one byte set is not empty")
    }

    func testOnlyAllZeroSlotsAreEmpty() {
        var slot = [UInt8](repeating: 0, count: 4095)
        XCTAssertEqual(SlotFormat.decodeSlot(slot[...]), .empty)
        slot[4094] = 1  // past the last whole word
        XCTAssertEqual(SlotFormat.decodeSlot(slot[...]), .corrupt)
        slot[4094] = 0; slot[8] = 1
        XCTAssertEqual(SlotFormat.decodeSlot(slot[...]), .corrupt)
        // Slices that do not start at 0, words read unaligned (the reader's runs are sliced so).
        XCTAssertEqual(SlotFormat.decodeSlot(slot[3..<40]), .corrupt, "the byte at 8 is set")
        slot[8] = 0
        XCTAssertEqual(SlotFormat.decodeSlot(slot[3..<40]), .empty)
        slot[30] = 1
        XCTAssertEqual(SlotFormat.decodeSlot(slot[3..<40]), .corrupt, "a byte in the last whole word")
        slot[30] = 0; slot[38] = 1
        XCTAssertEqual(SlotFormat.decodeSlot(slot[3..<40]), .corrupt, "a byte past the last whole word")
    }
}
