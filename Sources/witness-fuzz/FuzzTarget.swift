import Glibc
import WitnessSystem

/// The parser families we wrote ourselves, one libFuzzer target each (the
/// formats others maintain go through their libraries: libauparse, sd-journal,
/// libarchive's filters, glibc's utmpx). Every target must return for any
/// bytes, within its length, without trapping; text that reaches a person
/// must come out of TerminalText with nothing left to escape.
enum FuzzTarget: String, CaseIterable {
    /// The crash-safe store file.
    case store
    /// grub.cfg, grubenv, BLS entries, loader.conf's default glob, EFI loader variables.
    case bootLoader = "boot-loader"
    /// /proc/self/mountinfo and /etc/fstab.
    case mounts
    /// modules.dep and modules.builtin.
    case modules
    /// An initramfs image: segments, compressions, cpio members.
    case initramfs
    /// A pstore dmesg record.
    case pstore
    /// sudo, pkexec, sshd, logind and PID 1 lines, and the journal's trusted fields that vouch for them.
    case journalLines = "journal-lines"
    /// The audit log's prefilter and field keeping in front of libauparse.
    case audit
    /// cgroup paths → container and pod.
    case cgroup
    /// /proc readers: stat, status, cgroup, environ, ns links, net/tcp, kallsyms.
    case proc
    /// A text syslog file (rsyslog's two formats): its lines, boots and facts.
    case syslog
    /// One rw_record as the ring buffer delivers it (the RESTART2 argument, argv, exe and cgroup slots).
    case record
    /// What a BMC answers over IPMI: SEL records, Get Watchdog Timer, Get System Restart Cause.
    case bmc

    /// Inputs longer than this are not tried (libFuzzer's -max_len).
    var maximumLength: Int {
        switch self {
        case .initramfs: 1 << 18
        case .store: 1 << 16
        default: 1 << 16
        }
    }

    func run(_ bytes: [UInt8]) {
        switch self {
        case .store: Harness.store(bytes)
        case .bootLoader: Harness.bootLoader(bytes)
        case .mounts: Harness.mounts(bytes)
        case .modules: Harness.modules(bytes)
        case .initramfs: Harness.initramfs(bytes)
        case .pstore: Harness.pstore(bytes)
        case .journalLines: Harness.journalLines(bytes)
        case .audit: Harness.audit(bytes)
        case .cgroup: Harness.cgroup(bytes)
        case .proc: Harness.proc(bytes)
        case .record: Harness.record(bytes)
        case .syslog: Harness.syslog(bytes)
        case .bmc: Harness.bmc(bytes)
        }
    }
}

/// A private directory for the targets whose parser reads a file.
let scratch: String = {
    var template = Array("/tmp/rw-fuzz-XXXXXX".utf8CString)
    guard let dir = mkdtemp(&template) else { fatalError("mkdtemp failed") }
    return String(cString: dir)
}()

/// Writes `bytes` to `name` under the scratch directory (mode 0600), making its directories.
func scratchFile(_ name: String, _ bytes: [UInt8]) -> String {
    let path = scratch + "/" + name
    var directory = scratch
    for part in name.split(separator: "/").dropLast() {
        directory += "/\(part)"
        mkdir(directory, 0o700)
    }
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    precondition(fd >= 0, "cannot write \(path)")
    var written = 0
    while written < bytes.count {
        let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        precondition(n > 0, "cannot write \(path)")
        written += n
    }
    close(fd)
    return path
}

/// What a person would see of `text`: escaped, and then nothing a terminal acts on may be left.
/// Values the parsers gave back (the replayer reports it: a corpus that
/// parses to nothing exercises nothing).
nonisolated(unsafe) var understood = 0

@discardableResult
func shown<S: StringProtocol>(_ text: S?) -> String {
    guard let text else { return "" }
    understood += 1
    let visible = TerminalText.escape(text)
    precondition(TerminalText.isInert(visible), "escaped text still holds controls: \(Array(visible.utf8))")
    return visible
}
