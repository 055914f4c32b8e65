import CWitness
import Glibc
import SystemPackage

/// Every libc call reboot-witness makes outside swift-system, wrapped once:
/// EINTR is retried here and nowhere else, failures become `SystemError`.
public enum SystemCalls {
    /// Retries `body` while it fails with EINTR; `body` returns -1 and sets errno on failure.
    @inline(__always)
    static func retrying<T: BinaryInteger>(_ operation: String, _ subject: String?, _ body: () -> T) throws -> T {
        while true {
            let rc = body()
            if rc >= 0 { return rc }
            let code = Glibc.errno
            if code == EINTR { continue }
            throw SystemError(operation, subject, errno: Errno(rawValue: code))
        }
    }

    public static func fdatasync(_ fd: FileDescriptor, path: String? = nil) throws {
        _ = try retrying("fdatasync", path) { Glibc.fdatasync(fd.rawValue) }
    }

    public static func fsync(_ fd: FileDescriptor, path: String? = nil) throws {
        _ = try retrying("fsync", path) { Glibc.fsync(fd.rawValue) }
    }

    /// Waits for any of `fds` to become readable; returns the readable ones.
    public static func pollReadable(_ fds: [CInt], timeoutMilliseconds: CInt) throws -> [CInt] {
        var entries = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        let rc = Glibc.poll(&entries, nfds_t(entries.count), timeoutMilliseconds)
        if rc < 0 {
            if Glibc.errno == EINTR { return [] }
            throw SystemError("poll", nil, errno: Errno(rawValue: Glibc.errno))
        }
        return entries.filter { $0.revents != 0 }.map(\.fd)
    }

    /// A signalfd for `signals`, which are blocked for normal delivery.
    public static func signalDescriptor(_ signals: [CInt]) throws -> FileDescriptor {
        let rc = cw_signalfd(signals, CInt(signals.count))
        if rc < 0 { throw SystemError("signalfd", nil, errno: Errno(rawValue: -rc)) }
        return FileDescriptor(rawValue: rc)
    }

    /// Reads one pending signal number from a signalfd, or nil if none.
    public static func readSignal(_ fd: FileDescriptor) -> CInt? {
        let signal = cw_read_signal(fd.rawValue)
        return signal > 0 ? signal : nil
    }

    /// Blocks until one of `signals` arrives, doing nothing else (`arm
    /// --idle-on-refusal`); returns at once if no signalfd can be made.
    public static func waitForSignal(_ signals: [CInt]) {
        guard let descriptor = try? signalDescriptor(signals) else { return }
        defer { try? descriptor.close() }
        while (try? pollReadable([descriptor.rawValue], timeoutMilliseconds: -1)) != nil {
            if readSignal(descriptor) != nil { return }
        }
    }

    /// reboot(2). Only ever called to replay a call the kernel already
    /// accepted from someone else (the hold), with the same arguments.
    public static func reboot(magic1: UInt32, magic2: UInt32, command: UInt32, argument: String?) -> Errno? {
        let rc = argument.map { cw_reboot(magic1, magic2, command, $0) } ?? cw_reboot(magic1, magic2, command, nil)
        return rc < 0 ? Errno(rawValue: CInt(-rc)) : nil
    }

    /// stat(2), following symlinks; nil when the path cannot be examined.
    /// readlink(2), or nil.
    public static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = Glibc.readlink(path, &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// realpath(3): `path` with every symbolic link resolved, or nil.
    public static func realPath(_ path: String) -> String? {
        guard let resolved = Glibc.realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    public static func fileStatus(_ path: String, followLinks: Bool = true) -> Glibc.stat? {
        var st = Glibc.stat()
        return (followLinks ? stat(path, &st) : lstat(path, &st)) == 0 ? st : nil
    }

    public static func mkdir(_ path: String, mode: mode_t) throws {
        if Glibc.mkdir(path, mode) != 0 && Glibc.errno != EEXIST {
            throw SystemError("mkdir", path, errno: Errno(rawValue: Glibc.errno))
        }
    }

    public static func rename(_ from: String, _ to: String) throws {
        if Glibc.rename(from, to) != 0 {
            throw SystemError("rename", "\(from) -> \(to)", errno: Errno(rawValue: Glibc.errno))
        }
    }

    /// CLOCK_REALTIME and CLOCK_BOOTTIME in nanoseconds, read back to back so
    /// that a BPF boot timestamp can be turned into wall-clock time.
    public static func clocks() -> (realtime: Int64, boottime: Int64) {
        var real = timespec(), boot = timespec()
        clock_gettime(CLOCK_REALTIME, &real)
        clock_gettime(CLOCK_BOOTTIME, &boot)
        return (Int64(real.tv_sec) * 1_000_000_000 + Int64(real.tv_nsec),
                Int64(boot.tv_sec) * 1_000_000_000 + Int64(boot.tv_nsec))
    }

    /// setpriority(2) of this process to `nice` (lower runs first); the nice
    /// value in effect afterwards, and the error if it could not be set.
    public static func setNice(_ nice: Int32) -> (nice: Int32, error: Errno?) {
        let error: Errno? = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice) == 0 ? nil : Errno(rawValue: errno)
        errno = 0
        let now = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        return (now, error)
    }

    /// CPUs online now (at least 1).
    public static func onlineCPUs() -> Int {
        max(1, sysconf(CInt(_SC_NPROCESSORS_ONLN)))
    }

    /// Points each of `fds` that is a regular file at /dev/null: an open log
    /// file would keep its file system from going read-only.
    public static func detachFromRegularFiles(_ fds: [CInt]) {
        for fd in fds {
            var info = Glibc.stat()
            guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { continue }
            let null = open("/dev/null", O_WRONLY | O_CLOEXEC)
            guard null >= 0 else { continue }
            _ = dup2(null, fd)
            _ = close(null)
        }
    }
}
