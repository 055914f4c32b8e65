import WitnessModel

/// Where records become durable. `append` returns only once the entries
/// would survive a power cut.
public protocol RecordStore: AnyObject {
    var location: String { get }
    func append(_ entries: [StoreEntry]) throws
    func load() throws -> StoreContents
    /// One boot's records, oldest first (a store may decode no others).
    func entries(ofBoot bootID: String) throws -> [StoreEntry]
    /// The boot of the newest record, pstore's aside, of a boot other than `current`.
    func latestBoot(other current: String) throws -> String?
}

extension RecordStore {
    public func entries(ofBoot bootID: String) throws -> [StoreEntry] {
        try load().entries.filter { $0.bootID == bootID }
    }

    public func latestBoot(other current: String) throws -> String? {
        try load().entries.last { $0.bootID != current && $0.kind != .pstore }?.bootID
    }
}
