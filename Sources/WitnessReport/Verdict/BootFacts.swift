import WitnessEvidence
import WitnessStore
import WitnessModel

/// Everything known about one boot, from every source, as plain data: the
/// verdict is a pure function of it (so fixtures can test every case).
public struct BootFacts: Equatable, Sendable {
    public var bootID: String
    /// When it started and was last seen alive, by any source.
    public var start: String?
    public var lastSeen: String?

    /// The witness store's view of that boot; nil where it was not armed.
    public var witness: WitnessBoot?
    /// pstore records left by that boot (harvested into the store, or still in pstore).
    public var pstore: [PstoreRecord] = []
    /// That boot's journal, where one was kept (persistent journal).
    public var journal: JournalBootFacts?
    /// Audit events of that boot (shutdown, boot, runlevel, sudo's USER_CMD, SERVICE_START, logins).
    public var audit: [AuditEvent] = []
    /// wtmp entries within that boot (shutdown, runlevel).
    public var wtmp: [WtmpEntry] = []
    /// Signs at the next boot that this one did not stop cleanly (file
    /// system or journal recovery), with where they were read.
    public var uncleanMarkers: [Evidence] = []
    /// The watchdogs' boot status, when the boot that followed is this one.
    public var watchdogStatus: [WatchdogBootStatus] = []
    /// How the BMC says this boot ended (a SEL event in its window, or the
    /// restart cause of the boot after it), where it says so.
    public var bmcEnding: BMCEndingFact?
    /// Boot attempts after this boot that failed: pstore records of a root
    /// that did not mount, the next boot's boot loader notes, a failing
    /// preflight before the reboot (see FailedAttempts).
    public var failedAttempts: [Evidence] = []
    /// What each source had or lacked for this boot ("witness not armed in that boot").
    public var sourceNotes: [Evidence] = []
    /// Lines posing as evidence their writers cannot vouch for (a forgery
    /// attempt is itself a finding: shown against whatever it claimed).
    public var forgeries: [ForgedLine] = []
    /// The boot's soft reboots (store and journal), oldest first.
    public var softReboots: [SoftReboot] = []

    public init(bootID: String) { self.bootID = bootID }

    /// Where the log facts (`journal`) were read: the journal, or text syslog.
    public var logSource: Evidence.Source { journal?.origin == .syslog ? .syslog : .journal }

    /// The witness's caller records (exits joined, initiators linked).
    public var records: [CallerRecord] {
        get { witness?.records ?? [] }
        set { witnessed.items = newValue.map { WitnessBoot.Item(record: $0, outcome: nil) } }
    }
    public var watchdog: [WatchdogRecord] {
        get { witness?.watchdog ?? [] }
        set { witnessed.watchdog = newValue }
    }
    public var armed: String? {
        get { witness?.armed }
        set { witnessed.armed = newValue }
    }
    public var lastAlive: String? {
        get { witness?.lastAlive }
        set { witnessed.lastAlive = newValue }
    }
    public var cleanStop: String? {
        get { witness?.stopped }
        set { witnessed.stopped = newValue }
    }

    /// The witness's view, begun where there was none (fixtures build facts piece by piece).
    private var witnessed: WitnessBoot {
        get { witness ?? WitnessBoot(bootID: bootID) }
        set { witness = newValue }
    }
}

/// The BMC's account of a boot's end, and the record or answer that says it.
public struct BMCEndingFact: Equatable, Sendable {
    public var ending: BMCEnding
    public var evidence: Evidence
}
