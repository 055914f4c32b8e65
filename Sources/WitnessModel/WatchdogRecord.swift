/// The watchdog hunt's finding, written while a watchdog is starving (no
/// keepalive for half its timeout) and rewritten in place as it goes on: who
/// fed it last, and where that task is stuck. If the watchdog then resets the
/// machine, this is the record `dump` shows for the boot that ended.
public struct WatchdogRecord: Codable, Equatable, Sendable {
    public struct Pinger: Codable, Equatable, Sendable {
        public var pid: UInt32
        public var tid: UInt32
        public var comm: String
        public var exe: String?
        /// /proc state letter (R, S, D, T, Z…), or "gone" when it exited.
        public var state: String
        public var stateName: String
        public var wchan: String?
        public var kernelStack: [String]

        enum CodingKeys: String, CodingKey {
            case pid, tid, comm, exe, state, stateName = "state_name", wchan, kernelStack = "kernel_stack"
        }

        public init(pid: UInt32, tid: UInt32, comm: String, exe: String?, state: String, stateName: String,
                    wchan: String?, kernelStack: [String]) {
            self.pid = pid; self.tid = tid; self.comm = comm; self.exe = exe; self.state = state
            self.stateName = stateName; self.wchan = wchan; self.kernelStack = kernelStack
        }
    }

    public var bootID: String
    /// When this was last rewritten (ISO 8601 UTC).
    public var time: String
    public var device: String
    public var timeoutSeconds: UInt32
    public var sinceKeepaliveSeconds: Double
    public var keepalives: UInt32
    /// The last keepalive, CLOCK_BOOTTIME ns: one starvation episode.
    public var lastKeepaliveBootNs: UInt64
    public var lastKeepaliveTime: String
    public var pinger: Pinger

    enum CodingKeys: String, CodingKey {
        case bootID = "boot_id", time, device, timeoutSeconds = "timeout_s"
        case sinceKeepaliveSeconds = "since_keepalive_s", keepalives
        case lastKeepaliveBootNs = "last_keepalive_boot_ns", lastKeepaliveTime = "last_keepalive_time", pinger
    }

    public init(bootID: String, time: String, device: String, timeoutSeconds: UInt32, sinceKeepaliveSeconds: Double,
                keepalives: UInt32, lastKeepaliveBootNs: UInt64, lastKeepaliveTime: String, pinger: Pinger) {
        self.bootID = bootID; self.time = time; self.device = device; self.timeoutSeconds = timeoutSeconds
        self.sinceKeepaliveSeconds = sinceKeepaliveSeconds; self.keepalives = keepalives
        self.lastKeepaliveBootNs = lastKeepaliveBootNs; self.lastKeepaliveTime = lastKeepaliveTime; self.pinger = pinger
    }

    /// "watchdog0 starving: no keepalive for 3.1 s of 5 s; last by wdd[812], in D state (disk sleep) in nfs_wait…"
    public var summary: String {
        let since = (sinceKeepaliveSeconds * 10).rounded() / 10
        var text = "\(device) starving: no keepalive for \(since) s of \(timeoutSeconds) s; last by "
            + "\(pinger.comm)[\(pinger.pid)]"
        if let exe = pinger.exe { text += " (\(exe))" }
        text += pinger.state == "gone" ? ", which has exited" : ", in \(pinger.state) state (\(pinger.stateName))"
        if let wchan = pinger.wchan { text += " in \(wchan)" }
        return text
    }
}
