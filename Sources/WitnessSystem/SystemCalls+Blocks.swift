import CWitness
import Glibc
import SystemPackage

/// The calls behind writing a file's blocks through its block device.
extension SystemCalls {
    /// `retrying` for the C shims, which return -errno instead of setting errno.
    static func checked<T: SignedInteger>(_ operation: String, _ subject: String?, _ body: () -> T) throws -> T {
        try retrying(operation, subject) { () -> T in
            let rc = body()
            if rc < 0 { Glibc.errno = CInt(-rc) }
            return rc < 0 ? -1 : rc
        }
    }

    /// One extent of a file on its device (FS_IOC_FIEMAP).
    public struct Extent: Equatable, Sendable {
        public var logical: Int64
        public var physical: Int64
        public var length: Int64
        public var flags: UInt32
        public init(logical: Int64, physical: Int64, length: Int64, flags: UInt32) {
            self.logical = logical
            self.physical = physical
            self.length = length
            self.flags = flags
        }
        /// Unwritten (reads as zeros whatever the disk holds), delayed,
        /// inline, shared, encoded or unaligned: not to be written in place.
        public var writableInPlace: Bool { flags & cw_fiemap_unsafe_flags() == 0 }
    }

    /// The extents of `fd` covering `length` bytes from `offset`, after
    /// flushing the file (FIEMAP_FLAG_SYNC).
    public static func extents(_ fd: FileDescriptor, path: String, offset: Int64, length: Int64) throws -> [Extent] {
        var raw = [cw_extent](repeating: cw_extent(), count: 32)
        let count = try checked("FS_IOC_FIEMAP", path) { cw_fiemap(fd.rawValue, UInt64(offset), UInt64(length), &raw, CInt(raw.count)) }
        return raw.prefix(Int(count)).map {
            Extent(logical: Int64($0.logical), physical: Int64($0.physical), length: Int64($0.length), flags: $0.flags)
        }
    }

    /// The magic number of the file system holding `fd` (statfs f_type).
    public static func fileSystemType(_ fd: FileDescriptor, path: String) throws -> UInt64 {
        UInt64(try checked("fstatfs", path) { cw_fs_type(fd.rawValue) })
    }

    /// fstat(2).
    public static func status(_ fd: FileDescriptor, path: String) throws -> Glibc.stat {
        var info = Glibc.stat()
        _ = try retrying("fstat", path) { fstat(fd.rawValue, &info) }
        return info
    }

    /// A block device opened for O_DIRECT|O_DSYNC writes.
    public static func openBlockDevice(_ path: String) throws -> FileDescriptor {
        FileDescriptor(rawValue: try checked("open (O_DIRECT|O_DSYNC)", path) { cw_open_block_device(path) })
    }

    /// BLKSSZGET: the smallest write the device takes with O_DIRECT.
    public static func logicalBlockSize(_ fd: FileDescriptor, path: String) throws -> Int {
        Int(try checked("BLKSSZGET", path) { cw_block_logical_size(fd.rawValue) })
    }
}
