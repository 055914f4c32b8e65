import FoundationEssentials

/// A compiled BPF object from `bpf/`, embedded at build time.
public struct BPFObject: Sendable {
    public let name: String
    public let bytes: [UInt8]

    /// The object built from `bpf/<name>.bpf.c`, or nil if no such source exists.
    public static func named(_ name: String) -> BPFObject? {
        guard let text = EmbeddedBPFObjects.base64[name],
              let data = Data(base64Encoded: text) else { return nil }
        return BPFObject(name: name, bytes: [UInt8](data))
    }
}
