import Glibc

/// Lines into the kernel log through /dev/kmsg, so that the journal and
/// pstore's dmesg records carry what the witness saw. Best effort: the
/// store is the record of truth.
final class KernelLog {
    private let fd: CInt

    init(path: String = "/dev/kmsg") {
        fd = open(path, O_WRONLY | O_CLOEXEC | O_NONBLOCK)
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// One message (the kernel takes one write as one record; <5> = notice).
    func write(_ line: String) {
        guard fd >= 0 else { return }
        let bytes = Array(("<5>" + line.prefix(900) + "\n").utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }
}
