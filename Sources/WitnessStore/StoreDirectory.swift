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
            // Records others could have placed or changed are no evidence.
            guard st.st_mode & 0o022 == 0 else {
                throw StoreError("store \(path) is writable by others (mode \(String(st.st_mode & 0o7777, radix: 8))); refusing it")
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
