import CISAL
import CZlib
import WitnessModel

/// The on-disk layout of the slot store, pstore/ramoops style: a header slot,
/// then fixed-size slots, each self-describing and checksummed, so that a
/// reset in the middle of a write costs at most the slot being written.
///
///     header slot: "RWSTORE1" | format u32 | slot size u32 | slot count u32 | crc u32
///     slot:        magic u32 "RWS1" | format u16 | 0 u16 | alloc u64 | seq u64 | id u64
///                  | length u32 | crc u32 | payload (one JSON StoreEntry)
///
/// `alloc` orders slots in the ring (the oldest allocation is overwritten
/// first); `seq` orders writes (the newest valid copy of an `id` wins);
/// `id` names a record across the two slots its updates alternate between.
/// Integers are little-endian; crc covers everything before it (and the
/// payload): CRC32C since format 2 (as ext4, btrfs and iSCSI use), zlib's
/// CRC-32 in format 1, which is still read. A slot says its own format.
enum SlotFormat {
    static let format: UInt32 = 2
    static let fileMagic = Array("RWSTORE1".utf8)
    static let slotMagic: UInt32 = 0x3153_5752  // "RWS1"
    static let fileHeaderSize = 24
    static let slotHeaderSize = 40

    struct SlotHeader: Equatable {
        var alloc: UInt64
        var seq: UInt64
        var id: UInt64
    }

    enum Decoded: Equatable {
        case empty
        case valid(SlotHeader, payload: ArraySlice<UInt8>)
        /// Torn, bit-flipped or truncated.
        case corrupt
        /// Written by a newer reboot-witness.
        case newer(UInt16)
    }

    /// The checksum `format` uses over the concatenated `parts`.
    static func crc(format: UInt32 = format, _ parts: ArraySlice<UInt8>...) -> UInt32 {
        if format == 1 {
            var value = crc32(0, nil, 0)
            for part in parts {
                value = part.withUnsafeBufferPointer { crc32(value, $0.baseAddress, UInt32($0.count)) }
            }
            return UInt32(value)
        }
        // ISA-L's crc32_iscsi neither pre- nor post-inverts: standard CRC32C is ~crc32_iscsi(data, ~0).
        var value: UInt32 = 0xFFFF_FFFF
        for part in parts {
            value = part.withUnsafeBufferPointer { raw in
                raw.baseAddress.map { crc32_iscsi(UnsafeMutablePointer(mutating: $0), Int32(raw.count), value) } ?? value
            }
        }
        return ~value
    }

    static func fileHeader(slotSize: Int, slotCount: Int) -> [UInt8] {
        var bytes = fileMagic
        bytes.append(le: format)
        bytes.append(le: UInt32(slotSize))
        bytes.append(le: UInt32(slotCount))
        bytes.append(le: crc(bytes[...]))
        return bytes + [UInt8](repeating: 0, count: slotSize - bytes.count)
    }

    /// (format, slot size, slot count) of a header, or why it is unusable.
    static func parseFileHeader(_ bytes: [UInt8]) -> Result<(UInt32, Int, Int), StoreError> {
        guard bytes.count >= fileHeaderSize, Array(bytes[0..<8]) == fileMagic else {
            return .failure(StoreError("not a reboot-witness store (bad magic)"))
        }
        let version = bytes.le32(8)
        guard version <= format else {
            return .failure(StoreError("store format \(version) is newer than this reboot-witness understands (\(format)); refusing to touch it"))
        }
        guard version >= 1, crc(format: version, bytes[0..<20]) == bytes.le32(20) else {
            return .failure(StoreError("store header is corrupt (checksum mismatch)"))
        }
        let slotSize = Int(bytes.le32(12)), slotCount = Int(bytes.le32(16))
        guard slotSize >= 1024, slotSize <= 1 << 20, slotCount >= 1 else {
            return .failure(StoreError("store header has an impossible geometry (\(slotCount) slots of \(slotSize) bytes)"))
        }
        return .success((version, slotSize, slotCount))
    }

    static func encodeSlot(_ header: SlotHeader, payload: [UInt8], slotSize: Int) -> [UInt8]? {
        guard payload.count <= slotSize - slotHeaderSize else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(slotSize)
        bytes.append(le: slotMagic)
        bytes.append(le: UInt16(format))
        bytes.append(le: UInt16(0))
        bytes.append(le: header.alloc)
        bytes.append(le: header.seq)
        bytes.append(le: header.id)
        bytes.append(le: UInt32(payload.count))
        bytes.append(le: crc(bytes[0..<36], payload[...]))
        bytes += payload
        return bytes + [UInt8](repeating: 0, count: slotSize - bytes.count)
    }

    static func decodeSlot(_ slot: ArraySlice<UInt8>) -> Decoded {
        // Most slots of a store are empty: told apart without a copy, a word at a time.
        if isZero(slot) { return .empty }
        let bytes = Array(slot)
        guard bytes.count >= slotHeaderSize, bytes.le32(0) == slotMagic else { return .corrupt }
        let version = bytes.le16(4)
        if version > format { return .newer(version) }
        let length = Int(bytes.le32(32))
        guard length <= bytes.count - slotHeaderSize else { return .corrupt }
        let payload = bytes[slotHeaderSize..<(slotHeaderSize + length)]
        guard version >= 1, crc(format: UInt32(version), bytes[0..<36], payload) == bytes.le32(36) else { return .corrupt }
        return .valid(SlotHeader(alloc: bytes.le64(8), seq: bytes.le64(16), id: bytes.le64(24)), payload: payload)
    }
}

extension SlotFormat {
    static func isZero(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.withUnsafeBytes { raw in
            let words = raw.count / 8
            for i in 0..<words where raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self) != 0 { return false }
            return raw[(words * 8)...].allSatisfy { $0 == 0 }
        }
    }
}

extension Array where Element == UInt8 {
    mutating func append<T: FixedWidthInteger>(le value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    func le16(_ offset: Int) -> UInt16 { UInt16(le: self, offset, 2) }
    func le32(_ offset: Int) -> UInt32 { UInt32(le: self, offset, 4) }
    func le64(_ offset: Int) -> UInt64 { UInt64(le: self, offset, 8) }
}

extension FixedWidthInteger {
    init(le bytes: [UInt8], _ offset: Int, _ width: Int) {
        var value: Self = 0
        for i in 0..<width { value |= Self(bytes[offset + i]) << (8 * i) }
        self = value
    }
}
