import Glibc
import SystemPackage

/// Small whole-file helpers over swift-system for /proc, /sys and our store.
public enum Files {
    /// The whole file, or nil if it cannot be opened (absent, no permission).
    public static func read(_ path: String, limit: Int = 64 << 20) -> [UInt8]? {
        guard let fd = try? FileDescriptor.open(FilePath(path), .readOnly, options: .closeOnExec) else {
            return nil
        }
        defer { try? fd.close() }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while result.count < limit {
            guard let n = try? chunk.withUnsafeMutableBytes({ try fd.read(into: $0, retryOnInterrupt: true) }),
                  n > 0 else { break }
            result.append(contentsOf: chunk[0..<n])
        }
        return result
    }

    public static func readText(_ path: String) -> String? {
        read(path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// First line of a small file, trimmed (sysctl-style files).
    public static func readLine(_ path: String) -> String? {
        guard let text = readText(path) else { return nil }
        return text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init)
    }

    public static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    public static func isDirectory(_ path: String) -> Bool {
        guard let st = SystemCalls.fileStatus(path) else { return false }
        return (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Names in a directory, without "." and "..", or nil when unreadable.
    public static func list(_ path: String) -> [String]? {
        guard let dir = opendir(path) else { return nil }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Writes `bytes` to `path` atomically (temp file, fsync, rename). The
    /// temporary file is made new (O_EXCL, O_NOFOLLOW, after removing any
    /// left behind): a link planted under its name is never followed.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: FilePermissions = [.ownerReadWrite]) throws {
        let temporary = path + ".tmp"
        unlink(temporary)
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(
                FilePath(temporary), .writeOnly, options: [.create, .exclusiveCreate, .noFollow, .closeOnExec], permissions: mode)
        } catch let errno as Errno {
            throw SystemError("create", temporary, errno: errno)
        }
        try fd.closeAfter {
            do {
                _ = try fd.writeAll(bytes)
            } catch let errno as Errno {
                throw SystemError("write", temporary, errno: errno)
            }
            try SystemCalls.fsync(fd, path: temporary)
        }
        try SystemCalls.rename(temporary, path)
    }
}

/// Whether a file of evidence could have been written by someone other than
/// the program that keeps it: a log is only as trustworthy as its writers.
public enum FileTrust {
    /// nil when only root could have written it (owned by root, not
    /// writable by its group or others), else why not.
    public static func rootOnly(_ st: stat) -> String? {
        if st.st_uid != 0 { return "owned by uid \(st.st_uid), not root" }
        if st.st_mode & 0o022 != 0 { return "writable by \(st.st_mode & 0o002 != 0 ? "anyone" : "group \(st.st_gid)") (mode \(String(st.st_mode & 0o7777, radix: 8)))" }
        return nil
    }

    /// nil when root owns it and not everyone may write it (wtmp and utmp
    /// are group-writable by design: their group's setgid tools write them), else why not.
    public static func rootOwnedNotWorldWritable(_ st: stat) -> String? {
        if st.st_uid != 0 { return "owned by uid \(st.st_uid), not root" }
        if st.st_mode & 0o002 != 0 { return "writable by anyone (mode \(String(st.st_mode & 0o7777, radix: 8)))" }
        return nil
    }
}
