/// What the store must know of a record it has not decoded whole: its kind,
/// its boot, its retention and its merge domain, read from a handful of its
/// JSON fields. Opening a full store decodes these alone (a caller record
/// has ~40 fields, its ancestry and its kernel stack); a record is decoded
/// whole when it is read or merged, which an arm start does for its own
/// boot's records only.
public struct StoreEntryIndex: Decodable, Equatable, Sendable {
    public let kind: StoreEntry.Kind
    /// nil only on a pstore record harvested with no boot to tag it with.
    public let bootID: String?
    public let retention: Retention

    private enum Keys: String, CodingKey { case type, bootID = "boot_id", probe, cmd, cmdArg = "cmd_arg", retval }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        kind = try c.decode(StoreEntry.Kind.self, forKey: .type)
        bootID = try c.decodeIfPresent(String.self, forKey: .bootID)
        guard kind == .caller else {
            retention = StoreEntry.retention(of: kind)
            return
        }
        // As CallerRecord reads them: an unknown command reads as none.
        retention = CallerRecord.retention(probe: try c.decode(ProbeID.self, forKey: .probe),
                                           cmd: try c.decodeIfPresent(String.self, forKey: .cmd).flatMap(RebootAction.init(rawValue:)),
                                           cmdArg: try c.decodeIfPresent(String.self, forKey: .cmdArg),
                                           retval: try c.decodeIfPresent(Int64.self, forKey: .retval))
    }

    public init(_ entry: StoreEntry) {
        kind = entry.kind
        if case .pstore(let record) = entry { bootID = record.bootID } else { bootID = entry.bootID }
        retention = entry.retention
    }

    /// See `StoreEntry.mergeDomain`.
    public var mergeDomain: String? { StoreEntry.mergeDomain(kind: kind, bootID: bootID) }
}

extension StoreEntry {
    /// Entries whose `mergeKey`s can be equal share a domain: one boot's
    /// callers, or its "alive" marker, or its watchdog findings (each key
    /// names its kind and boot), or every pstore record (found again in
    /// later boots). A store looks for the record an entry updates among
    /// its domain's alone: the alive marker rewritten every 10 s never
    /// decodes a flood's callers.
    public var mergeDomain: String? {
        Self.mergeDomain(kind: kind, bootID: bootID)
    }

    static func mergeDomain(kind: Kind, bootID: String?) -> String? {
        switch kind {
        case .caller, .alive, .watchdog: return bootID.map { kind.rawValue + "\u{1f}" + $0 }
        case .pstore: return "pstore"
        case .start, .stop, .preflight: return nil
        }
    }
}
