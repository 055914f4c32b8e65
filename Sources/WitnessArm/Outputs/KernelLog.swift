import WitnessModel
import WitnessReport
import Glibc
import WitnessSystem

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
        // One record per write: what the line carries from outside cannot start another.
        let bytes = Array(((priorityPrefix ? "<\(priority)>" : "") + TerminalText.escape(line).prefix(900) + "\n").utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }
}
