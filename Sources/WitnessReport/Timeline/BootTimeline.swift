import WitnessEvidence
import WitnessSystem

/// Every boot this host knows, from every source: the witness store's boots,
/// the journal's, wtmp's boot entries and the running boot, joined by boot
/// id (wtmp has none: its boots are joined by start time), oldest first.
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

        public init(id: String?) { self.id = id }

        /// The boot id, or a name for a boot that has none.
        public var name: String {
            id ?? (wtmpBoot.map { "wtmp-boot-\($0.iso8601)" } ?? "unlisted-previous-boot")
        }
    }

    /// Oldest first.
    public private(set) var boots: [Boot]

    /// A wtmp boot entry belongs to a known boot that started this close to it.
    static let wtmpSlack: Int64 = 300

    public init(witness: [WitnessBoot], journal: [JournalBoot], wtmp: [WtmpEntry], current: String, currentStart: Instant?) {
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
        for entry in wtmp where entry.kind == .boot {
            guard let time = Instant(iso8601: entry.time) else { continue }
            if let index = boots.indices.filter({ boots[$0].wtmpBoot == nil && boots[$0].start != nil })
                .min(by: { abs(boots[$0].start!.microseconds - time.microseconds) < abs(boots[$1].start!.microseconds - time.microseconds) }),
               abs(boots[index].start!.microseconds - time.microseconds) <= Self.wtmpSlack * 1_000_000 {
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
