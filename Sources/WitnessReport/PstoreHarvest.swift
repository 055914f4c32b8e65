import Glibc
import WitnessStore
import WitnessSystem
import WitnessModel

/// What earlier boots left in pstore: the mounted pstore filesystem, and
/// systemd-pstore's archive (it moves records out of /sys/fs/pstore at boot).
/// Originals are deleted only when asked (`arm --clear-pstore`), and only
/// once their records are durable in the store.
public enum PstoreHarvest {
    public static let locations = ["/sys/fs/pstore", "/var/lib/systemd/pstore"]

    /// One entry per pstore file found, tagged with `previousBoot`.
    public static func collect(previousBoot: String?, roots: [String] = locations) -> [StoreEntry] {
        var entries: [StoreEntry] = []
        for root in roots {
            for path in files(under: root, depth: 2) {
                guard let text = Files.readText(path) else { continue }
                let time = SystemCalls.fileStatus(path).map {
                    WallClock.iso8601(realtimeNanoseconds: Int64($0.st_mtim.tv_sec) * 1_000_000_000)
                }
                entries.append(.pstore(.from(file: path, text: text, bootID: previousBoot, time: time)))
            }
        }
        return entries
    }

    /// Deletes the harvested originals (in /sys/fs/pstore that erases the
    /// backend's record and frees its space). Returns what could not go.
    public static func clear(_ entries: [StoreEntry]) -> [String] {
        entries.compactMap { entry -> String? in
            guard case .pstore(let record) = entry else { return nil }
            return unlink(record.file) == 0 || errno == ENOENT ? nil : "\(record.file): \(String(cString: strerror(errno)))"
        }
    }

    private static func files(under directory: String, depth: Int) -> [String] {
        guard depth > 0, let names = Files.list(directory) else { return [] }
        return names.flatMap { name -> [String] in
            let path = directory + "/" + name
            return Files.isDirectory(path) ? files(under: path, depth: depth - 1) : [path]
        }
    }
}
