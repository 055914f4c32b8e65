/// What the store holds: caller records and boot markers, in arrival order.
public enum StoreEntry: Codable, Equatable, Sendable {
    case caller(CallerRecord)
    /// `arm` started in this boot.
    case start(BootMarker)
    /// `arm` was still running at `time` (rewritten in place every few
    /// seconds): after a hard reset, the last sign of life.
    case alive(BootMarker)
    /// `arm` stopped on SIGTERM/SIGINT: an orderly shutdown reached it.
    case stop(BootMarker)
    /// A pstore record of an earlier boot, harvested when `arm` started.
    case pstore(PstoreRecord)
    /// The watchdog hunt: a watchdog starving, and who stopped feeding it.
    case watchdog(WatchdogRecord)
    /// What preflight said about the next boot.
    case preflight(PreflightRecord)

    public struct BootMarker: Codable, Equatable, Sendable {
        public var bootID: String
        public var time: String
        public var kernel: String
        public var pid: Int32
        /// On a start marker: what the boot loader said of the attempts before
        /// this boot (GRUB's recordfail, boot counters), read before the
        /// system clears them.
        public var bootLoader: [String]?
        /// On a start marker: systemd's SoftRebootsCount then (256+; nil where
        /// PID 1 has no such property or did not answer).
        public var softReboots: Int?

        enum CodingKeys: String, CodingKey {
            case bootID = "boot_id", time, kernel, pid, bootLoader = "boot_loader", softReboots = "soft_reboots"
        }

        public init(bootID: String, time: String, kernel: String, pid: Int32, bootLoader: [String]? = nil, softReboots: Int? = nil) {
            self.bootID = bootID
            self.time = time
            self.kernel = kernel
            self.pid = pid
            self.bootLoader = bootLoader
            self.softReboots = softReboots
        }
    }

    public var bootID: String {
        switch self {
        case .caller(let record): return record.bootID
        case .start(let marker), .alive(let marker), .stop(let marker): return marker.bootID
        case .pstore(let record): return record.bootID ?? "unknown"
        case .watchdog(let record): return record.bootID
        case .preflight(let record): return record.bootID
        }
    }

    /// Entries with the same key are one record in the store: the later
    /// one updates it (see `merged(with:)`). nil: always a new record.
    public var mergeKey: String? {
        switch self {
        case .caller(let record): return record.dedupKey
        case .alive(let marker): return "alive\u{1f}\(marker.bootID)"
        case .pstore(let record): return "pstore\u{1f}\(record.file)\u{1f}\(record.header)\u{1f}\(record.bytes)"
        case .watchdog(let record): return "watchdog\u{1f}\(record.bootID)\u{1f}\(record.device)\u{1f}\(record.lastKeepaliveBootNs)"
        case .start, .stop, .preflight: return nil
        }
    }

    /// This entry updated by a later one with the same `mergeKey`.
    public func merged(with later: StoreEntry) -> StoreEntry {
        // A pstore record found again in a later boot still belongs to the
        // boot it was first harvested for.
        if case .pstore = self { return self }
        guard case .caller(var record) = self, case .caller(let next) = later else { return later }
        record.count += next.count
        record.lastTime = next.lastTime ?? next.time
        // A new first call of the same caller (a later capture in the same
        // boot saw it afresh): its (tid, boot time) is what the kernel now
        // counts repeats under, and how an arm that adopts that capture
        // finds this record again (RepeatFolding.resume).
        if let nextNs = next.bootNs, next.time > record.time || record.bootNs == nil, nextNs != record.bootNs,
           next.lastTime == nil {
            record.bootNs = nextNs
            record.tid = next.tid
        }
        return .caller(record)
    }

    /// The entry's `type` in its JSON.
    public enum Kind: String, Codable, Sendable { case caller, start, alive, stop, pstore, watchdog, preflight }
    private enum TypeKey: String, CodingKey { case type }

    public init(from decoder: Decoder) throws {
        let kind = try decoder.container(keyedBy: TypeKey.self).decode(Kind.self, forKey: .type)
        switch kind {
        case .caller: self = .caller(try CallerRecord(from: decoder))
        case .start: self = .start(try BootMarker(from: decoder))
        case .alive: self = .alive(try BootMarker(from: decoder))
        case .stop: self = .stop(try BootMarker(from: decoder))
        case .pstore: self = .pstore(try PstoreRecord(from: decoder))
        case .watchdog: self = .watchdog(try WatchdogRecord(from: decoder))
        case .preflight: self = .preflight(try PreflightRecord(from: decoder))
        }
    }

    public var kind: Kind {
        switch self {
        case .caller: return .caller
        case .start: return .start
        case .alive: return .alive
        case .stop: return .stop
        case .pstore: return .pstore
        case .watchdog: return .watchdog
        case .preflight: return .preflight
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: TypeKey.self)
        switch self {
        case .caller(let record):
            try container.encode(Kind.caller, forKey: .type)
            try record.encode(to: encoder)
        case .start(let marker), .alive(let marker), .stop(let marker):
            try container.encode(self.kind, forKey: .type)
            try marker.encode(to: encoder)
        case .pstore(let record):
            try container.encode(Kind.pstore, forKey: .type)
            try record.encode(to: encoder)
        case .watchdog(let record):
            try container.encode(Kind.watchdog, forKey: .type)
            try record.encode(to: encoder)
        case .preflight(let record):
            try container.encode(Kind.preflight, forKey: .type)
            try record.encode(to: encoder)
        }
    }
}

/// Everything readable from a store, and how much was not.
public struct StoreContents: Sendable {
    public var entries: [StoreEntry]
    /// Entries that could not be read (torn by a reset, corrupt), skipped.
    public var skipped: Int
    /// Slots the device would not give back (I/O errors): not the same as
    /// empty, and never taken for empty.
    public var readErrors: Int

    public init(entries: [StoreEntry], skipped: Int, readErrors: Int = 0) {
        self.entries = entries
        self.skipped = skipped
        self.readErrors = readErrors
    }

    /// Boot ids in the order the store first saw them (oldest first).
    public var bootOrder: [String] {
        var seen = Set<String>(), order: [String] = []
        for entry in entries where seen.insert(entry.bootID).inserted { order.append(entry.bootID) }
        return order
    }
}

/// How hard the store holds on to an entry when it is full (see SlotStore):
/// noise gives way first and only ever takes the place of noise; routine
/// entries and stopping ones each keep a share of the slots.
public enum Retention: Int, Comparable, Sendable, CaseIterable {
    /// reboot(2) calls the kernel refused (bad magic), and their exits.
    case noise
    /// Boot markers, intents, other commands, exits, the watchdog hunt's opens and closes.
    case routine
    /// What stops the machine or a PID namespace: reboot(2) with a stopping
    /// command, kernel restart/halt/poweroff/panic paths, watchdog fires and
    /// findings, pstore records of a panic.
    case stopping

    public static func < (a: Retention, b: Retention) -> Bool { a.rawValue < b.rawValue }
}

extension StoreEntry {
    public var retention: Retention {
        switch self {
        case .caller(let record): return record.retention
        default: return Self.retention(of: kind)
        }
    }

    /// Every entry but a caller's keeps its kind's retention.
    static func retention(of kind: Kind) -> Retention {
        switch kind {
        case .caller, .start, .alive, .stop, .preflight: return .routine
        case .pstore, .watchdog: return .stopping
        }
    }
}

extension CallerRecord {
    /// -EINVAL: what reboot(2) returns for bad magic.
    private static let invalidArgument: Int64 = -22

    public var retention: Retention { Self.retention(probe: probe, cmd: cmd, cmdArg: cmdArg, retval: retval) }

    static func retention(probe: ProbeID, cmd: RebootAction?, cmdArg: String?, retval: Int64?) -> Retention {
        switch probe.kind {
        case .syscallExit?: return retval == Self.invalidArgument ? .noise : .routine
        case .execIntent?, .busIntent?, .watchdogHunt?, .control?: return .routine
        case .syscallEntry?:
            guard let cmd else { return .noise }
            return cmd == .invalid ? .noise : cmd.stops ? .stopping : .routine
        // sysrq: b and o stop (an action), c crashes; other keys do neither.
        case .sysrqWrite?: return cmdArg?.first.flatMap(SysrqKey.init(key:)) != nil ? .stopping : .routine
        // kernel restart/halt/poweroff/kexec paths, panics, watchdog fires, and probes this version does not know
        case .kernelPath?, .panic?, .watchdogFire?, nil: return .stopping
        }
    }
}
