import WitnessSystem

/// A Boot Loader Specification entry (`loader/entries/*.conf`), as
/// systemd-boot and GRUB's blscfg read them.
public struct BootLoaderEntry: Sendable, Equatable {
    /// The file name without ".conf" and without a boot-counting suffix.
    public var id: String
    public var title: String?
    public var version: String?
    public var linux: String?
    public var initrds: [String] = []
    public var options: String?
    /// systemd-boot's boot counting ("+LEFT-DONE" in the file name): tries left and tries made.
    public var triesLeft: Int?
    public var triesDone: Int?
    /// Where the entry's paths are relative to (its ESP or XBOOTLDR).
    public var base: String

    public static func parse(fileName: String, text: String, base: String) -> BootLoaderEntry {
        var name = fileName.hasSuffix(".conf") ? String(fileName.dropLast(5)) : fileName
        var left: Int?, done: Int?
        if let plus = name.lastIndex(of: "+") {
            let counter = name[name.index(after: plus)...].split(separator: "-", maxSplits: 1)
            if let l = counter.first.flatMap({ Int($0) }) {
                left = l
                done = counter.count > 1 ? Int(counter[1]) : 0
                name = String(name[..<plus])
            }
        }
        var entry = BootLoaderEntry(id: name, triesLeft: left, triesDone: done, base: base)
        for line in text.split(separator: "\n") {
            let trimmed = line.trimming([" ", "\t"])
            guard !trimmed.hasPrefix("#"), let space = trimmed.firstIndex(where: { $0 == " " || $0 == "\t" }) else { continue }
            let key = String(trimmed[..<space]), value = String(trimmed[space...].trimming([" ", "\t"]))
            switch key {
            case "title": entry.title = value
            case "version": entry.version = value
            case "linux": entry.linux = value
            case "initrd": entry.initrds += value.split(separator: " ").map(String.init)
            case "options": entry.options = (entry.options.map { $0 + " " } ?? "") + value
            default: break
            }
        }
        return entry
    }

    /// Entries read at most (a machine keeps a handful), and each entry's size.
    static let entryLimit = 256, fileLimit = 64 << 10

    /// Every entry under `directory` (loader/entries), newest version first, as the loaders order them.
    public static func all(in directory: String, base: String, tree: TreeFiles) -> [BootLoaderEntry] {
        (tree.list(directory) ?? []).filter { $0.hasSuffix(".conf") }.prefix(entryLimit).compactMap { name -> BootLoaderEntry? in
            guard case .success(let text) = tree.text(directory + "/" + name, limit: fileLimit) else { return nil }
            return parse(fileName: name, text: text, base: base)
        }.sorted { VersionOrder.newerFirst($0.version ?? $0.id, $1.version ?? $1.id) }
    }
}

/// The order kernel versions sort in: digits compare as numbers, the rest
/// as text, piece by piece ("6.1.0-13" < "6.1.0-26" < "6.10.0-1").
public enum VersionOrder {
    public static func newerFirst(_ a: String, _ b: String) -> Bool { compare(a, b) > 0 }

    public static func compare(_ a: String, _ b: String) -> Int {
        let x = pieces(a), y = pieces(b)
        for (p, q) in zip(x, y) where p != q {
            if let m = Int(p), let n = Int(q) { return m < n ? -1 : 1 }
            return p < q ? -1 : 1
        }
        return x.count == y.count ? 0 : (x.count < y.count ? -1 : 1)
    }

    static func pieces(_ text: String) -> [String] {
        var out: [String] = [], current = "", digits = false
        for c in text {
            let isDigit = c.isASCII && c.isNumber
            if !current.isEmpty && isDigit != digits { out.append(current); current = "" }
            current.append(c)
            digits = isDigit
        }
        if !current.isEmpty { out.append(current) }
        return out
    }
}

/// systemd-boot's EFI variables (vendor 4a67b082-0a4c-41cf-b6c7-440b29bb8c4f):
/// 4 bytes of attributes, then a NUL-terminated UTF-16LE string.
public enum LoaderVariable {
    public static let vendor = "4a67b082-0a4c-41cf-b6c7-440b29bb8c4f"

    public static func path(_ name: String, efivars: String = "/sys/firmware/efi/efivars") -> String {
        "\(efivars)/\(name)-\(vendor)"
    }

    /// The string a variable's bytes hold, or why not.
    public static func decode(_ bytes: [UInt8]) -> Result<String, PreflightError> {
        guard bytes.count >= 6, (bytes.count - 4) % 2 == 0 else {
            return .failure(PreflightError("an EFI variable of \(bytes.count) bytes is not attributes and a UTF-16 string"))
        }
        var units: [UInt16] = []
        for i in stride(from: 4, to: bytes.count, by: 2) {
            let unit = UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8
            if unit == 0 { break }
            units.append(unit)
        }
        return .success(String(decoding: units, as: UTF16.self))
    }
}
