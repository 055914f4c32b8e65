import Glibc
import WitnessModel

/// Pods by name from what every kubelet node already has, without the API
/// server: the names of its log directories and links.
///
///     /var/log/pods/<namespace>_<pod>_<uid>/<container>/0.log
///     /var/log/containers/<pod>_<namespace>_<container>-<container id>.log
///
/// Built by `refresh()` off the record path (arm's periodic chores); a
/// record's lookup is a dictionary read and never waits on the disk. Only
/// names are read (no link is followed); a name that does not parse as the
/// kubelet writes it is counted, not believed.
public final class PodIndex {
    public let root: String
    /// Entries read per directory, at most: 100,000 pods cost one bounded read.
    public static let entryLimit = 100_000

    public private(set) var byContainer: [String: PodIdentity] = [:]
    public private(set) var byUID: [String: PodIdentity] = [:]
    /// Why the last refresh left something out (unreadable, malformed names, the limit, ambiguity).
    public private(set) var notes: [String] = []

    /// `root`: the directory holding `pods/` and `containers/` (/var/log).
    public init(root: String = "/var/log") {
        self.root = root
    }

    /// The pod of a record: by its container id (with the container's
    /// name), else by the pod UID its cgroup named.
    public func lookup(container: ContainerID?, podUID: String?) -> PodIdentity? {
        if let id = container?.id, let found = byContainer[id] { return found }
        return podUID.flatMap { byUID[Self.normalized($0)] }
    }

    /// Re-reads both directories' names.
    public func refresh() {
        var notes: [String] = []
        var byUID: [String: PodIdentity] = [:]
        var byContainer: [String: PodIdentity] = [:]
        var malformed = 0
        let pods = Self.names(in: root + "/pods", limit: Self.entryLimit, notes: &notes)
        for name in pods {
            guard let pod = Self.podDirectory(name) else { malformed += 1; continue }
            byUID[Self.normalized(pod.uid ?? "")] = pod
        }
        var ambiguous = Set<String>()
        for name in Self.names(in: root + "/containers", limit: Self.entryLimit, notes: &notes) {
            guard let (pod, id) = Self.containerLog(name) else { malformed += 1; continue }
            if let known = byContainer[id], known != pod { ambiguous.insert(id) }
            byContainer[id] = pod
        }
        for id in ambiguous {
            byContainer[id] = nil
            notes.append("container \(id.prefix(12)) is named by two pods' log links: not attributed")
        }
        // Each container's pod UID, where its pod's directory says it.
        let uidByPod = Dictionary(byUID.values.map { ("\($0.namespace)/\($0.name)", $0.uid) }, uniquingKeysWith: { a, _ in a })
        for (id, pod) in byContainer { byContainer[id]?.uid = uidByPod[pod.qualified] ?? nil }
        if malformed > 0 { notes.append("\(malformed) name(s) in \(root)/pods or \(root)/containers not as the kubelet writes them") }
        self.byUID = byUID
        self.byContainer = byContainer
        self.notes = notes
    }

    /// "<namespace>_<pod>_<uid>".
    public static func podDirectory(_ name: String) -> PodIdentity? {
        let parts = name.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, PodIdentity.isName(parts[0]), PodIdentity.isName(parts[1]), isUID(parts[2]) else { return nil }
        return PodIdentity(namespace: String(parts[0]), name: String(parts[1]), uid: String(parts[2]))
    }

    /// "<pod>_<namespace>_<container>-<64 hex>.log".
    public static func containerLog(_ name: String) -> (PodIdentity, String)? {
        guard name.hasSuffix(".log") else { return nil }
        let stem = name.dropLast(4)
        guard let dash = stem.lastIndex(of: "-") else { return nil }
        let id = stem[stem.index(after: dash)...]
        guard id.count == 64, id.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else { return nil }
        let parts = stem[..<dash].split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy(PodIdentity.isName) else { return nil }
        return (PodIdentity(namespace: String(parts[1]), name: String(parts[0]), container: String(parts[2])), String(id))
    }

    /// A pod UID as the kubelet writes it (8-4-4-4-12 hex); static pods' are 32 hex.
    static func isUID(_ text: Substring) -> Bool {
        (text.count == 36 || text.count == 32) && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || $0 == 0x2D }
    }

    /// The cgroup's spelling (systemd driver: "_" for "-") and the directory's agree once normalized.
    static func normalized(_ uid: String) -> String {
        String(uid.lowercased().filter { $0 != "-" && $0 != "_" })
    }

    /// Entry names of `path`, at most `limit` (said in `notes` when cut); none when it is missing.
    static func names(in path: String, limit: Int, notes: inout [String]) -> [String] {
        guard let dir = opendir(path) else {
            if errno != ENOENT { notes.append("\(path): \(String(cString: strerror(errno)))") }
            return []
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name == "." || name == ".." { continue }
            guard names.count < limit else {
                notes.append("\(path): more than \(limit) entries, the rest not read")
                break
            }
            names.append(name)
        }
        return names
    }
}
