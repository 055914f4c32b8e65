import FoundationEssentials

/// A compiled BPF object from `bpf/`, embedded at build time.
public struct BPFObject: Sendable {
    public let name: BPFObjectName
    public let bytes: [UInt8]

    /// Names the compiled programs: two builds with the same digest load the same programs.
    public static var digest: String { EmbeddedBPFObjects.digest }

    /// The object built from `bpf/<name>.bpf.c`.
    public static func named(_ name: BPFObjectName) -> BPFObject? {
        guard let text = EmbeddedBPFObjects.base64[name.rawValue],
              let data = Data(base64Encoded: text) else { return nil }
        return BPFObject(name: name, bytes: [UInt8](data))
    }
}
