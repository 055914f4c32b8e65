/// The kernel's /proc text formats, parsed in one place each. The kernel
/// writes them, but a process chooses its own comm (which may hold spaces,
/// parentheses and newlines) and a stand-in /proc root may hold anything:
/// every reader returns nil or nothing rather than trapping.
import Glibc

/// /proc/PID/stat and /proc/PID/task/TID/stat: "pid (comm) S ppid ...".
/// The comm ends at the last ")", since it may itself hold ") ".
public struct ProcTaskStat: Equatable, Sendable {
    public var comm: String
    /// The one-letter state ("S", "D", "Z" …).
    public var state: String
    public var parentPID: UInt32?

    public init?(_ text: String) {
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")"), open < close else { return nil }
        comm = String(text[text.index(after: open)..<close])
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard let first = fields.first else { return nil }
        state = String(first)
        parentPID = fields.count > 1 ? UInt32(fields[1]) : nil
    }
}

/// /proc/PID/status: "Key:\tvalue\tvalue" lines.
public struct ProcStatus: Sendable {
    let lines: [Substring]

    public init(_ text: String) { lines = text.split(separator: "\n") }

    /// The values after `key:`, split at tabs and spaces.
    public func values(_ key: String) -> [Substring] {
        guard let line = lines.first(where: { $0.hasPrefix(key + ":") }) else { return [] }
        return line.dropFirst(key.utf8.count + 1).split(whereSeparator: { $0 == "\t" || $0 == " " })
    }

    /// Uid: and Gid: give real, effective, saved and filesystem ids.
    public func ids(_ key: String) -> [UInt32] { values(key).compactMap { UInt32($0) } }

    /// CapEff: and its kin, a 64-bit hexadecimal mask.
    public func capabilities(_ key: String) -> UInt64? { values(key).first.flatMap { UInt64($0, radix: 16) } }
}

public enum ProcText {
    /// /proc/stat's "btime SECONDS": when this boot started.
    public static func bootTime(stat text: String) -> Int64? {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }) else { return nil }
        return Int64(line.dropFirst(6).trimming([" "]))
    }

    /// /proc/PID/cgroup's unified ("0::PATH") line.
    public static func unifiedCgroup(_ text: String) -> String? {
        text.split(separator: "\n").first { $0.hasPrefix("0::") }.map { String($0.dropFirst(3)) }
    }

    /// The cgroup systemd placed the process in: systemd's own v1 hierarchy
    /// ("N:name=systemd:PATH") where there is one (a cgroup v1 or hybrid
    /// host: a unified "0::/" line there only means something mounted
    /// cgroup2, as Cilium and system containers do), else the unified line.
    public static func systemdCgroup(_ text: String) -> (path: String, v1: Bool)? {
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            if fields.count == 3, fields[1] == "name=systemd" { return (String(fields[2]), true) }
        }
        return unifiedCgroup(text).map { ($0, false) }
    }

    /// Whether /proc/PID/cgroup lists a cgroup v1 hierarchy (an id other
    /// than v2's 0). Empty (a read that failed after the open) counts as
    /// yes: the caller pays a v1 search, never loses a path.
    public static func listsCgroupV1Hierarchy(_ text: String) -> Bool {
        let lines = text.split(separator: "\n")
        return lines.isEmpty || lines.contains { !$0.hasPrefix("0:") }
    }

    /// /proc/PID/loginuid and sessionid: a number, (uint32)-1 when unset.
    public static func auditID(_ text: String?) -> UInt32? {
        text.flatMap { UInt32($0) }.flatMap { $0 == UInt32.max ? nil : $0 }
    }

    /// The target of /proc/PID/ns/pid, "pid:[4026531836]": the namespace's
    /// inode, as BPF records it (truncated to 32 bits, as the kernel's
    /// ns.inum is).
    public static func namespaceInode(link text: String, kind: String = "pid") -> UInt32? {
        guard text.hasPrefix(kind + ":["), text.hasSuffix("]") else { return nil }
        return UInt32(text.dropFirst(kind.utf8.count + 2).dropLast())
    }

    /// /proc/PID/environ's NUL-separated NAME=value entries: the value of `name`.
    public static func environment(_ bytes: [UInt8], _ name: String) -> String? {
        let prefix = Array((name + "=").utf8)
        for entry in bytes.split(separator: 0) where entry.starts(with: prefix) {
            return String(decoding: entry.dropFirst(prefix.count), as: UTF8.self)
        }
        return nil
    }
}

/// One /proc/kallsyms line: "address type name" or "address type name\t[module]".
public struct KallsymsLine: Equatable, Sendable {
    public var address: UInt64
    public var type: Character
    public var name: Substring
    public var module: Substring?

    public init?<S: StringProtocol>(_ line: S) where S.SubSequence == Substring {
        let fields = line.split(maxSplits: 3, whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count >= 3, fields[1].count == 1, let type = fields[1].first,
              let address = UInt64(fields[0], radix: 16) else { return nil }
        self.address = address
        self.type = type
        name = fields[2]
        let tag = fields.count == 4 ? fields[3].trimming(["[", "]", " ", "\t"]) : nil
        module = tag?.isEmpty == true ? nil : tag
    }

    /// A function in kernel text ("t"/"T", or a weak "w"/"W").
    public var isText: Bool { "tTwW".contains(type) }
}

/// This process's memory, as /proc/self/statm counts it.
public enum ProcessMemory {
    /// Resident bytes (statm's second field times the page size); nil where /proc is not mounted.
    public static func residentBytes(statm path: String = "/proc/self/statm") -> UInt64? {
        guard let line = Files.readLine(path) else { return nil }
        let fields = line.split(separator: " ")
        guard fields.count > 1, let pages = UInt64(fields[1]) else { return nil }
        return pages * UInt64(sysconf(Int32(_SC_PAGESIZE)))
    }
}
