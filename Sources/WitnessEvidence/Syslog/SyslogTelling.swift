import Glibc

/// Which text-log lines tell how a boot ended: decided from the tag and a
/// few fixed strings of the message, on the raw bytes (this runs for every
/// line of every file read: a gigabyte of filler must cost little more than
/// reading it).
enum SyslogTelling {
    /// Messages of each program worth keeping (substrings).
    static let bootStart = "Linux version "
    static let kernel = [bootStart] + JournalEvidence.troubleMarkers + JournalEvidence.uncleanMarkers
    static let logind = ["System is ", "Power key pressed"]
    static let sshd = ["Accepted ", "session opened", "session closed", "Disconnected from", "Received disconnect"]
    static let managerStart = " running in system mode"
    static let bootStartBytes = Array(bootStart.utf8), managerStartBytes = Array(managerStart.utf8)
    static let pid1 = [managerStart, "Reached target ", "requested from client PID", "restart counter is at", "Startup finished",
                       "Stopping System Logging", "Started Reboot", "Started Power-Off", "Started Halt", "Started Kexec",
                       "reboot", "Reboot", "shutdown", "poweroff", "Power-Off", "halt", "kexec"]
    static let rsyslog = ["exiting on signal", "] start"]
    static let fileSystems = JournalEvidence.uncleanMarkers

    /// Programs by tag, with the messages of theirs that are kept (nil: all of them).
    static let programs: [(tag: [UInt8], markers: MarkerSet?)] = [
        ("kernel", MarkerSet(kernel)), ("sudo", nil), ("pkexec", nil), ("sshd", MarkerSet(sshd)),
        ("sshd-session", MarkerSet(sshd)), ("systemd-logind", MarkerSet(logind)), ("systemd", MarkerSet(pid1)),
        ("rsyslogd", MarkerSet(rsyslog)), ("systemd-journald", MarkerSet(fileSystems)), ("journal", MarkerSet(fileSystems)),
        ("systemd-fsck", MarkerSet(fileSystems)),
    ].map { (Array($0.0.utf8), $0.1) }
    static let longestTag = programs.map(\.tag.count).max() ?? 0

    static func kind(_ bytes: ArraySlice<UInt8>, _ fields: SyslogLine.Fields) -> SyslogEntry.Kind? {
        bytes.withUnsafeBytes { raw -> SyslogEntry.Kind? in
            let base = raw.baseAddress!
            let offset = bytes.startIndex
            let identCount = fields.ident.count
            // Most lines end here: their program is none of ours.
            guard identCount <= longestTag else { return nil }
            let ident = base + (fields.ident.lowerBound - offset)
            guard let program = programs.first(where: { candidate in
                candidate.tag.count == identCount && candidate.tag.withUnsafeBytes { memcmp($0.baseAddress!, ident, identCount) == 0 }
            }) else { return nil }
            guard let markers = program.markers else { return .telling }
            let message = base + (fields.message.lowerBound - offset)
            let count = fields.message.count
            guard let found = markers.firstMatch(message, count) else { return nil }
            switch markers.markers[found] {
            case bootStartBytes: return isBootStart(message, count) ? .bootStart : .telling
            case managerStartBytes: return .managerStart
            default: return .telling
            }
        }
    }

    /// The kernel's first line: "Linux version 6.1.0-26-amd64 (…" at the
    /// start of the message, or after the printk time imklog keeps ("[    0.000000] ").
    static func isBootStart(_ message: UnsafeRawPointer, _ count: Int) -> Bool {
        var start = 0
        if count > 0, message.load(as: UInt8.self) == 0x5B, let close = memchr(message, 0x5D, min(count, 24)) {
            start = message.distance(to: UnsafeRawPointer(close)) + 2
        }
        return count - start >= bootStartBytes.count && memcmp(message + start, bootStartBytes, bootStartBytes.count) == 0
    }
}

/// A fixed set of substrings searched in one pass: a bit per byte pair
/// that begins a marker, so most positions cost one table lookup and only
/// a pair that begins one is compared in full (dozens of memmem calls per
/// line were most of the time spent on a large log).
struct MarkerSet {
    let markers: [[UInt8]]
    /// 65,536 bits: is the pair (a, b) the start of some marker?
    private let pairs: [UInt64]
    /// Markers of one byte (none today, but allowed).
    private let singles: [Int]

    init(_ strings: [String]) {
        markers = strings.map { Array($0.utf8) }.filter { !$0.isEmpty }
        var pairs = [UInt64](repeating: 0, count: 1024)
        var singles: [Int] = []
        for (index, marker) in markers.enumerated() {
            if marker.count == 1 { singles.append(index); continue }
            let pair = Int(marker[0]) << 8 | Int(marker[1])
            pairs[pair >> 6] |= 1 << UInt64(pair & 63)
        }
        self.pairs = pairs
        self.singles = singles
    }

    /// The index of the first marker (in the set's order) found in the text, if any.
    func firstMatch(_ text: UnsafeRawPointer, _ count: Int) -> Int? {
        let bytes = text.assumingMemoryBound(to: UInt8.self)
        var best: Int?
        for index in singles where memchr(text, Int32(markers[index][0]), count) != nil { best = min(best ?? index, index) }
        guard count >= 2 else { return best }
        pairs.withUnsafeBufferPointer { table in
            for position in 0..<(count - 1) {
                let pair = Int(bytes[position]) << 8 | Int(bytes[position + 1])
                guard table[pair >> 6] & (1 << UInt64(pair & 63)) != 0 else { continue }
                for (index, marker) in markers.enumerated() where index < (best ?? Int.max)
                    && marker.count <= count - position && marker[0] == bytes[position] && marker[1] == bytes[position + 1]
                    && marker.withUnsafeBytes({ memcmp($0.baseAddress!, bytes + position, marker.count) == 0 }) {
                    best = index
                    break
                }
                if best == 0 { return }
            }
        }
        return best
    }
}
