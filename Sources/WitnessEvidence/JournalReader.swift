import CSystemd
import Glibc
import SystemPackage
import WitnessSystem

/// One journal entry, holding only the fields a query asked for.
public struct JournalEntry: Equatable, Sendable {
    /// Microseconds since the epoch (`__REALTIME_TIMESTAMP`).
    public var realtime: Int64
    public var fields: [String: String]

    public init(realtime: Int64, fields: [String: String]) {
        self.realtime = realtime
        self.fields = fields
    }

    public subscript(_ name: String) -> String? { fields[name] }
    public var message: String { fields["MESSAGE"] ?? "" }
    public var time: String { Instant(microseconds: realtime).iso8601 }
}

/// A set of entries sd-journal selects through its indexes: every term is
/// "FIELD=value"; terms on different fields must all hold, terms on the same
/// field are alternatives (sd_journal_add_match's rule). Several groups are
/// alternatives to each other (sd_journal_add_disjunction).
public struct JournalMatch: Sendable {
    public var groups: [[String]]

    public init(_ terms: [String]) { groups = [terms] }
    public init(anyOf groups: [[String]]) { self.groups = groups }

    public static func boot(_ id: String) -> String { "_BOOT_ID=" + JournalReader.journalBootID(id) }
}

/// The journal through sd-journal from libsystemd (loaded with dlopen): only
/// indexed matches and reads with a bound, never a whole-boot export. Field
/// values are capped at `fieldLimit` bytes; non-UTF-8 bytes are replaced.
public final class JournalReader {
    public static let fieldLimit = 4096
    private let journal: OpaquePointer
    /// The directory read, or "system journal".
    public let location: String
    /// Reads that stopped at an entry sd-journal could not read (corruption).
    public private(set) var unreadable = 0

    /// `directory` nil: the local system's journal (persistent and runtime).
    public init(directory: String?) throws {
        var handle: OpaquePointer?
        let rc = directory.map { cw_journal_open($0, Self.fieldLimit, &handle) }
            ?? cw_journal_open(nil, Self.fieldLimit, &handle)
        location = directory ?? "system journal"
        guard rc >= 0, let handle else {
            let detail = rc == -ENOENT || rc == -ENOSYS ? "libsystemd.so.0 with sd-journal is not installed" : nil
            throw SystemError("sd_journal_open", location, errno: Errno(rawValue: -rc), detail: detail)
        }
        journal = handle
    }

    deinit { cw_journal_close(journal) }

    public enum Direction: Sendable { case forward, backward }

    /// Up to `limit` entries matching `match`, from the head (forward) or the
    /// tail (backward) of the journal, or from `start` (µs since the epoch)
    /// in that direction; reading backward, none older than `notBefore`.
    public func entries(_ match: JournalMatch, _ direction: Direction, start: Int64? = nil, notBefore: Int64? = nil,
                        limit: Int, fields: [String] = ["MESSAGE"]) -> [JournalEntry] {
        guard limit > 0, apply(match) else { return [] }
        defer { cw_journal_clear(journal) }
        let backward = direction == .backward
        let seek: Int32
        if let start {
            seek = cw_journal_seek_realtime(journal, UInt64(max(0, start)))
        } else {
            seek = backward ? cw_journal_seek_tail(journal) : cw_journal_seek_head(journal)
        }
        guard seek >= 0 else { unreadable += 1; return [] }
        var found: [JournalEntry] = []
        while found.count < limit {
            let moved = cw_journal_step(journal, backward ? 1 : 0)
            if moved < 0 { unreadable += 1; break }
            guard moved > 0 else { break }
            var usec: UInt64 = 0
            guard cw_journal_realtime(journal, &usec) >= 0 else { unreadable += 1; continue }
            // seek_realtime lands near, not exactly at, `start`: keep to its side.
            if let start, backward ? Int64(usec) > start : Int64(usec) < start { continue }
            if let notBefore, backward, Int64(usec) < notBefore { break }
            var values = [String: String](minimumCapacity: fields.count)
            for field in fields {
                if let value = self.field(field) { values[field] = value }
            }
            found.append(JournalEntry(realtime: Int64(usec), fields: values))
        }
        return found
    }

    /// The first (or, backward, the last) entry matching `match`.
    public func edge(_ match: JournalMatch, _ direction: Direction, fields: [String] = []) -> JournalEntry? {
        entries(match, direction, limit: 1, fields: fields).first
    }

    /// Distinct values of `field` in the whole journal (matches do not
    /// restrict it), at most `limit`.
    public func uniqueValues(_ field: String, limit: Int) -> [String] {
        guard cw_journal_unique_start(journal, field) >= 0 else { unreadable += 1; return [] }
        var values: [String] = []
        var data: UnsafePointer<UInt8>?
        var length = 0
        while values.count < limit {
            let rc = cw_journal_unique_next(journal, &data, &length)
            if rc < 0 { unreadable += 1; break }
            guard rc > 0, let data else { break }
            values.append(String(decoding: UnsafeBufferPointer(start: data, count: length), as: UTF8.self))
        }
        return values
    }

    private func apply(_ match: JournalMatch) -> Bool {
        for (index, group) in match.groups.enumerated() {
            if index > 0 && cw_journal_or(journal) < 0 { return false }
            for term in group {
                let ok = term.utf8CString.withUnsafeBufferPointer { buffer in
                    cw_journal_match(journal, buffer.baseAddress, buffer.count - 1) >= 0
                }
                if !ok { cw_journal_clear(journal); return false }
            }
        }
        return true
    }

    private func field(_ name: String) -> String? {
        var data: UnsafePointer<UInt8>?
        var length = 0
        guard cw_journal_field(journal, name, &data, &length) > 0, let data else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: length), as: UTF8.self)
    }

    /// Journal files under `directory` (nil: the system's journal
    /// directories) that sd-journal cannot read an entry from alone:
    /// truncated, corrupt, or empty. At most `limit` files are tried.
    public static func unreadableFiles(directory: String?, limit: Int = 512) -> [String] {
        let roots = directory.map { [$0] } ?? ["/var/log/journal", "/run/log/journal"]
        var files: [String] = []
        for root in roots {
            for name in Files.list(root) ?? [] {
                let path = root + "/" + name
                if Files.isDirectory(path) {
                    files += (Files.list(path) ?? []).filter(isJournalFile).map { path + "/" + $0 }
                } else if isJournalFile(name) {
                    files.append(path)
                }
            }
        }
        return files.prefix(limit).filter { cw_journal_file_readable($0) <= 0 }
    }

    static func isJournalFile(_ name: String) -> Bool { name.hasSuffix(".journal") || name.hasSuffix(".journal~") }

    /// The journal writes boot ids as 32 hex digits; /proc and the store use the dashed form.
    public static func journalBootID(_ id: String) -> String { id.filter { $0 != "-" }.lowercased() }

    public static func dashedBootID(_ id: String) -> String {
        let hex = Array(journalBootID(id))
        guard hex.count == 32 else { return id }
        return [hex[0..<8], hex[8..<12], hex[12..<16], hex[16..<20], hex[20..<32]].map { String($0) }.joined(separator: "-")
    }
}
