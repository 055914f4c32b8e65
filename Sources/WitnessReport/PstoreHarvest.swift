import CWitness
import Glibc
import SystemPackage
import WitnessStore
import WitnessSystem
import WitnessModel

/// What earlier boots left in pstore: the mounted pstore filesystem, and
/// systemd-pstore's archive (it moves records out of /sys/fs/pstore at boot).
/// Originals are deleted only when asked (`arm --clear-pstore`), and only
/// once their records are durable in the store.
public enum PstoreHarvest {
    public static let locations = ["/sys/fs/pstore", "/var/lib/systemd/pstore"]

    /// pstore's filesystem magic (PSTORE_SUPER_MAGIC, linux/magic.h).
    static let pstoreMagic: Int64 = 0x6165_676C
    /// A pstore record is a few dozen KiB at most; more is not a record.
    static let recordByteLimit: Int64 = 1 << 20

    /// One entry per pstore file found, tagged with `previousBoot`, and why
    /// some were not taken. Only what the kernel or root could have written
    /// counts: /sys/fs/pstore must be the kernel's pstore filesystem, the
    /// archive (systemd-pstore's) root's and writable by root only.
    public static func collect(previousBoot: String?, roots: [String] = locations) -> (entries: [StoreEntry], notes: [String]) {
        var entries: [StoreEntry] = [], notes: [String] = []
        for root in roots {
            let paths = files(under: root, depth: 2)
            // (An empty /sys/fs/pstore is only where pstore is not mounted.)
            guard !paths.isEmpty else { continue }
            if let distrust = distrust(of: root) {
                notes.append("\(root) not read: \(distrust)")
                continue
            }
            for path in paths {
                do {
                    let reader = try LineReader(path: path, byteLimit: recordByteLimit, gzip: false)
                    if root != "/sys/fs/pstore", let distrust = FileTrust.rootOnly(reader.status) {
                        notes.append("\(path) not read: \(distrust)")
                        continue
                    }
                    var lines: [String] = []
                    while let line = reader.next() { lines.append(line.text) }
                    let time = WallClock.iso8601(realtimeNanoseconds: Int64(reader.status.st_mtim.tv_sec) * 1_000_000_000)
                    entries.append(.pstore(.from(file: path, text: lines.joined(separator: "\n"), bootID: previousBoot, time: time)))
                } catch {
                    notes.append("\(path): \(error)")
                }
            }
        }
        return (entries, notes)
    }

    /// Why a pstore location is not to be believed, or nil.
    static func distrust(of root: String) -> String? {
        let fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return "cannot open (\(Errno(rawValue: errno)))" }
        defer { close(fd) }
        if root == "/sys/fs/pstore" {
            let type = cw_fs_type(fd)
            return type == pstoreMagic ? nil : "not the kernel's pstore filesystem (type \(String(type, radix: 16)))"
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return "cannot stat" }
        return FileTrust.rootOnly(st)
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
