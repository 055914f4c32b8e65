import Glibc
import WitnessAttribution
import WitnessSystem

/// rsyslog's text files in a log directory, and their rotations in the
/// order logrotate made them: `messages-20261122`, `messages-20261129.gz`,
/// `messages` (dateext, RHEL); `syslog.3.gz`, `syslog.2.gz`, `syslog.1`,
/// `syslog` (numbered, Debian). Oldest first.
public struct SyslogFile: Equatable, Sendable {
    /// Which of a host's logs: the one that carries the kernel's lines and
    /// the daemons' (messages, syslog), or the authentication log (secure, auth.log).
    public enum Stream: String, Sendable { case main, auth }

    public var path: String
    public var stream: Stream
    /// The log's own name (messages, auth.log…).
    public var log: String
    /// Modification time, seconds since the epoch: the year of an RFC 3164 file's last line.
    public var modified: Int64
    public var size: Int64
}

public enum SyslogFiles {
    /// The logs each stream is read from, in order of preference: RHEL
    /// writes messages and secure; Debian and Ubuntu syslog (everything but
    /// auth) and auth.log, with kern.log and daemon.log as subsets of syslog
    /// (read only where there is no syslog or messages).
    static let mainLogs = ["syslog", "messages"], fallbackLogs = ["kern.log", "daemon.log"], authLogs = ["secure", "auth.log"]

    /// At most this many rotations of one log are read.
    static let rotationLimit = 64

    /// The files to read in `directory`, oldest first per stream, and why
    /// any that are there were not taken.
    public static func find(in directory: String) -> (files: [SyslogFile], notes: [String]) {
        guard let names = Files.list(directory) else { return ([], ["no syslog directory \(directory)"]) }
        var notes: [String] = []
        var files: [SyslogFile] = []
        func rotations(of log: String, stream: SyslogFile.Stream) -> [SyslogFile] {
            var found: [(key: (Int, Int), file: SyslogFile)] = []
            for name in names {
                guard let rank = rotationRank(name, of: log) else { continue }
                let path = directory + "/" + name
                var st = stat()
                guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
                if let distrust = trust(st) {
                    notes.append("\(path) not read: \(distrust)")
                    continue
                }
                found.append((rank, SyslogFile(path: path, stream: stream, log: log, modified: Int64(st.st_mtim.tv_sec),
                                                size: Int64(st.st_size))))
            }
            found.sort { $0.key < $1.key }
            if found.count > rotationLimit {
                notes.append("\(log): the \(found.count - rotationLimit) oldest of \(found.count) rotations not read")
                found.removeFirst(found.count - rotationLimit)
            }
            return found.map(\.file)
        }
        let main = mainLogs.lazy.map { rotations(of: $0, stream: .main) }.first { !$0.isEmpty }
            ?? fallbackLogs.flatMap { rotations(of: $0, stream: .main) }
        files += main
        files += authLogs.lazy.map { rotations(of: $0, stream: .auth) }.first { !$0.isEmpty } ?? []
        return (files, notes)
    }

    /// Where `name` sorts among the rotations of `log` (older first), or nil
    /// when it is not one: the live file last; dated ones by date; numbered
    /// ones by descending number.
    static func rotationRank(_ name: String, of log: String) -> (Int, Int)? {
        guard name.hasPrefix(log) else { return nil }
        var rest = Substring(name.dropFirst(log.count))
        if rest.isEmpty { return (3, 0) }
        if rest.hasSuffix(".gz") { rest = rest.dropLast(3) }
        if rest.hasPrefix("-"), rest.count >= 9, let date = Int(rest.dropFirst().prefix(8)),
           rest.dropFirst(9).allSatisfy(\.isNumber) {
            return (2, date)  // messages-20261129 (dateext; dateformat may add an hour)
        }
        if rest.hasPrefix("."), let number = Int(rest.dropFirst()), number > 0 {
            return (1, -number)  // syslog.2.gz
        }
        return nil
    }

    /// rsyslog writes its files as root (RHEL, Debian) or as its own user
    /// (Ubuntu: syslog:adm 0640); a file anyone else owns, or that others
    /// may write, is no record of what the system logged.
    static func trust(_ st: stat) -> String? {
        if st.st_uid != 0 && UserNames().name(st.st_uid) != "syslog" {
            return "owned by uid \(st.st_uid), not root or syslog"
        }
        if st.st_mode & 0o022 != 0 { return "writable by others (mode \(String(st.st_mode & 0o7777, radix: 8)))" }
        return nil
    }
}
