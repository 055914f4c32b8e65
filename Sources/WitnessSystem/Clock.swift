import Glibc

public enum BootIdentity {
    /// /proc/sys/kernel/random/boot_id: new at every boot.
    public static func current() -> String {
        Files.readLine("/proc/sys/kernel/random/boot_id") ?? "unknown"
    }

    /// When this boot started, from /proc/stat's btime (whole seconds).
    public static func currentStart() -> Instant? {
        guard let seconds = Files.readText("/proc/stat").flatMap(ProcText.bootTime) else { return nil }
        return Instant(microseconds: seconds * 1_000_000)
    }
}

/// A wall-clock instant, microseconds since the epoch: what the journal,
/// the audit log and wtmp give, and what the store's ISO 8601 strings say.
public struct Instant: Comparable, Hashable, Sendable {
    public var microseconds: Int64

    public init(microseconds: Int64) { self.microseconds = microseconds }
    public init(seconds: Int64, microseconds: Int64 = 0) { self.microseconds = seconds * 1_000_000 + microseconds }

    public static func < (a: Instant, b: Instant) -> Bool { a.microseconds < b.microseconds }

    public var iso8601: String { WallClock.iso8601(realtimeNanoseconds: microseconds * 1000) }

    public func adding(seconds: Int64) -> Instant { Instant(microseconds: microseconds + seconds * 1_000_000) }

    /// Parses WallClock's own form, "2026-11-23T04:01:12.345Z" (milliseconds
    /// optional); nil for anything else.
    public init?(iso8601 text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.last == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int32? {
            var value: Int32 = 0
            for byte in bytes[range] {
                guard byte >= 48 && byte <= 57 else { return nil }
                value = value * 10 + Int32(byte - 48)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19) else { return nil }
        var millis: Int64 = 0
        if bytes.count >= 24, bytes[19] == UInt8(ascii: "."), let ms = number(20..<23) { millis = Int64(ms) }
        var parts = tm()
        parts.tm_year = year - 1900; parts.tm_mon = month - 1; parts.tm_mday = day
        parts.tm_hour = hour; parts.tm_min = minute; parts.tm_sec = second
        let seconds = timegm(&parts)
        guard seconds != -1 || (year == 1969) else { return nil }
        microseconds = Int64(seconds) * 1_000_000 + millis * 1000
    }

    public static func now() -> Instant { Instant(microseconds: SystemCalls.clocks().realtime / 1000) }
}

public enum WallClock {
    /// Wall-clock time of a CLOCK_BOOTTIME instant, as ISO 8601 UTC.
    public static func iso8601(bootNanoseconds: UInt64) -> String {
        let (realtime, boottime) = SystemCalls.clocks()
        return iso8601(realtimeNanoseconds: realtime - (boottime - Int64(bootNanoseconds)))
    }

    public static func now() -> String {
        iso8601(realtimeNanoseconds: SystemCalls.clocks().realtime)
    }

    public static func iso8601(realtimeNanoseconds ns: Int64) -> String {
        var seconds = time_t(ns / 1_000_000_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let millis = Int((ns / 1_000_000) % 1000)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }
}
