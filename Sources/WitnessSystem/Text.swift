import CWitness
import Glibc

extension Substring {
    /// Drops leading and trailing characters in `characters`.
    public func trimming(_ characters: Set<Character>) -> Substring {
        var result = self
        while let first = result.first, characters.contains(first) { result = result.dropFirst() }
        while let last = result.last, characters.contains(last) { result = result.dropLast() }
        return result
    }
}

extension StringProtocol {
    /// The first occurrence of `needle`, by a byte search (memmem) over
    /// UTF-8. For the loops over journal and pstore lines: the standard
    /// library's `contains(_:)` and `firstRange(of:)` build a searcher (and
    /// hash every character) on each call.
    public func locate(_ needle: String) -> Range<Index>? {
        var haystack = String(self)
        var pattern = needle
        guard let offset = haystack.withUTF8({ hay in
            pattern.withUTF8 { pin -> Int? in
                guard pin.count > 0, hay.count >= pin.count,
                      let found = cw_memmem(hay.baseAddress, hay.count, pin.baseAddress, pin.count) else { return nil }
                return hay.baseAddress!.distance(to: found.assumingMemoryBound(to: UInt8.self))
            }
        }) else { return nil }
        let lower = utf8.index(startIndex, offsetBy: offset)
        return lower..<utf8.index(lower, offsetBy: needle.utf8.count)
    }

    /// `locate(needle) != nil`.
    public func includes(_ needle: String) -> Bool { locate(needle) != nil }

    /// Whether any of `needles` occurs.
    public func includesAny(_ needles: [String]) -> Bool {
        var haystack = String(self)
        return haystack.withUTF8 { hay in
            needles.contains { needle in
                var pattern = needle
                return pattern.withUTF8 { pin in
                    pin.count > 0 && hay.count >= pin.count && cw_memmem(hay.baseAddress, hay.count, pin.baseAddress, pin.count) != nil
                }
            }
        }
    }
}

/// Fixed C char arrays (imported as tuples) to Swift strings.
public enum CString {
    public static func decode<T>(_ value: inout T) -> String {
        withUnsafeBytes(of: &value) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    public static func decodeSlots<T>(_ value: inout T, slot: Int, count: Int) -> [String] {
        withUnsafeBytes(of: &value) { raw in
            (0..<min(count, raw.count / slot)).map { index in
                let bytes = raw[(index * slot)..<((index + 1) * slot)]
                return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
    }
}

extension String {
    /// Padded with spaces on the right to `width` characters (table columns).
    public func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }

    /// Padded with spaces on the left to `width` characters.
    public func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}

extension Optional where Wrapped == String {
    /// Calls `body` with a C string, or with nil.
    public func withOptionalCString<Result>(_ body: (UnsafePointer<CChar>?) throws -> Result) rethrows -> Result {
        guard let self else { return try body(nil) }
        return try self.withCString { try body($0) }
    }
}

/// Text from outside — a caller's comm and argv, paths, cgroups, unit and
/// user names, journal and audit messages, file names — made safe for a
/// terminal or a line-oriented reader: C0 and C1 controls, DEL and the
/// Unicode bidi overrides become visible escapes (`\x1b`, `\n`, `\u{202e}`),
/// and a backslash becomes `\\` so that an escape is never ambiguous. Such a
/// string can no longer clear a screen, write to a clipboard (OSC 52),
/// break one record into lines that look like another, or reorder what is
/// shown. Every human rendering, kernel-log line and journal MESSAGE passes
/// through here; JSON keeps the exact text (JSON's own escaping).
public enum TerminalText {
    public static func escape<S: StringProtocol>(_ text: S) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x00...0x1F, 0x7F: out += "\\x" + hex(scalar.value, width: 2)
            case 0x80...0x9F, 0x202A...0x202E, 0x2066...0x2069: out += "\\u{" + hex(scalar.value, width: 1) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Lines this program built, each escaped, joined by its own line breaks.
    public static func lines(_ lines: [String]) -> String {
        lines.map(escape).joined(separator: "\n")
    }

    /// Whether `text` holds nothing a terminal would act on (what `escape`
    /// guarantees of its output).
    public static func isInert<S: StringProtocol>(_ text: S) -> Bool {
        !text.unicodeScalars.contains { isActive($0.value) }
    }

    private static func isActive(_ value: UInt32) -> Bool {
        switch value {
        case 0x00...0x1F, 0x7F, 0x80...0x9F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    /// Whether `text` holds anything `escape` would change.
    public static func needsEscaping<S: StringProtocol>(_ text: S) -> Bool {
        escape(text) != String(text)
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
