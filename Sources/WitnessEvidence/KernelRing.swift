import Glibc

/// The kernel log still in the ring buffer, read through /dev/kmsg: the
/// running boot's first lines (file system recovery) before the journal has them.
public enum KernelRing {
    /// The kernel log still in the ring (non-blocking reads of /dev/kmsg),
    /// message text only. `kernelOnly`: only the kernel's own lines
    /// (facility 0: the kernel gives whatever userspace writes to /dev/kmsg
    /// LOG_USER at least, so a root process cannot pose as the kernel there).
    public static func recentText(path: String = "/dev/kmsg", kernelOnly: Bool = false) -> String {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var lines: [String] = []
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n < 0 && errno == EPIPE { continue }  // overwritten while reading: go on
            guard n > 0 else { break }
            // "prio,seq,time,flags;message\n continuation..."
            let record = String(decoding: buffer.prefix(n), as: UTF8.self)
            if let semicolon = record.firstIndex(of: ";") {
                // "prio" is (facility << 3) | level.
                let prio = record.prefix { $0 != "," }
                if kernelOnly, (Int(prio) ?? 8) >> 3 != 0 { continue }
                lines.append(String(record[record.index(after: semicolon)...].prefix { $0 != "\n" }))
            }
        }
        return lines.joined(separator: "\n")
    }
}
