import CWitness
import Glibc
import WitnessSystem

/// Shutdown and boot entries of wtmp, through glibc's utmpx reader.
public enum Wtmp {
    public static func read(path: String = "/var/log/wtmp") -> [WtmpEntry] {
        guard Files.exists(path) else { return [] }
        var entries: [WtmpEntry] = []
        guard cw_utmpx_file(path) == 0 else { return [] }
        setutxent()
        defer { endutxent() }
        while let entry = getutxent() {
            var record = entry.pointee
            let user = withUnsafeBytes(of: &record.ut_user) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            let nanoseconds = Int64(record.ut_tv.tv_sec) * 1_000_000_000 + Int64(record.ut_tv.tv_usec) * 1000
            let time = WallClock.iso8601(realtimeNanoseconds: nanoseconds)
            switch Int32(record.ut_type) {
            case RUN_LVL where user == "shutdown": entries.append(WtmpEntry(kind: "shutdown", user: user, time: time))
            case BOOT_TIME: entries.append(WtmpEntry(kind: "reboot", user: user, time: time))
            case RUN_LVL: entries.append(WtmpEntry(kind: "runlevel", user: user, time: time))
            default: continue
            }
        }
        return entries
    }
}
