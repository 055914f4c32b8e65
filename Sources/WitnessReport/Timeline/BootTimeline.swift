import WitnessEvidence
import WitnessSystem

/// Every boot this host knows, from every source: the witness store's boots,
/// the journal's, text syslog's, wtmp's boot entries and the running boot,
/// joined by boot id (syslog and wtmp have none: theirs are joined by start
/// time), oldest first.
/// `dump` and `last` choose boots from this one list.
public struct BootTimeline: Sendable {
    public struct Boot: Equatable, Sendable {
        /// Dashed boot id; nil for a boot only wtmp knows.
        public var id: String?
        public var start: Instant?
        /// The latest sign of life the listed sources give (journal's last entry, the store's last entry).
        public var lastSeen: Instant?
        public var isCurrent = false
        public var journal: JournalBoot?
        public var witness: WitnessBoot?
        /// wtmp's boot entry for it.
        public var wtmpBoot: Instant?
        /// What the text logs kept of it (read only where the journal has no such boot).
        public var syslog: SyslogBoot?

        public init(id: String?) { self.id = id }

        /// The boot id, or a name for a boot that has none.
        public var name: String {
            id ?? syslog.flatMap { ($0.start ?? $0.first).map { "syslog-boot-\($0.iso8601)" } }
                ?? (wtmpBoot.map { "wtmp-boot-\($0.iso8601)" } ?? "unlisted-previous-boot")
        }
    }

    /// Oldest first.
    public private(set) var boots: [Boot]

    /// A wtmp boot entry or a syslog boot line belongs to a known boot that started this close to it.
    static let wtmpSlack: Int64 = 300

    public init(witness: [WitnessBoot], journal: [JournalBoot], syslog: [SyslogBoot] = [], wtmp: [WtmpEntry], current: String,
                currentStart: Instant?) {
        var byID: [String: Boot] = [:]
        var order: [String] = []
        func merge(_ id: String, _ update: (inout Boot) -> Void) {
            let key = JournalReader.dashedBootID(id)
            if byID[key] == nil { byID[key] = Boot(id: key); order.append(key) }
            update(&byID[key]!)
        }
        for boot in witness {
            merge(boot.bootID) { b in
                b.witness = boot
                b.start = Self.earliest(b.start, boot.first.flatMap(Instant.init(iso8601:)))
                b.lastSeen = Self.latest(b.lastSeen, boot.last.flatMap(Instant.init(iso8601:)))
            }
        }
        for boot in journal {
            merge(boot.id) { b in
                b.journal = boot
                b.start = Self.earliest(b.start, boot.first)
                b.lastSeen = Self.latest(b.lastSeen, boot.last)
            }
        }
        if current != "unknown" {
            merge(current) { b in
                b.isCurrent = true
                b.start = Self.earliest(b.start, currentStart)
            }
        }
        var boots = order.map { byID[$0]! }
        // rsyslog logs a boot's first line when it starts, seconds into the boot.
        for logged in syslog {
            guard let time = logged.start ?? logged.first else { continue }
            if let index = Self.nearest(time, in: boots, where: { $0.syslog == nil }) {
                boots[index].syslog = logged
                boots[index].lastSeen = Self.latest(boots[index].lastSeen, logged.last)
            } else {
                var boot = Boot(id: nil)
                boot.start = time
                boot.lastSeen = logged.last
                boot.syslog = logged
                boots.append(boot)
            }
        }
        for entry in wtmp where entry.kind == .boot {
            guard let time = Instant(iso8601: entry.time) else { continue }
            if let index = Self.nearest(time, in: boots, where: { $0.wtmpBoot == nil }) {
                boots[index].wtmpBoot = time
            } else {
                var boot = Boot(id: nil)
                boot.start = time
                boot.wtmpBoot = time
                boots.append(boot)
            }
        }
        // The running boot is the newest whatever the clocks say.
        self.boots = boots.enumerated().sorted { a, b in
            if a.element.isCurrent != b.element.isCurrent { return b.element.isCurrent }
            switch (a.element.start, b.element.start) {
            case let (x?, y?) where x != y: return x < y
            case (nil, _?): return true
            case (_?, nil): return false
            default: return a.offset < b.offset
            }
        }.map(\.element)
    }

    public var currentIndex: Int? { boots.lastIndex { $0.isCurrent } }

    /// A boot's own lines are written after it started (rsyslog stamps the
    /// kernel's first lines when it reads them, half a minute in on a slow
    /// machine; systemd-update-utmp writes wtmp's), never this much before.
    static let earlySlack: Int64 = 5

    /// The boot that started last before `time` (within the slacks), among those `eligible`:
    /// the previous boot, which started seconds earlier, is not the nearest by absolute distance.
    static func nearest(_ time: Instant, in boots: [Boot], where eligible: (Boot) -> Bool) -> Int? {
        let lag = { (index: Int) in time.microseconds - boots[index].start!.microseconds }
        return boots.indices.filter {
            boots[$0].start != nil && eligible(boots[$0]) && lag($0) >= -earlySlack * 1_000_000 && lag($0) <= wtmpSlack * 1_000_000
        }.min { abs(lag($0)) < abs(lag($1)) }
    }

    /// A boot before the first listed one that no source names: the running
    /// boot's pstore and kernel log may still speak of it.
    mutating func insertUnlistedBoot() {
        boots.insert(Boot(id: nil), at: 0)
    }

    /// Boots before the running one (all of them when it is not listed), oldest first.
    public var earlier: ArraySlice<Boot> {
        boots[..<(currentIndex ?? boots.count)]
    }

    /// The boot `back` boots before the running one (1: the previous boot).
    public func index(back: Int) -> Int? {
        let earlier = self.earlier
        guard back >= 1, back <= earlier.count else { return nil }
        return earlier.endIndex - back
    }

    /// The boot with this id (either form), or the one id this prefix starts.
    public func index(of id: String) -> Int? {
        let wanted = JournalReader.journalBootID(id)
        let matching = boots.indices.filter { boots[$0].id.map { JournalReader.journalBootID($0).hasPrefix(wanted) } ?? false }
        return matching.count == 1 ? matching[0] : boots.indices.first { boots[$0].id.map(JournalReader.journalBootID) == wanted }
    }

    static func earliest(_ a: Instant?, _ b: Instant?) -> Instant? {
        guard let a else { return b }
        return b.map { min(a, $0) } ?? a
    }

    static func latest(_ a: Instant?, _ b: Instant?) -> Instant? {
        guard let a else { return b }
        return b.map { max(a, $0) } ?? a
    }
}
