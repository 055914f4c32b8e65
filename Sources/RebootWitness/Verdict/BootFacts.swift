import WitnessStore

/// Everything known about one boot, from every source, as plain data: the
/// verdict is a pure function of it (so fixtures can test every case).
public struct BootFacts: Equatable, Sendable {
    public var bootID: String
    /// The witness's records of that boot (callers, intents), in order.
    public var records: [CallerRecord] = []
    public var watchdog: [WatchdogRecord] = []
    /// `arm` ran in that boot: when it started, was last seen alive, stopped cleanly.
    public var armed: String?
    public var lastAlive: String?
    public var cleanStop: String?
    /// pstore records left by that boot.
    public var pstore: [PstoreRecord] = []
    /// The journal of that boot, where it was persistent.
    public var journal: [JournalLine] = []
    /// wtmp entries within that boot (shutdown, reboot, runlevel).
    public var wtmp: [WtmpEntry] = []
    /// Lines of the *next* boot's kernel log telling of an unclean stop
    /// (journal or log recovery, fsck), when that next boot is this one.
    public var uncleanMarkers: [String] = []

    public init(bootID: String) { self.bootID = bootID }
}

public struct JournalLine: Equatable, Sendable {
    public var time: String?
    public var unit: String?
    public var identifier: String?
    public var message: String

    public init(time: String?, unit: String?, identifier: String?, message: String) {
        self.time = time; self.unit = unit; self.identifier = identifier; self.message = message
    }
}

public struct WtmpEntry: Equatable, Sendable {
    /// "shutdown", "reboot" (a boot), "runlevel" (with its user field)
    public var kind: String
    public var user: String
    public var time: String

    public init(kind: String, user: String, time: String) {
        self.kind = kind; self.user = user; self.time = time
    }
}
