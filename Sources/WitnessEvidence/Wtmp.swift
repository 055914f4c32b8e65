import CWitness
import Glibc
import SystemPackage
import WitnessSystem

public struct WtmpEntry: Equatable, Sendable {
    public enum Kind: String, Sendable {
        /// A boot (BOOT_TIME, shown by `last -x` as "reboot").
        case boot = "reboot"
        /// The shutdown record an orderly stop writes (RUN_LVL with user "shutdown").
        case shutdown
        /// A runlevel change (RUN_LVL).
        case runlevel
    }

    public var kind: Kind
    public var user: String
    public var time: String

    public init(kind: Kind, user: String, time: String) {
        self.kind = kind; self.user = user; self.time = time
    }
}

/// Boot, shutdown and runlevel entries of wtmp, through glibc's utmpx reader.
public enum Wtmp {
    public static let defaultPath = "/var/log/wtmp"
    /// Entries read at most (a wtmp of years of logins is ~400 bytes an entry).
    static let entryLimit = 1_000_000

    /// The entries, or why the file cannot be read (an absent file is no error: no entries).
    public static func read(path: String = defaultPath) -> Result<[WtmpEntry], SystemError> {
        guard Files.exists(path) else { return .success([]) }
        // getutxent() says nothing of a file it cannot read, and would block
        // on a FIFO: open it first, non-blocking, and look at what it is.
        // glibc then reads that same open file (through /proc/self/fd), so
        // the path cannot be swapped between the check and the read.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { return .failure(SystemError("open", path, errno: Errno(rawValue: errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            return .failure(SystemError("read", path, errno: .invalidArgument, detail: "not a regular file"))
        }
        // wtmp is root's, group-writable for utmp's setgid tools; one anyone may write is no evidence.
        if let distrust = FileTrust.rootOwnedNotWorldWritable(st) {
            return .failure(SystemError("read", path, errno: .permissionDenied, detail: "not trusted: \(distrust)"))
        }
        guard cw_utmpx_file("/proc/self/fd/\(fd)") == 0 else {
            return .failure(SystemError("utmpxname", path, errno: .invalidArgument))
        }
        var entries: [WtmpEntry] = []
        setutxent()
        defer { endutxent() }
        var seen = 0
        while seen < entryLimit, let entry = getutxent() {
            seen += 1
            var record = entry.pointee
            let user = withUnsafeBytes(of: &record.ut_user) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            let time = Instant(seconds: Int64(record.ut_tv.tv_sec), microseconds: Int64(record.ut_tv.tv_usec)).iso8601
            switch Int32(record.ut_type) {
            case RUN_LVL where user == "shutdown": entries.append(WtmpEntry(kind: .shutdown, user: user, time: time))
            case BOOT_TIME: entries.append(WtmpEntry(kind: .boot, user: user, time: time))
            case RUN_LVL: entries.append(WtmpEntry(kind: .runlevel, user: user, time: time))
            default: continue
            }
        }
        return .success(entries)
    }
}
