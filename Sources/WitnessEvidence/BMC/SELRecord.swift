import WitnessSystem

/// One 16-byte System Event Log record (IPMI 2.0 §32), and what it says
/// about how a boot ended where it says anything.
public struct SELRecord: Equatable, Sendable {
    public var id: UInt16
    public var type: UInt8
    /// Seconds since 1970 by the BMC's clock (type 0x02 and OEM 0xC0-0xDF records).
    public var timestamp: UInt32?
    public var generator: UInt16
    public var sensorType: UInt8
    public var sensorNumber: UInt8
    public var eventType: UInt8
    public var deasserted: Bool
    public var data: (UInt8, UInt8, UInt8)

    public static func == (a: SELRecord, b: SELRecord) -> Bool {
        a.bytesKey == b.bytesKey
    }
    private var bytesKey: [UInt32] {
        [UInt32(id), UInt32(type), timestamp ?? .max, UInt32(generator), UInt32(sensorType), UInt32(sensorNumber),
         UInt32(eventType), deasserted ? 1 : 0, UInt32(data.0), UInt32(data.1), UInt32(data.2)]
    }

    /// nil unless `bytes` is a whole record (16 bytes).
    public init?(_ bytes: ArraySlice<UInt8>) {
        guard bytes.count == 16 else { return nil }
        let b = Array(bytes)
        id = UInt16(b[0]) | UInt16(b[1]) << 8
        type = b[2]
        let stamp = UInt32(b[3]) | UInt32(b[4]) << 8 | UInt32(b[5]) << 16 | UInt32(b[6]) << 24
        timestamp = type == 0x02 || (0xC0...0xDF).contains(type) ? stamp : nil
        generator = UInt16(b[7]) | UInt16(b[8]) << 8
        sensorType = b[10]
        sensorNumber = b[11]
        eventType = b[12] & 0x7F
        deasserted = b[12] & 0x80 != 0
        data = (b[13], b[14], b[15])
    }

    /// Timestamps up to 0x20000000 count from the BMC's own start: its clock was never set.
    public static let clockSetFrom: UInt32 = 0x2000_0000

    /// The time by the BMC's clock, where it was set and the record says one.
    public var time: Instant? {
        guard let timestamp, timestamp > Self.clockSetFrom, timestamp != .max else { return nil }
        return Instant(seconds: Int64(timestamp))
    }

    /// The time by the host's clock: the BMC's, less how far the BMC's clock
    /// was ahead of the host's when read (`offset`, seconds).
    public func hostTime(offset: Int64) -> Instant? {
        time.map { Instant(seconds: $0.microseconds / 1_000_000 - offset) }
    }

    /// Says it was written by the BMC itself (its slave address 0x20), not by
    /// software on the host. Only says: Add SEL Entry stores whatever record
    /// root on the host sends, generator id included, so a SEL entry never
    /// outranks what the host itself recorded (see VerdictEngine).
    public var fromBMC: Bool { generator & 0x01 == 0 && generator & 0xFF == 0x20 }

    /// How this record ends a boot, if it does: a sensor-specific event
    /// (type 0x6F) of a watchdog, button, power unit or supply, or a system
    /// restart. A watchdog that expired in the BIOS or POST (its timer use
    /// in event data 2) speaks of the firmware after an end, not of the OS.
    public var ending: BMCEnding? {
        guard type == 0x02, !deasserted, eventType == 0x6F else { return nil }
        let offset = data.0 & 0x0F
        // Event data 2 holds the timer use when data 1's bits 7:6 say so (0b11: OEM, 0b10: specified).
        let timerUse: UInt8? = data.0 >> 6 == 0b10 || data.0 >> 6 == 0b11 ? data.1 & 0x0F : nil
        if sensorType == 0x23, let timerUse, timerUse == 1 || timerUse == 2 { return nil }
        switch (sensorType, offset) {
        case (0x23, 1): return .watchdog("hard reset")
        case (0x23, 2): return .watchdog("power down")
        case (0x23, 3): return .watchdog("power cycle")
        case (0x14, 0): return .powerButton("power button pressed")
        case (0x14, 2): return .powerButton("reset button pressed")
        case (0x09, 0): return .chassisControl("power off / power down")
        case (0x09, 1): return .chassisControl("power cycle")
        case (0x09, 4): return .powerFailure("AC lost")
        case (0x09, 5): return .powerFailure("soft power control failure")
        case (0x09, 6): return .powerFailure("power unit failure")
        case (0x08, 1): return .powerFailure("power supply failure")
        case (0x08, 3): return .powerFailure("power supply input lost")
        case (0x1D, 1): return .chassisControl("system restart initiated by hard reset")
        case (0x1D, 7): return RestartCause(code: data.1 & 0x0F).ending
        default: return nil
        }
    }

    /// One line for the evidence ("SEL 0x0012 2026-12-04T…: watchdog 2: hard reset, generator 0x0020").
    public var line: String {
        let when = time.map(\.iso8601) ?? timestamp.map { "BMC clock unset (+\($0) s from its start)" } ?? "no time"
        let what = ending?.words ?? "sensor type 0x\(String(sensorType, radix: 16)) offset \(data.0 & 0x0F)"
        return "SEL 0x\(String(id, radix: 16)) \(when): \(what), generator 0x\(String(generator, radix: 16))"
            + (fromBMC ? "" : " (written by software on the host, not the BMC)")
    }
}

/// How the BMC ended a boot.
public enum BMCEnding: Equatable, Sendable {
    case watchdog(String)
    case chassisControl(String)
    case powerButton(String)
    case powerFailure(String)

    /// What happened, without the kind ("hard reset", "AC lost").
    public var what: String {
        switch self {
        case .watchdog(let what), .chassisControl(let what), .powerButton(let what), .powerFailure(let what): return what
        }
    }

    public var words: String {
        switch self {
        case .watchdog(let action): return "BMC watchdog expired: \(action)"
        case .chassisControl(let what): return "chassis control: \(what)"
        case .powerButton(let what): return what
        case .powerFailure(let what): return "power: \(what)"
        }
    }
}

/// Get System Restart Cause's answer (IPMI 2.0 §28.11): why the running boot started.
public struct RestartCause: Equatable, Sendable {
    public var code: UInt8

    public init(code: UInt8) { self.code = code }

    public var words: String {
        switch code {
        case 0x0: return "unknown"
        case 0x1: return "chassis control command"
        case 0x2: return "reset via pushbutton"
        case 0x3: return "power-up via power pushbutton"
        case 0x4: return "watchdog expiration"
        case 0x5: return "OEM"
        case 0x6: return "automatic power-up on AC (always restore)"
        case 0x7: return "automatic power-up on AC (restore previous state)"
        case 0x8: return "reset via PEF"
        case 0x9: return "power-cycle via PEF"
        case 0xA: return "soft reset (e.g. Ctrl-Alt-Del)"
        case 0xB: return "power-up via RTC wakeup"
        default: return "reserved (0x\(String(code, radix: 16)))"
        }
    }

    public var ending: BMCEnding? {
        switch code {
        case 0x1, 0x8, 0x9: return .chassisControl(words)
        case 0x2, 0x3: return .powerButton(words)
        case 0x4: return .watchdog("watchdog expiration")
        case 0x6, 0x7: return .powerFailure(words)
        default: return nil
        }
    }
}

/// Get Watchdog Timer's answer (IPMI 2.0 §27.7).
public struct BMCWatchdog: Equatable, Sendable {
    public var timerUse: UInt8
    public var running: Bool
    /// 0 none, 1 hard reset, 2 power down, 3 power cycle.
    public var action: UInt8
    /// Which timer uses expired since the flags were last cleared (bit 1 FRB2 … bit 4 SMS/OS).
    public var expirationFlags: UInt8
    public var initialCountdownTenths: UInt16

    public init?(_ data: [UInt8]) {
        guard data.count >= 6 else { return nil }
        timerUse = data[0] & 0x07
        // Bit 6 says started; QEMU's BMC echoes its Set command's "don't stop"
        // bit there, so a present countdown of 0 (bytes 6-7) says stopped.
        running = data[0] & 0x40 != 0 && (data.count < 8 || data[6] != 0 || data[7] != 0)
        action = data[1] & 0x07
        expirationFlags = data[3] & 0x3E
        initialCountdownTenths = UInt16(data[4]) | UInt16(data[5]) << 8
    }

    public var actionWords: String {
        action < 4 ? ["no action", "hard reset", "power down", "power cycle"][Int(action)] : "reserved action \(action)"
    }

    public var summary: String {
        let uses = [(1, "BIOS FRB2"), (2, "BIOS/POST"), (3, "OS load"), (4, "SMS/OS"), (5, "OEM")]
            .filter { expirationFlags & (1 << $0.0) != 0 }.map(\.1)
        return "BMC watchdog: \(running ? "running" : "stopped"), action \(actionWords), countdown \(Double(initialCountdownTenths) / 10) s, "
            + (uses.isEmpty ? "no expiration flag set" : "expired: \(uses.joined(separator: ", "))")
    }
}
