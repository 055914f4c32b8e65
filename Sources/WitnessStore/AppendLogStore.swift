import FoundationEssentials
import Glibc
import SystemPackage
import WitnessSystem

/// Why a store directory cannot be used, in words an operator acts on.
public struct StoreError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A store directory: created 0700 if missing, refused if it is a file, is
/// not owned by us, or cannot be written.
public enum StoreDirectory {
    public static let defaultPath = "/var/lib/reboot-witness"

    public static func prepare(_ path: String, create: Bool) throws {
        if let st = SystemCalls.fileStatus(path) {
            guard (st.st_mode & S_IFMT) == S_IFDIR else {
                throw StoreError("store \(path) is not a directory")
            }
            guard st.st_uid == geteuid() else {
                throw StoreError("store \(path) is owned by uid \(st.st_uid), not by us (uid \(geteuid())); refusing it")
            }
        } else if create {
            if let parent = parentDirectory(path), !Files.isDirectory(parent) {
                try prepare(parent, create: true)
            }
            do {
                try SystemCalls.mkdir(path, mode: 0o700)
            } catch let error as SystemError {
                throw StoreError("cannot create store \(path): \(error.errno.description)")
            }
        } else {
            throw StoreError("no store at \(path) (run `reboot-witness arm --store \(path)` first)")
        }
        if create && access(path, W_OK) != 0 {
            throw StoreError("store \(path) is not writable: \(Errno(rawValue: Glibc.errno).description)")
        }
    }

    static func parentDirectory(_ path: String) -> String? {
        let parent = FilePath(path).removingLastComponent().string
        return parent.isEmpty || parent == path ? nil : parent
    }
}

/// The simple store: one JSON object per line in `records.jsonl`, appended
/// and fdatasync'ed before `append` returns. A line torn by a reset is
/// skipped on reading.
public final class AppendLogStore: RecordStore {
    public let location: String
    private var descriptor: FileDescriptor?
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    public init(directory: String) {
        location = directory
    }

    deinit { try? descriptor?.close() }

    var filePath: String { location + "/records.jsonl" }

    public func append(_ entries: [StoreEntry]) throws {
        guard !entries.isEmpty else { return }
        var bytes: [UInt8] = []
        for entry in entries {
            bytes += try encoder.encode(entry)
            bytes.append(UInt8(ascii: "\n"))
        }
        let fd = try openForAppend()
        do {
            _ = try fd.writeAll(bytes)
        } catch let error as Errno {
            throw SystemError("write", filePath, errno: error)
        }
        try SystemCalls.fdatasync(fd, path: filePath)
    }

    public func load() throws -> StoreContents {
        guard let bytes = Files.read(filePath, limit: 1 << 30) else {
            if Files.exists(filePath) {
                throw StoreError("cannot read \(filePath): \(Errno(rawValue: Glibc.errno).description)")
            }
            return StoreContents(entries: [], skipped: 0)
        }
        let decoder = JSONDecoder()
        var entries: [StoreEntry] = []
        var skipped = 0
        for line in bytes.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            if let entry = try? decoder.decode(StoreEntry.self, from: Data(line)) {
                entries.append(entry)
            } else {
                skipped += 1
            }
        }
        return StoreContents(entries: entries, skipped: skipped)
    }

    private func openForAppend() throws -> FileDescriptor {
        if let descriptor { return descriptor }
        do {
            let fd = try FileDescriptor.open(
                FilePath(filePath), .writeOnly, options: [.append, .create, .closeOnExec],
                permissions: [.ownerReadWrite])
            descriptor = fd
            return fd
        } catch let error as Errno {
            throw StoreError("cannot open \(filePath) for writing: \(error.description)")
        }
    }
}
