import WitnessEvidence
import WitnessStore
import WitnessSystem
import WitnessModel

/// Where `last` and `dump` read what this host kept about its boots, each
/// source opened once per run. Nothing here creates or changes anything.
/// A source that is absent or unreadable is described, never fatal.
public final class HostEvidence {
    public struct Locations: Sendable {
        public var store = StoreDirectory.defaultPath
        /// nil: the system's own journal.
        public var journalDirectory: String?
        public var readJournal = true
        public var auditDirectory = AuditLog.defaultDirectory
        public var wtmp = Wtmp.defaultPath
        /// rsyslog's text files (nil: not read).
        public var syslogDirectory: String? = "/var/log"
        /// How many of the newest boots the text logs must be read back to (nil: all of them).
        public var syslogBoots: Int? = 2
        public var pstoreRoots = PstoreHarvest.locations
        public var watchdogRoot = "/sys/class/watchdog"
        public var kernelLog = "/dev/kmsg"
        /// The BMC's OpenIPMI device (nil: not asked).
        public var ipmiDevice: String? = "/dev/ipmi0"

        public init() {}
    }

    public let locations: Locations
    /// The store's contents; nil where there is no store (never armed here).
    public let store: Result<StoreContents?, StoreError>
    /// nil: not read (`--no-journal`).
    public let journal: Result<JournalReader, SystemError>?
    public let wtmp: Result<[WtmpEntry], SystemError>
    /// The text logs, where read (a host whose journal lacks the boots asked for).
    public let syslog: SyslogSource?
    public internal(set) var timeline: BootTimeline
    /// The evidence is this running host's: its kernel log and watchdogs speak
    /// of the boot before this one. False for a journal directory that does
    /// not hold the running boot (a copy of another host's).
    public let thisHost: Bool
    private var audit: (from: Instant, reading: Result<AuditLog.Reading, SystemError>)?
    private var unharvestedPstore: (records: [PstoreRecord], notes: [String])?
    private var bmcReading: BMCReading??
    private var damagedJournal: [String]?

    public init(_ locations: Locations, current: String = BootIdentity.current(),
                currentStart: Instant? = BootIdentity.currentStart()) {
        self.locations = locations
        store = Self.readStore(locations.store)
        journal = locations.readJournal ? Result { try JournalReader(directory: locations.journalDirectory) }
            .mapError { $0 as? SystemError ?? SystemError("sd_journal_open", locations.journalDirectory, errno: .ioError) } : nil
        wtmp = Wtmp.read(path: locations.wtmp)
        let journalBoots = (try? journal?.get()).map { JournalBoot.list(in: $0) } ?? []
        thisHost = locations.journalDirectory == nil || journalBoots.contains { $0.id == current }
        let witnessBoots = ((try? store.get()) ?? nil).map(WitnessBoot.fold) ?? []
        // Text logs are read where the journal does not hold the boots asked for (RHEL's volatile journal).
        let wanted = locations.syslogBoots
        syslog = locations.syslogDirectory.flatMap { directory in
            wanted.map { journalBoots.count >= $0 } == true ? nil : SyslogSource(directory: directory)
        }
        timeline = BootTimeline(witness: witnessBoots, journal: journalBoots, syslog: syslog?.boots(newest: wanted) ?? [],
                                wtmp: (try? wtmp.get()) ?? [], current: thisHost ? current : "unknown",
                                currentStart: thisHost ? currentStart : nil)
    }

    /// The store in `directory`, nil where none was ever made, or why it cannot be read.
    static func readStore(_ directory: String) -> Result<StoreContents?, StoreError> {
        guard Files.exists(directory) else { return .success(nil) }
        return Result {
            try StoreDirectory.prepare(directory, create: false)
            guard Files.exists(directory + "/" + SlotStore.fileName) else { return nil }
            return try SlotStore(directory: directory, create: false).load()
        }.mapError { $0 as? StoreError ?? StoreError("\(directory): \($0)") }
    }

    /// Audit events from `start` on, read once for the earliest start asked.
    func auditEvents(from start: Instant) -> Result<AuditLog.Reading, SystemError> {
        if let audit, audit.from <= start { return audit.reading }
        let reading = AuditLog.read(directory: locations.auditDirectory, from: start)
        audit = (start, reading)
        return reading
    }

    /// Journal files sd-journal could not read an entry from (looked for
    /// once, when a boot is missing from the journal or a read failed).
    func unreadableJournalFiles() -> [String] {
        if let damagedJournal { return damagedJournal }
        let files = journal == nil ? [] : JournalReader.unreadableFiles(directory: locations.journalDirectory)
        damagedJournal = files
        return files
    }

    /// "; 2 journal file(s) could not be read: …", or "" when all could.
    public func journalDamageNote() -> String {
        let files = unreadableJournalFiles()
        guard !files.isEmpty else { return "" }
        return "; \(files.count) journal file(s) could not be read (truncated or corrupt): "
            + files.prefix(3).joined(separator: ", ") + (files.count > 3 ? ", …" : "")
    }

    /// What this host's BMC keeps (read once per run; nil: no BMC, or not this host's evidence).
    func bmc() -> BMCReading? {
        if let bmcReading { return bmcReading }
        let reading = thisHost ? locations.ipmiDevice.flatMap { BMCReading.read(device: $0) } : nil
        bmcReading = .some(reading)
        return reading
    }

    /// pstore records still in pstore (not yet harvested by `arm`), and why some were not read.
    func pstoreFiles() -> (records: [PstoreRecord], notes: [String]) {
        if let unharvestedPstore { return unharvestedPstore }
        let (entries, notes) = PstoreHarvest.collect(previousBoot: nil, roots: locations.pstoreRoots)
        let records = entries.compactMap { entry -> PstoreRecord? in
            if case .pstore(let record) = entry { return record }
            return nil
        }
        unharvestedPstore = (records, notes)
        return (records, notes)
    }
}
