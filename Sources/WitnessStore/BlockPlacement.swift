import Glibc
import SystemPackage
import WitnessSystem

/// Where a file's bytes live on its block device, so that they can be
/// written after its file system went read-only, the way GRUB rewrites
/// grubenv by its block list. Only file systems that keep a written file's
/// data blocks in place (no copy-on-write, no data checksums) qualify, and
/// only extents already written through the file system: an "unwritten"
/// extent reads back as zeros whatever its blocks hold.
public struct BlockPlacement: Equatable, Sendable {
    public struct Piece: Equatable, Sendable {
        /// Offset in the file, offset on the device, bytes.
        public var fileOffset: Int64
        public var deviceOffset: Int64
        public var length: Int64
    }

    /// The file's block device node and its file system's name.
    public var device: String
    public var fileSystem: String

    /// File systems whose written data blocks stay where FIEMAP says (statfs f_type).
    static let inPlaceFileSystems: [UInt64: String] = [0xEF53: "ext4", 0x5846_5342: "xfs"]

    /// The device of the file open as `fd`, refused where its blocks cannot be written in place.
    public static func of(_ fd: FileDescriptor, path: String) throws -> BlockPlacement {
        let type = try SystemCalls.fileSystemType(fd, path: path)
        guard let fileSystem = inPlaceFileSystems[type] else {
            throw PlacementRefusal("\(path) is on a file system (f_type 0x\(String(type, radix: 16))) that may move or checksum "
                                   + "data blocks; only ext2/3/4 and XFS are written through the block device")
        }
        let info = try SystemCalls.status(fd, path: path)
        guard let device = devicePath(UInt64(info.st_dev)) else {
            throw PlacementRefusal("no block device node for \(path)'s file system (dev \(deviceNumber(UInt64(info.st_dev))))")
        }
        return BlockPlacement(device: device, fileSystem: fileSystem)
    }

    /// Where `length` bytes at `offset` of the file lie on the device.
    public func pieces(_ fd: FileDescriptor, path: String, offset: Int64, length: Int64) throws -> [Piece] {
        try Self.pieces(of: SystemCalls.extents(fd, path: path, offset: offset, length: length),
                        offset: offset, length: length, path: path)
    }

    /// The device ranges for [offset, offset + length), refusing gaps (holes)
    /// and extents that are not safe to write in place.
    static func pieces(of extents: [SystemCalls.Extent], offset: Int64, length: Int64, path: String) throws -> [Piece] {
        var pieces: [Piece] = []
        var position = offset
        for extent in extents.sorted(by: { $0.logical < $1.logical }) where extent.logical + extent.length > position {
            guard extent.logical <= position else { break }  // a hole before this extent
            guard extent.writableInPlace else {
                throw PlacementRefusal("\(path): the extent at file offset \(extent.logical) cannot be written in place "
                                       + "(FIEMAP flags 0x\(String(extent.flags, radix: 16)))")
            }
            let end = min(extent.logical + extent.length, offset + length)
            pieces.append(Piece(fileOffset: position, deviceOffset: extent.physical + (position - extent.logical),
                                length: end - position))
            position = end
            if position >= offset + length { return pieces }
        }
        throw PlacementRefusal("\(path): bytes \(position)..<\(offset + length) have no blocks on the device yet")
    }

    static func deviceNumber(_ dev: UInt64) -> String {
        let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfff)
        let minor = (dev & 0xff) | ((dev >> 12) & ~0xff)
        return "\(major):\(minor)"
    }

    /// udev's /dev/block/MAJ:MIN link, else the kernel's name for the device.
    static func devicePath(_ dev: UInt64) -> String? {
        let number = deviceNumber(dev)
        if number.hasPrefix("0:") { return nil }  // anonymous (btrfs, tmpfs, overlayfs)
        if Files.exists("/dev/block/\(number)") { return "/dev/block/\(number)" }
        guard let uevent = Files.readText("/sys/dev/block/\(number)/uevent") else { return nil }
        for line in uevent.split(separator: "\n") where line.hasPrefix("DEVNAME=") {
            let path = "/dev/" + line.dropFirst("DEVNAME=".count)
            return Files.exists(path) ? path : nil
        }
        return nil
    }
}

/// Why a store's slots cannot be written through the block device here.
public struct PlacementRefusal: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
