import CWitness
import Glibc
import SystemPackage
import WitnessSystem

/// The files of the tree preflight inspects (`/`, or `--root DIR`), read as
/// a chroot would see them: every path is resolved inside the root
/// (openat2's RESOLVE_IN_ROOT, or the same by hand), so that a symlink to
/// /etc/shadow or `linux /../../../etc/shadow` in grub.cfg never reaches the
/// host's files. Only regular files are read (a FIFO would block, a device
/// never end), opened non-blocking, each to a stated limit: past it the file
/// is reported as too large, never silently cut. Nothing is ever written.
public final class TreeFiles {
    /// What reading a file gave.
    public enum Read: Equatable {
        case bytes([UInt8])
        case missing
        /// A directory, FIFO, socket, device…
        case notRegular(String)
        case tooLarge(Int64)
        case failed(String)
    }

    /// Paths are written as `root + path` (so that messages name them as the host sees them).
    public let root: String
    private let rootFD: CInt

    public init(root: String) throws {
        self.root = root == "/" ? "" : root
        rootFD = Glibc.open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { throw PreflightError("cannot open \(root): \(Errno(rawValue: errno).description)") }
    }

    deinit { close(rootFD) }

    /// The path inside the tree of a host-style path (`root + "/boot/x"` → "/boot/x").
    func inside(_ path: String) -> String {
        guard !root.isEmpty, path.hasPrefix(root) else { return path }
        let rest = String(path.dropFirst(root.count))
        return rest.isEmpty ? "/" : rest
    }

    /// An fd for `path` resolved inside the tree, or -errno.
    func open(_ path: String, flags: CInt = O_RDONLY) -> CInt {
        // (O_PATH takes no other flags but O_DIRECTORY, O_NOFOLLOW and O_CLOEXEC.)
        cw_open_in_root(rootFD, inside(path), flags & CW_O_PATH != 0 ? flags : flags | O_NONBLOCK | O_NOCTTY)
    }

    /// A regular file of the tree opened for reading (the caller closes it), or why not.
    public func openRegular(_ path: String) -> Result<CInt, PreflightError> {
        let fd = open(path)
        guard fd >= 0 else { return .failure(PreflightError("cannot open \(path): \(Errno(rawValue: -fd).description)")) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            return .failure(PreflightError("\(path) is \(Self.kind(st.st_mode)), not a file"))
        }
        return .success(fd)
    }

    /// The first `count` bytes of a regular file (a kernel image's header).
    public func head(_ path: String, count: Int) -> [UInt8]? {
        guard case .success(let fd) = openRegular(path) else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: count)
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, 0) }
        return n > 0 ? Array(bytes.prefix(n)) : nil
    }

    /// Where `path` leads inside the tree, as a host path under `root` (for comparing two names of one file).
    public func realPath(_ path: String) -> String? {
        let fd = open(path, flags: CW_O_PATH)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return SystemCalls.readLink("/proc/self/fd/\(fd)")
    }

    /// Status of `path` inside the tree (its last component followed within it), or nil.
    public func status(_ path: String) -> stat? {
        let fd = open(path, flags: CW_O_PATH)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        return fstat(fd, &st) == 0 ? st : nil
    }

    public func exists(_ path: String) -> Bool { status(path) != nil }

    public func isDirectory(_ path: String) -> Bool {
        status(path).map { ($0.st_mode & S_IFMT) == S_IFDIR } ?? false
    }

    public func isRegular(_ path: String) -> Bool {
        status(path).map { ($0.st_mode & S_IFMT) == S_IFREG } ?? false
    }

    /// Names in a directory of the tree (at most `limit`), or nil.
    public func list(_ path: String, limit: Int = 4096) -> [String]? {
        let fd = open(path, flags: O_RDONLY | O_DIRECTORY)
        guard fd >= 0, let dir = fdopendir(fd) else {
            if fd >= 0 { close(fd) }
            return nil
        }
        defer { closedir(dir) }
        var names: [String] = []
        while names.count < limit, let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// The whole file, if it is a regular file of at most `limit` bytes.
    public func read(_ path: String, limit: Int) -> Read {
        let fd = open(path)
        guard fd >= 0 else { return fd == -ENOENT || fd == -ENOTDIR ? .missing : .failed(Errno(rawValue: -fd).description) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return .failed(Errno(rawValue: errno).description) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { return .notRegular(Self.kind(st.st_mode)) }
        guard st.st_size <= Int64(limit) else { return .tooLarge(Int64(st.st_size)) }
        var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
        var filled = 0
        while filled < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            guard n > 0 else { break }
            filled += n
        }
        return .bytes(Array(bytes.prefix(filled)))
    }

    /// Text of a regular file of at most `limit` bytes, else why not (one line).
    public func text(_ path: String, limit: Int) -> Result<String, PreflightError> {
        switch read(path, limit: limit) {
        case .bytes(let bytes): return .success(String(decoding: bytes, as: UTF8.self))
        case .missing: return .failure(PreflightError("\(path) does not exist"))
        case .notRegular(let kind): return .failure(PreflightError("\(path) is \(kind), not a file"))
        case .tooLarge(let size): return .failure(PreflightError("\(path) is \(size) bytes, over \(limit): not read"))
        case .failed(let why): return .failure(PreflightError("\(path): \(why)"))
        }
    }

    static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a FIFO"
        case S_IFSOCK: return "a socket"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFLNK: return "a symbolic link"
        default: return "not a regular file"
        }
    }
}

/// One budget for a whole preflight run, whatever its inputs claim: bytes
/// unpacked, archive entries, findings, images, time. Past any of them the
/// run says so and stops that part, instead of running on.
public final class PreflightBudget {
    public var unpackedBytes: Int64
    public var entries: Int64
    public let findings: Int
    public let images: Int
    public let deadline: Int64

    public init(unpackedBytes: Int64 = 8 << 30, entries: Int64 = 2_000_000, findings: Int = 200, images: Int = 16,
                seconds: Double = 30) {
        self.unpackedBytes = unpackedBytes
        self.entries = entries
        self.findings = findings
        self.images = images
        deadline = SystemCalls.clocks().boottime + Int64(seconds * 1e9)
    }

    public var timeLeft: Bool { SystemCalls.clocks().boottime < deadline }
}
