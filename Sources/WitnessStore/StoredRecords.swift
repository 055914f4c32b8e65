import FoundationEssentials
import WitnessModel

/// The records a store holds: by id, the slots each occupies, and the merge
/// keys that find the record a later entry updates. A record read from the
/// file is decoded whole only when it is read or merged: opening a store
/// reads each one's index (`StoreEntryIndex`), and most of a full store is
/// earlier boots' records that no merge looks at.
struct StoredRecords {
    struct Record {
        var index: StoreEntryIndex
        var entry: StoreEntry?   // nil until decoded
        var payload: [UInt8]?    // its JSON, until decoded
        var slots: [Int]         // one, or two once updated (A/B)
        var newestSlot: Int
    }

    private var records: [UInt64: Record] = [:]
    private var byKey: [String: UInt64] = [:]
    /// Records not yet in `byKey`, by merge domain: an entry's domain is
    /// keyed (its records decoded) before the record it updates is looked for.
    private var unkeyed: [String: [UInt64]] = [:]
    /// Slots of records whose index read but not their whole, found since
    /// the store last took them (`takeUnreadable`).
    private var unreadable: (records: Int, slots: [Int]) = (0, [])
    private let decoder = JSONDecoder()

    subscript(id: UInt64) -> Record? {
        get { records[id] }
        set { records[id] = newValue }
    }

    /// A record read from the file: its index, or nil where even that does not decode.
    mutating func add(id: UInt64, payload: ArraySlice<UInt8>, slots: [Int], newestSlot: Int) -> StoreEntryIndex? {
        guard let index = try? decoder.decode(StoreEntryIndex.self, from: Data(payload)) else { return nil }
        records[id] = Record(index: index, entry: nil, payload: Array(payload), slots: slots, newestSlot: newestSlot)
        if let domain = index.mergeDomain { unkeyed[domain, default: []].append(id) }
        return index
    }

    /// A record written now into `slot`.
    mutating func add(id: UInt64, entry: StoreEntry, slot: Int) {
        records[id] = Record(index: StoreEntryIndex(entry), entry: entry, payload: nil, slots: [slot], newestSlot: slot)
        if let key = entry.mergeKey { byKey[key] = id }
    }

    /// The record `entry` updates, decoded: its id and its entry.
    mutating func updated(by entry: StoreEntry) -> (id: UInt64, entry: StoreEntry)? {
        guard let key = entry.mergeKey else { return nil }
        if let domain = entry.mergeDomain { self.key(domain) }
        guard let id = byKey[key], let existing = decoded(id) else { return nil }
        return (id, existing)
    }

    /// Record `id` now holds `entry` (a merge).
    mutating func replace(_ id: UInt64, with entry: StoreEntry) {
        records[id]?.entry = entry
        records[id]?.index = StoreEntryIndex(entry)
    }

    /// `slot` no longer holds a copy of record `owner`; the record goes with its last slot.
    mutating func forget(slot: Int, of owner: UInt64) {
        guard var record = records[owner] else { return }
        record.slots.removeAll { $0 == slot }
        if record.slots.isEmpty {
            records[owner] = nil
            if let key = record.entry?.mergeKey, byKey[key] == owner { byKey[key] = nil }
        } else {
            if record.newestSlot == slot { record.newestSlot = record.slots[0] }
            records[owner] = record
        }
    }

    /// Every record whole, oldest first.
    mutating func all() -> [StoreEntry] {
        records.keys.sorted().compactMap { decoded($0) }
    }

    /// One boot's records whole, oldest first; the others stay undecoded.
    mutating func all(ofBoot bootID: String) -> [StoreEntry] {
        records.keys.sorted().filter { records[$0]?.index.bootID == bootID }.compactMap { decoded($0) }
    }

    /// The boot of the newest record, pstore's aside, of a boot other than `current`.
    func latestBoot(other current: String) -> String? {
        let newest = records.keys.sorted().last { id in
            records[id].map { $0.index.kind != .pstore && $0.index.bootID != current } ?? false
        }
        return newest.flatMap { records[$0]?.index.bootID }
    }

    /// Records found unreadable when decoded, and their slots, since the last call.
    mutating func takeUnreadable() -> (records: Int, slots: [Int]) {
        defer { unreadable = (0, []) }
        return unreadable
    }

    /// Record `id` whole, decoded the first time it is asked for. One whose
    /// index read but not the rest is dropped, counted with its slots
    /// (`takeUnreadable`), as the scan counts an unreadable slot.
    private mutating func decoded(_ id: UInt64) -> StoreEntry? {
        guard var record = records[id] else { return nil }
        if let entry = record.entry { return entry }
        guard let payload = record.payload, let entry = try? decoder.decode(StoreEntry.self, from: Data(payload)) else {
            unreadable.records += 1
            unreadable.slots += record.slots
            records[id] = nil
            return nil
        }
        record.entry = entry
        record.payload = nil
        records[id] = record
        return entry
    }

    /// Puts every record of `domain` in `byKey` (the newest wins a key two hold).
    private mutating func key(_ domain: String) {
        guard let ids = unkeyed.removeValue(forKey: domain) else { return }
        for id in ids.sorted() {
            if let key = decoded(id)?.mergeKey { byKey[key] = id }
        }
    }
}
