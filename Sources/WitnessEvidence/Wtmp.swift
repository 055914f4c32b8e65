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
        // getutxent() says nothing of a file it cannot read: try it first.
        do {
            let fd = try FileDescriptor.open(FilePath(path), .readOnly, options: .closeOnExec)
            try fd.close()
        } catch let error as Errno {
            return .failure(SystemError("open", path, errno: error))
        } catch {
            return .failure(SystemError("open", path, errno: .ioError))
        }
        guard !Files.isDirectory(path), cw_utmpx_file(path) == 0 else {
            return .failure(SystemError("utmpxname", path, errno: .isDirectory))
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
