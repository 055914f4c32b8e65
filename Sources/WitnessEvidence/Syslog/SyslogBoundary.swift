/// Where one boot's lines end and the next one's begin in a text log.
///
/// rsyslog's imklog reads the kernel's ring when rsyslog starts and stamps
/// every line of it with that moment, while journald forwards the early
/// lines of PID 1 and the services with their own, earlier stamps: the file
/// may hold `Starting systemd-journal-flush…` of the new boot before its
/// `Linux version`. The kernel's own clock tells where the boot began: each
/// of those lines keeps its printk time ("[   13.031119] "), so the boot
/// began about `stamp − printk time` of the burst's last line; lines before
/// the kernel's that were written after that moment are the new boot's.
struct KernelBurst {
    /// The boot start's entry index and order key, while its burst lasts.
    private var start: (entry: Int, key: Int)?
    private var uptime = 0.0
    /// Seconds of uptime at the boot line's stamp, by the boot line's entry index.
    private(set) var uptimes: [Int: Double] = [:]

    /// A burst begins at a boot's kernel line (entry `index`, order key `key`).
    mutating func begin(entry index: Int, key: Int) {
        close()
        start = (index, key)
        uptime = 0
    }

    /// A line of the file: a kernel line within a second of the boot line's stamp carries the burst's clock.
    mutating func see(key: Int, ident: ArraySlice<UInt8>, message: ArraySlice<UInt8>) {
        guard let start else { return }
        guard key >= start.key, key - start.key <= 1, ident.elementsEqual("kernel".utf8) else {
            if key != start.key { close() }
            return
        }
        if let seconds = Self.printkSeconds(message) { uptime = max(uptime, seconds) }
    }

    mutating func close() {
        if let start, uptime > 0 { uptimes[start.entry] = uptime }
        start = nil
    }

    /// "[   13.031119] …" → 13.031119.
    static func printkSeconds(_ message: ArraySlice<UInt8>) -> Double? {
        guard message.first == UInt8(ascii: "["), let close = message.prefix(24).firstIndex(of: UInt8(ascii: "]")) else { return nil }
        let inside = message[message.index(after: message.startIndex)..<close].drop { $0 == UInt8(ascii: " ") }
        guard !inside.isEmpty, inside.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: ".") }) else { return nil }
        return Double(String(decoding: inside, as: UTF8.self))
    }
}

extension SyslogFileScan {
    /// A pause this long between two lines: the lines before it may be a
    /// boot's last words (the next boot's early lines may come before its
    /// kernel line), so they are kept as a candidate tail.
    static let quietGap = 5
    /// Snapshots kept: the pause before a reset, and a few within the next boot's early lines.
    static let gapsKept = 4

    /// Moves the lines written after each boot began (by the kernel's clock)
    /// but placed before its kernel line to after it: they are that boot's.
    mutating func regroup(uptimes: [Int: Double]) {
        guard !uptimes.isEmpty else { return }
        var result: [SyslogEntry] = []
        result.reserveCapacity(entries.count)
        var pending: [SyslogEntry] = []  // entries since the last boot line whose burst told its start
        for (index, entry) in entries.enumerated() {
            guard entry.kind == .bootStart, let uptime = uptimes[index], let stamp = entry.time else {
                pending.append(entry)
                continue
            }
            let began = stamp.microseconds - Int64((uptime + 1) * 1_000_000)
            let isNew = { (earlier: SyslogEntry) in earlier.kind != .bootStart && (earlier.time?.microseconds ?? Int64.min) >= began }
            result += pending.filter { !isNew($0) }
            result.append(entry)
            result += pending.filter(isNew)
            pending = []
        }
        entries = result + pending
    }
}
