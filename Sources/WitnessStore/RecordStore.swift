import WitnessModel

/// Where records become durable. `append` returns only once the entries
/// would survive a power cut.
public protocol RecordStore: AnyObject {
    var location: String { get }
    func append(_ entries: [StoreEntry]) throws
    func load() throws -> StoreContents
}
