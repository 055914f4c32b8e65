import WitnessSystem

/// When a text syslog line says it was written, as rsyslog's two file
/// templates write it: RSYSLOG_TraditionalFileFormat's RFC 3164 stamp
/// ("Jul 31 08:35:29": no year, no zone, the host's local time) or
/// RSYSLOG_FileFormat's RFC 3339 one ("2026-07-31T08:35:29.123456+02:00").
public enum SyslogStamp: Equatable, Sendable {
    /// Month 1–12, day, seconds since midnight: the year is the reader's to infer.
    case rfc3164(month: Int, day: Int, seconds: Int)
    case rfc3339(Instant)

    public var month: Int {
        switch self {
        case .rfc3164(let month, _, _): return month
        case .rfc3339: return 0
        }
    }
}

/// One line of a text syslog file: "<stamp> <host> <ident>[<pid>]: <message>".
/// The tag's pid is optional (RHEL 7's imjournal writes `systemd:`), and
/// the message is whatever the writer sent: nothing here is trusted.
public struct SyslogLine: Equatable, Sendable {
    public var stamp: SyslogStamp
    public var host: String
    public var ident: String
    public var pid: UInt32?
    public var message: String

    static let months: [UInt32: Int] = {
        var table: [UInt32: Int] = [:]
        for (index, name) in ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].enumerated() {
            let b = Array(name.utf8)
            table[UInt32(b[0]) << 16 | UInt32(b[1]) << 8 | UInt32(b[2])] = index + 1
        }
        return table
    }()

    /// Where the parts of a line are: found without allocating (every line
    /// of a log is looked at this far; only the lines kept become strings).
    public struct Fields {
        public var stamp: SyslogStamp
        public var host: Range<Int>
        public var ident: Range<Int>
        public var pid: Range<Int>?
        public var message: Range<Int>

        /// nil when the line has no stamp, host and tag (a continuation,
        /// binary junk, another program's format).
        public init?<C: Collection>(_ bytes: C) where C.Element == UInt8, C.Index == Int {
            var i = bytes.startIndex
            let end = bytes.endIndex
            guard let stamp = SyslogLine.stamp(bytes, &i) else { return nil }
            self.stamp = stamp
            guard i < end, bytes[i] == 0x20 else { return nil }
            i += 1
            let hostStart = i
            while i < end, bytes[i] != 0x20 { i += 1 }
            guard i > hostStart, i < end else { return nil }
            host = hostStart..<i
            i += 1
            // The tag: ident, an optional [pid], then ":" (at most 64 bytes: RFC 3164 bounds the TAG).
            let tagStart = i
            var open: Int?, close: Int?
            while i < end, i - tagStart < 64, bytes[i] != 0x3A, bytes[i] != 0x20 {
                if bytes[i] == 0x5B, open == nil { open = i }
                if bytes[i] == 0x5D { close = i }
                i += 1
            }
            guard i < end, bytes[i] == 0x3A, i > tagStart else { return nil }
            ident = tagStart..<(open ?? i)
            if let open, let close, close > open + 1 { pid = (open + 1)..<close } else { pid = nil }
            guard !ident.isEmpty else { return nil }
            i += 1
            if i < end, bytes[i] == 0x20 { i += 1 }
            message = i..<end
        }
    }

    public init<C: Collection>(_ bytes: C, _ fields: Fields) where C.Element == UInt8, C.Index == Int {
        stamp = fields.stamp
        host = String(decoding: bytes[fields.host], as: UTF8.self)
        ident = String(decoding: bytes[fields.ident], as: UTF8.self)
        pid = fields.pid.flatMap { UInt32(String(decoding: bytes[$0], as: UTF8.self)) }
        message = String(decoding: bytes[fields.message], as: UTF8.self)
    }

    /// Parses `bytes` (see `Fields`).
    public init?<C: Collection>(_ bytes: C) where C.Element == UInt8, C.Index == Int {
        guard let fields = Fields(bytes) else { return nil }
        self.init(bytes, fields)
    }

    public init(stamp: SyslogStamp, host: String, ident: String, pid: UInt32?, message: String) {
        self.stamp = stamp; self.host = host; self.ident = ident; self.pid = pid; self.message = message
    }

    /// "sshd[87883]: Accepted password for root …", as the log wrote it after the host.
    public var quoted: String { "\(ident)\(pid.map { "[\($0)]" } ?? ""): \(message)" }

    /// The stamp at `i`, advancing past it.
    static func stamp<C: Collection>(_ b: C, _ i: inout Int) -> SyslogStamp? where C.Element == UInt8, C.Index == Int {
        let end = b.endIndex
        func digits(_ at: Int, _ count: Int) -> Int? {
            guard at + count <= end else { return nil }
            var value = 0
            for k in at..<(at + count) {
                let c = b[k]
                guard c >= 0x30, c <= 0x39 else { return nil }
                value = value * 10 + Int(c - 0x30)
            }
            return value
        }
        let s = i
        guard s + 15 <= end else { return nil }
        if b[s] >= 0x30, b[s] <= 0x39 {
            // 2026-07-31T08:35:29[.ffffff](Z|+hh:mm)
            guard s + 19 <= end, b[s + 4] == 0x2D, b[s + 7] == 0x2D, b[s + 10] == 0x54, b[s + 13] == 0x3A, b[s + 16] == 0x3A,
                  let year = digits(s, 4), let month = digits(s + 5, 2), let day = digits(s + 8, 2),
                  let hour = digits(s + 11, 2), let minute = digits(s + 14, 2), let second = digits(s + 17, 2),
                  (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
            var k = s + 19
            var micros = 0
            if k < end, b[k] == 0x2E {
                k += 1
                var scale = 100_000, count = 0
                while k < end, b[k] >= 0x30, b[k] <= 0x39 {
                    if count < 6 { micros += Int(b[k] - 0x30) * scale; scale /= 10 }
                    count += 1
                    k += 1
                }
                guard count > 0 else { return nil }
            }
            var offset = 0
            guard k < end else { return nil }
            if b[k] == 0x5A {
                k += 1
            } else if b[k] == 0x2B || b[k] == 0x2D {
                guard let oh = digits(k + 1, 2), k + 3 < end, b[k + 3] == 0x3A, let om = digits(k + 4, 2), oh < 24, om < 60 else { return nil }
                offset = (oh * 3600 + om * 60) * (b[k] == 0x2B ? 1 : -1)
                k += 6
            } else {
                return nil
            }
            let days = Self.daysFromCivil(year: year, month: month, day: day)
            let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offset)
            i = k
            return .rfc3339(Instant(seconds: seconds, microseconds: Int64(micros)))
        }
        // Jul 31 08:35:29 (the day padded with a space: "Jun  9")
        let key = UInt32(b[s]) << 16 | UInt32(b[s + 1]) << 8 | UInt32(b[s + 2])
        guard let month = months[key], b[s + 3] == 0x20, b[s + 6] == 0x20, b[s + 9] == 0x3A, b[s + 12] == 0x3A else { return nil }
        let day: Int?
        if b[s + 4] == 0x20 { day = digits(s + 5, 1) } else { day = digits(s + 4, 2) }
        guard let day, (1...31).contains(day), let hour = digits(s + 7, 2), let minute = digits(s + 10, 2),
              let second = digits(s + 13, 2), hour < 24, minute < 60, second < 61 else { return nil }
        i = s + 15
        return .rfc3164(month: month, day: day, seconds: hour * 3600 + minute * 60 + second)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
