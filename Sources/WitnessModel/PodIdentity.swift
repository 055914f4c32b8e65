/// The Kubernetes pod a process ran in, by name: what people know it by
/// (the UID alone cannot be turned into a name once the pod is gone).
public struct PodIdentity: Codable, Equatable, Sendable {
    public var namespace: String
    public var name: String
    /// The container's name in the pod, where the kubelet's log files say it.
    public var container: String?
    public var uid: String?

    public init(namespace: String, name: String, container: String? = nil, uid: String? = nil) {
        self.namespace = namespace; self.name = name; self.container = container; self.uid = uid
    }

    /// "namespace/name".
    public var qualified: String { "\(namespace)/\(name)" }

    /// Kubernetes names: DNS subdomains and labels (lowercase letters,
    /// digits, '-' and '.'), at most 253 characters. Anything else in a file
    /// name is not the kubelet's and is not believed.
    public static func isName(_ text: Substring) -> Bool {
        !text.isEmpty && text.utf8.count <= 253 && text.utf8.allSatisfy { byte in
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D || byte == 0x2E
        }
    }
}
