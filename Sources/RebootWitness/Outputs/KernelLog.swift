import Glibc

/// Lines into the kernel log through /dev/kmsg (so the journal and pstore's
/// dmesg records carry what the witness saw), or into /dev/pmsg0. Best
/// effort: the store is the record of truth.
final class KernelLog {
    private let fd: CInt
    private let priorityPrefix: Bool

    init(path: String = "/dev/kmsg", priorityPrefix: Bool = true) {
        fd = open(path, O_WRONLY | O_CLOEXEC | O_NONBLOCK)
        self.priorityPrefix = priorityPrefix
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// One message (the kernel takes one write as one record; <5> = notice, <3> = error).
    func write(_ line: String, priority: Int = 5) {
        guard fd >= 0 else { return }
        let bytes = Array(((priorityPrefix ? "<\(priority)>" : "") + line.prefix(900) + "\n").utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }

    /// The kernel log still in the ring (non-blocking reads of /dev/kmsg), message text only.
    static func recentText(path: String = "/dev/kmsg") -> String {
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
                lines.append(String(record[record.index(after: semicolon)...].prefix { $0 != "\n" }))
            }
        }
        return lines.joined(separator: "\n")
    }
}
