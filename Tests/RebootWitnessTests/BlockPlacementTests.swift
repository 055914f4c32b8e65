@testable import WitnessStore
import WitnessSystem
import XCTest

/// Turning FIEMAP extents into device writes for one slot, and refusing
/// what cannot be written in place.
final class BlockPlacementTests: XCTestCase {
    func extent(_ logical: Int64, _ physical: Int64, _ length: Int64, flags: UInt32 = 0) -> SystemCalls.Extent {
        SystemCalls.Extent(logical: logical, physical: physical, length: length, flags: flags)
    }

    func testASlotSpreadOverTwoExtentsBecomesTwoPieces() throws {
        // 1 KiB blocks: the slot at 8192..<12288 starts in one extent and ends in another.
        let pieces = try BlockPlacement.pieces(of: [extent(10_240, 900_000 * 1024, 4096), extent(4096, 50_000 * 1024, 6144)],
                                               offset: 8192, length: 4096, path: "s")
        XCTAssertEqual(pieces, [
            .init(fileOffset: 8192, deviceOffset: 50_000 * 1024 + 4096, length: 2048),
            .init(fileOffset: 10_240, deviceOffset: 900_000 * 1024, length: 2048),
        ])
    }

    func testHolesAndUnwrittenExtentsAreRefused() {
        // fallocate's extents read back as zeros whatever the blocks hold: "unwritten" (0x800).
        XCTAssertThrowsError(try BlockPlacement.pieces(of: [extent(0, 4096, 8192, flags: 0x800)], offset: 4096, length: 4096, path: "s")) {
            XCTAssertTrue("\($0)".contains("cannot be written in place"), "\($0)")
        }
        XCTAssertThrowsError(try BlockPlacement.pieces(of: [extent(0, 4096, 4096), extent(6144, 90_000, 4096)],
                                                       offset: 4096, length: 4096, path: "s")) {
            XCTAssertTrue("\($0)".contains("no blocks on the device"), "\($0)")
        }
        XCTAssertThrowsError(try BlockPlacement.pieces(of: [], offset: 0, length: 4096, path: "s"))
        // Shared (reflinked) blocks belong to another file too (0x2000).
        XCTAssertThrowsError(try BlockPlacement.pieces(of: [extent(0, 4096, 8192, flags: 0x2000)], offset: 0, length: 4096, path: "s"))
        // The last extent flag alone is harmless (0x1).
        XCTAssertNoThrow(try BlockPlacement.pieces(of: [extent(0, 4096, 8192, flags: 0x1)], offset: 0, length: 4096, path: "s"))
    }

    func testDeviceNumbersAndAnonymousFileSystems() {
        XCTAssertEqual(BlockPlacement.deviceNumber(0x0000_0000_0000_FE01), "254:1")
        XCTAssertEqual(BlockPlacement.deviceNumber(0x0000_0000_0011_032C), "259:300")  // a minor above 255
        XCTAssertNil(BlockPlacement.devicePath(0x0000_0000_0000_0021))  // 0:33, btrfs or overlayfs
    }
}
