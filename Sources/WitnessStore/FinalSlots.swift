import FoundationEssentials
import Glibc
import SystemPackage
import WitnessSystem
import WitnessModel

/// The store during systemd-shutdown's last steps: its file is closed and its
/// file system read-only, and the slots reserved beforehand
/// (`SlotStore.reserveFinalSlots`) are written through the block device,
/// O_DIRECT|O_DSYNC. After the restart they read back as ordinary slots.
public final class FinalSlots: RecordStore {
    struct Slot {
        var header: SlotFormat.SlotHeader
        var fileOffset: Int64
        var pieces: [BlockPlacement.Piece] = []
    }

    public let location: String
    public let device: String
    public let fileSystem: String
    private let slotSize: Int
    private var free: [Slot]
    private let descriptor: FileDescriptor
    private let buffer: UnsafeMutableRawBufferPointer
    private let encoder = SlotStore.makeEncoder()

    init(store: String, placement: BlockPlacement, slotSize: Int, slots: [Slot]) throws {
        location = store
        device = placement.device
        fileSystem = placement.fileSystem
        self.slotSize = slotSize
        free = slots
        descriptor = try SystemCalls.openBlockDevice(device)
        do {
            let blockSize = try SystemCalls.logicalBlockSize(descriptor, path: device)
            for piece in slots.flatMap(\.pieces)
            where piece.deviceOffset % Int64(blockSize) != 0 || piece.length % Int64(blockSize) != 0 {
                throw PlacementRefusal("\(device): a slot's blocks are not aligned to its \(blockSize)-byte logical blocks")
            }
        } catch {
            try? descriptor.close()
            throw error
        }
        // O_DIRECT wants the memory aligned too; a page is enough for any device.
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: slotSize, alignment: 4096)
    }

    deinit {
        try? descriptor.close()
        buffer.deallocate()
    }

    /// Slots left for records.
    public var remaining: Int { free.count }

    /// Writes each entry into the next reserved slot; returns once the device
    /// acknowledged it (O_DSYNC). Entries beyond the reserve are refused.
    public func append(_ entries: [StoreEntry]) throws {
        for entry in entries {
            guard !free.isEmpty else {
                throw StoreError("all reserved final-stage slots are used; a record was not stored")
            }
            let slot = free.removeFirst()
            let bytes = try SlotStore.encode(entry, header: slot.header, slotSize: slotSize, encoder: encoder)
            bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
            for piece in slot.pieces {
                let start = Int(piece.fileOffset - slot.fileOffset)
                do {  // straight from the aligned buffer: O_DIRECT
                    _ = try descriptor.writeAll(toAbsoluteOffset: piece.deviceOffset,
                                                UnsafeRawBufferPointer(rebasing: buffer[start..<start + Int(piece.length)]))
                } catch let error as Errno {
                    throw SystemError("pwrite", device, errno: error)
                }
            }
        }
    }

    public func load() throws -> StoreContents {
        throw StoreError("the store is closed for the final stage; read it after the restart")
    }
}
