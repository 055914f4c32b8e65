import FoundationEssentials
import Glibc
import SystemPackage
import WitnessSystem
import WitnessModel

/// The bounded, crash-safe store: a preallocated file of fixed-size,
/// checksummed slots (see `SlotFormat`). An entry with the `mergeKey` of one
/// already stored (the same caller in the same boot, or the boot's "alive"
/// marker) updates that record instead, alternating between two slots so
/// that a torn write never loses what was acknowledged.
///
/// When the store is full, what a new entry replaces depends on its
/// `Retention` (see `SlotVictims`): noise only ever takes the place of older
/// noise; routine entries and stopping ones first take noise's slots, then
/// their own class's oldest, and each keeps a quarter of the slots from the
/// other. A flood of refused calls cannot push out the call that stopped the
/// machine, and a crash loop of container restarts cannot push out the boot
/// markers.
public final class SlotStore: RecordStore {
    public static let fileName = "witness.store"
    public static let defaultSize = 1 << 20
    public static let slotSize = 4096

    public let location: String
    public let slotCount: Int
    private let slotSize: Int
    private let fd: FileDescriptor
    private var path: String { location + "/" + Self.fileName }

    /// Live records by id: the newest valid copy of each, its slots, its key.
    private var records = StoredRecords()
    private var nextAlloc: UInt64 = 1
    private var nextSeq: UInt64 = 1
    private var slotOwner: [Int: UInt64] = [:]
    private var victims: SlotVictims
    private var skipped = 0
    /// Slots whose read failed (EIO…) when the store was opened.
    private var readErrors = 0
    /// New noise entries not stored because no slot held noise (since open).
    public private(set) var droppedNoise = 0
    private let encoder = SlotStore.makeEncoder()

    /// Opens the store in `directory`, creating a file of `size` bytes if
    /// there is none (`create`). An existing store keeps its own geometry.
    public init(directory: String, size: Int = SlotStore.defaultSize, create: Bool) throws {
        location = directory
        let path = directory + "/" + Self.fileName
        let exists = Files.exists(path)
        if !exists && !create {
            throw StoreError("no store at \(path) (run `reboot-witness arm --store \(directory)` first)")
        }
        let descriptor: FileDescriptor
        do {
            // Non-blocking and no symlink: a FIFO or a link planted in the
            // store directory must not hang or redirect the reader.
            descriptor = try FileDescriptor.open(FilePath(path), create ? .readWrite : .readOnly,
                                                 options: create ? [.create, .closeOnExec, .nonBlocking, .noFollow]
                                                     : [.closeOnExec, .nonBlocking, .noFollow],
                                                 permissions: [.ownerReadWrite])
        } catch let error as Errno {
            throw StoreError("cannot open \(path): \(error.description)")
        }
        fd = descriptor
        let fileSize: Int64
        do {
            fileSize = try Self.regularFileSize(descriptor, path: path)
        } catch {
            try? descriptor.close()
            throw error
        }
        if !exists {
            slotSize = Self.slotSize
            slotCount = max(1, size / Self.slotSize - 1)
            victims = SlotVictims(slotCount: slotCount)
            try initialize()
        } else {
            var header = [UInt8](repeating: 0, count: SlotFormat.fileHeaderSize)
            do {
                _ = try header.withUnsafeMutableBytes { try descriptor.read(fromAbsoluteOffset: 0, into: $0) }
            } catch {
                try? descriptor.close()
                throw StoreError("cannot read the header of \(path): \(error)")
            }
            switch SlotFormat.parseFileHeader(header) {
            case .success(let (_, size, count)):
                // The header is data: a forged one must not make the reader
                // allocate for slots no file of ours could hold. A torn file
                // (shorter than its header says) is read as far as it goes.
                guard count <= Self.maxSlots else {
                    try? descriptor.close()
                    throw StoreError("\(path): its header claims \(count) slots (at most \(Self.maxSlots) exist in a store)")
                }
                slotSize = size
                slotCount = max(1, min(count, Int(fileSize / Int64(size)) - 1))
                victims = SlotVictims(slotCount: slotCount)
            case .failure(let error):
                try? descriptor.close()
                throw StoreError("\(path): \(error.description)")
            }
        }
        try scan(fileSize: fileSize)
    }

    private var closed = false

    deinit { close() }

    /// Closes the file (the final stage: its file system is about to go read-only).
    public func close() {
        guard !closed else { return }
        closed = true
        try? fd.close()
    }

    /// Takes the next `count` slots of the ring for the final stage: each is
    /// zeroed through the file system (allocated and written, so its blocks
    /// are the file's for good), made durable, and located on the device.
    /// Close the store afterwards; `FinalSlots` writes those slots only.
    public func reserveFinalSlots(count: Int) throws -> FinalSlots {
        var reserved: [FinalSlots.Slot] = []
        for _ in 0..<min(count, slotCount) {
            guard let index = victims.victim(for: .stopping) else { break }
            evict(slot: index)
            victims.reserve(index)
            let id = nextAllocation()
            defer { nextSeq += 1 }
            let offset = Int64(slotSize * (index + 1))
            try write([UInt8](repeating: 0, count: slotSize), at: offset)
            reserved.append(FinalSlots.Slot(header: SlotFormat.SlotHeader(alloc: id, seq: nextSeq, id: id), fileOffset: offset))
        }
        try SystemCalls.fdatasync(fd, path: path)
        let placement = try BlockPlacement.of(fd, path: path)
        for index in reserved.indices {
            reserved[index].pieces = try placement.pieces(fd, path: path, offset: reserved[index].fileOffset, length: Int64(slotSize))
        }
        return try FinalSlots(store: location, placement: placement, slotSize: slotSize, slots: reserved)
    }

    private func initialize() throws {
        let total = Int64(slotSize) * Int64(slotCount + 1)
        // Preallocate: a full disk must fail now, not when a reboot is held.
        let rc = posix_fallocate(fd.rawValue, 0, off_t(total))
        if rc != 0 { throw StoreError("cannot preallocate \(total) bytes for \(path): \(Errno(rawValue: rc).description)") }
        try write(SlotFormat.fileHeader(slotSize: slotSize, slotCount: slotCount), at: 0)
        try SystemCalls.fsync(fd, path: path)
    }

    /// Reads every slot, keeping the newest valid copy of each record. A
    /// slot whose read fails is counted and treated as unreadable, never as empty.
    private func scan(fileSize: Int64) throws {
        var best: [UInt64: (SlotFormat.SlotHeader, ArraySlice<UInt8>, Int)] = [:]
        var slotsOf: [UInt64: [Int]] = [:]
        var allocOf: [Int: UInt64] = [:]
        var unreadable: [Int] = []
        SlotReader(fd: fd, slotSize: slotSize, slotCount: slotCount, fileSize: Int(fileSize)).forEach { index, bytes in
            guard let bytes else {
                readErrors += 1
                unreadable.append(index)
                return
            }
            switch SlotFormat.decodeSlot(bytes) {
            case .empty:
                return
            case .corrupt, .newer:
                skipped += 1
                unreadable.append(index)
            case .valid(let header, let payload):
                slotsOf[header.id, default: []].append(index)
                slotOwner[index] = header.id
                allocOf[index] = header.alloc
                if best[header.id].map({ header.seq > $0.0.seq }) ?? true { best[header.id] = (header, payload, index) }
                nextAlloc = max(nextAlloc, header.alloc + 1)
                nextSeq = max(nextSeq, header.seq + 1)
            }
        }
        var holders: [(slot: Int, alloc: UInt64, retention: Retention)] = []
        for (id, (_, payload, index)) in best {
            // Counted, as a record whose index reads but not its whole is when it is first read.
            guard let summary = records.add(id: id, payload: payload, slots: slotsOf[id] ?? [index], newestSlot: index) else {
                skipped += 1
                for slot in slotsOf[id] ?? [] { slotOwner[slot] = nil; unreadable.append(slot) }
                continue
            }
            for slot in slotsOf[id] ?? [index] { holders.append((slot, allocOf[slot] ?? 0, summary.retention)) }
        }
        // Unreadable slots go first of all (as the oldest noise); then the ring's own order.
        victims.load(holders: holders.sorted { $0.alloc < $1.alloc }, unreadable: unreadable)
    }

    public func load() throws -> StoreContents {
        let entries = records.all()
        settleUnreadable()
        return StoreContents(entries: entries, skipped: skipped, readErrors: readErrors)
    }

    /// One boot's records, oldest first; the others stay undecoded.
    public func entries(ofBoot bootID: String) throws -> [StoreEntry] {
        defer { settleUnreadable() }
        return records.all(ofBoot: bootID)
    }

    public func latestBoot(other current: String) throws -> String? {
        records.latestBoot(other: current)
    }

    /// Records whose index read but not their whole, found as they were
    /// decoded: skipped as the scan skips one, their slots taken first.
    private func settleUnreadable() {
        let (count, slots) = records.takeUnreadable()
        skipped += count
        for slot in slots {
            victims.discard(slot)
            slotOwner[slot] = nil
        }
    }

    /// Makes `entries` durable: new records take new slots, repeats of a
    /// caller already stored in this boot update its count. One fdatasync.
    public func append(_ entries: [StoreEntry]) throws {
        guard !entries.isEmpty else { return }
        var touched: [UInt64] = []
        for entry in entries {
            let existing = records.updated(by: entry)
            settleUnreadable()
            if let (id, stored) = existing {
                records.replace(id, with: stored.merged(with: entry))
                if !touched.contains(id) { touched.append(id) }
                continue
            }
            try allocate(entry)
        }
        for id in touched { try rewrite(id) }
        try SystemCalls.fdatasync(fd, path: path)
    }

    /// A slot for a new record (see `SlotVictims`), or nil: noise with no
    /// noise to replace is not stored.
    private func allocate(_ entry: StoreEntry) throws {
        let retention = entry.retention
        guard let index = victims.victim(for: retention) else {
            droppedNoise += 1
            return
        }
        evict(slot: index)
        let id = nextAllocation()
        records.add(id: id, entry: entry, slot: index)
        slotOwner[index] = id
        victims.hold(index, alloc: id, retention)
        try writeSlot(index, id: id, alloc: id, entry: entry)
    }

    /// Writes the updated record into the slot *not* holding its newest
    /// acknowledged copy (taking a second slot on the first update, where
    /// its class may take one; else in place).
    private func rewrite(_ id: UInt64) throws {
        guard var record = records[id], let entry = record.entry else { return }
        let retention = entry.retention
        let target: Int
        if record.slots.count >= 2 {
            target = record.slots.first { $0 != record.newestSlot } ?? record.slots[0]
        } else if let free = victims.victim(for: retention, sparing: record.slots) {
            target = free
            evict(slot: target)
            record.slots.append(target)
            slotOwner[target] = id
        } else {  // nowhere else to go (a one-slot store, or noise among no noise)
            let alloc = nextAllocation()
            victims.hold(record.newestSlot, alloc: alloc, retention)
            try writeSlot(record.newestSlot, id: id, alloc: alloc, entry: entry)
            return
        }
        record.newestSlot = target
        records[id] = record
        let alloc = nextAllocation()
        victims.hold(target, alloc: alloc, retention)
        try writeSlot(target, id: id, alloc: alloc, entry: entry)
    }

    private func nextAllocation() -> UInt64 {
        defer { nextAlloc += 1 }
        return nextAlloc
    }

    /// Forgets whatever record lived in `slot` (its other copy, if any, stays).
    private func evict(slot: Int) {
        victims.release(slot)
        if let owner = slotOwner[slot] { records.forget(slot: slot, of: owner) }
        slotOwner[slot] = nil
    }

    private func writeSlot(_ index: Int, id: UInt64, alloc: UInt64, entry: StoreEntry) throws {
        let header = SlotFormat.SlotHeader(alloc: alloc, seq: nextSeq, id: id)
        nextSeq += 1
        try write(try Self.encode(entry, header: header, slotSize: slotSize, encoder: encoder), at: Int64(slotSize * (index + 1)))
    }

    /// A whole slot holding `entry`.
    static func encode(_ entry: StoreEntry, header: SlotFormat.SlotHeader, slotSize: Int, encoder: JSONEncoder) throws -> [UInt8] {
        guard let bytes = SlotFormat.encodeSlot(header, payload: try fitting(entry, slotSize: slotSize, encoder: encoder),
                                                slotSize: slotSize) else {
            throw StoreError("a record does not fit in a \(slotSize)-byte slot")
        }
        return bytes
    }

    static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// The entry's JSON, dropping stack frames until it fits in a slot.
    private static func fitting(_ entry: StoreEntry, slotSize: Int, encoder: JSONEncoder) throws -> [UInt8] {
        var entry = entry
        let capacity = slotSize - SlotFormat.slotHeaderSize
        while true {
            let bytes = Array(try encoder.encode(entry))
            guard bytes.count > capacity, case .caller(var record) = entry, !record.kernelStack.isEmpty else {
                return bytes
            }
            record.kernelStack.removeLast()
            entry = .caller(record)
        }
    }

    private func write(_ bytes: [UInt8], at offset: Int64) throws {
        do {
            _ = try fd.writeAll(toAbsoluteOffset: offset, bytes)
        } catch let error as Errno {
            throw SystemError("pwrite", path, errno: error)
        }
    }

    /// The most slots a store may have: `arm --store-size` stops at 1 GiB of 4 KiB slots.
    static let maxSlots = (1 << 30) / 1024

    /// The size of an open store file, which must be a regular file.
    private static func regularFileSize(_ fd: FileDescriptor, path: String) throws -> Int64 {
        var st = stat()
        guard fstat(fd.rawValue, &st) == 0 else { throw StoreError("cannot stat \(path): \(Errno(rawValue: errno).description)") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw StoreError("\(path) is not a regular file") }
        // Ours alone (0600): a store file someone else could write is no evidence.
        guard st.st_uid == geteuid(), st.st_mode & 0o077 == 0 else {
            throw StoreError("\(path) is not ours alone (uid \(st.st_uid), mode \(String(st.st_mode & 0o7777, radix: 8))); refusing it")
        }
        return Int64(st.st_size)
    }

    /// Bytes the store file occupies (it never grows past its preallocation).
    public var fileBytes: Int64 {
        var st = stat()
        return fstat(fd.rawValue, &st) == 0 ? Int64(st.st_size) : 0
    }
}
