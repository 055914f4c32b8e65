import WitnessSystem

/// What the BMC keeps about how boots ended: its System Event Log, its
/// watchdog's expiration flags, and the running boot's restart cause. Read
/// once per `last`, bounded in entries and in time; a machine without a
/// BMC reads as nothing at all.
public struct BMCReading: Sendable {
    public var device: String
    public var identity: String?
    public var records: [SELRecord] = []
    public var watchdog: BMCWatchdog?
    public var restartCause: RestartCause?
    /// How far the BMC's clock was ahead of the host's when read, in seconds
    /// (Get SEL Time): SEL times are put on the host's clock with it.
    public var clockOffset: Int64 = 0
    /// What could not be read, or was read only in part (one line each).
    public var notes: [String] = []

    /// The most SEL entries read (a SEL holds at most 0xFFFE; real ones a few thousand).
    public static let maxEntries = 4096
    /// The whole reading's budget: a slow BMC cannot hold `last` up for long.
    public static let budgetMilliseconds: Int64 = 5000

    public init(device: String, notes: [String] = []) {
        self.device = device
        self.notes = notes
    }

    /// nil where there is no IPMI device (nothing to say).
    public static func read(device path: String = "/dev/ipmi0", timeoutMilliseconds: Int32 = 1000) -> BMCReading? {
        let device: IPMIDevice
        do {
            device = try IPMIDevice(path: path, timeoutMilliseconds: timeoutMilliseconds)
        } catch .absent {
            return nil
        } catch {
            return BMCReading(device: path, notes: ["\(path): \(error)"])
        }
        return read(device)
    }

    static func read(_ device: IPMIDevice) -> BMCReading {
        var reading = BMCReading(device: device.path)
        do {
            let id = try device.request(.deviceID, minimum: 6)
            reading.identity = "device id 0x\(String(id[0], radix: 16)), firmware \(id[2] & 0x7F).\(String(id[3], radix: 16)), IPMI \(id[4] & 0x0F).\(id[4] >> 4)"
        } catch {
            // Not answering Get Device ID: nothing else will be answered either.
            reading.notes.append("\(device.path): \(error)")
            return reading
        }
        let deadline = SystemCalls.clocks().boottime + budgetMilliseconds * 1_000_000
        do {
            reading.watchdog = BMCWatchdog(try device.request(.watchdogTimer, minimum: 6))
        } catch {
            reading.notes.append("watchdog: \(error)")
        }
        do {
            reading.restartCause = RestartCause(code: try device.request(.systemRestartCause, minimum: 1)[0] & 0x0F)
        } catch {
            reading.notes.append("restart cause: \(error)")
        }
        reading.readSEL(device, until: deadline)
        return reading
    }

    /// The newest record first (record id 0xFFFF: the SEL has no backward
    /// walk, and its newest entry is the one a reset leaves), then the walk
    /// from the first record (0x0000) along each answer's next id until
    /// 0xFFFF, the entry limit or the deadline.
    private mutating func readSEL(_ device: IPMIDevice, until deadline: Int64) {
        let count: Int
        do {
            let info = try device.request(.selInfo, minimum: 5)
            count = Int(info[1]) | Int(info[2]) << 8
        } catch {
            notes.append("SEL: \(error)")
            return
        }
        guard count > 0 else { return }
        if let stamp = try? device.request(.selTime, minimum: 4) {
            let bmc = Int64(UInt32(stamp[0]) | UInt32(stamp[1]) << 8 | UInt32(stamp[2]) << 16 | UInt32(stamp[3]) << 24)
            if bmc > Int64(SELRecord.clockSetFrom) {
                clockOffset = bmc - SystemCalls.clocks().realtime / 1_000_000_000
                if abs(clockOffset) > 60 { notes.append("SEL: the BMC's clock is \(clockOffset) s off the host's; its times are corrected by it") }
            } else {
                notes.append("SEL: the BMC's clock is not set (\(bmc) s from its start): its times are not trusted")
            }
        }
        var newest: SELRecord?
        if let answer = try? device.request(.selEntry, [0, 0, 0xFF, 0xFF, 0, 0xFF], minimum: 18) {
            newest = SELRecord(answer[2..<18])
        }
        defer {
            if let newest, !records.contains(where: { $0.id == newest.id }) { records.append(newest) }
        }
        var next: UInt16 = 0x0000
        var seen = Set<UInt16>()
        while next != 0xFFFF {
            guard records.count < Self.maxEntries else {
                notes.append("SEL: \(count) entries; the first \(Self.maxEntries) read")
                break
            }
            guard SystemCalls.clocks().boottime < deadline else {
                notes.append("SEL: \(records.count) of \(count) entries read in \(Self.budgetMilliseconds) ms; the rest not read")
                break
            }
            // Reservation 0, offset 0, 0xFF bytes: a whole record needs no reservation (nothing changes on the BMC).
            let request: [UInt8] = [0, 0, UInt8(next & 0xFF), UInt8(next >> 8), 0, 0xFF]
            let answer: [UInt8]
            do {
                answer = try device.request(.selEntry, request, minimum: 18)
            } catch {
                // 0xCB: the SEL is empty (or the record is gone).
                if case .completion(_, 0xCB) = error, records.isEmpty { break }
                notes.append("SEL: \(error)")
                break
            }
            guard let record = SELRecord(answer[2..<18]) else { break }
            let following = UInt16(answer[0]) | UInt16(answer[1]) << 8
            // A BMC whose next ids loop would keep us here: each id once.
            guard seen.insert(next).inserted else {
                notes.append("SEL: the BMC's next record ids loop at 0x\(String(next, radix: 16))")
                break
            }
            records.append(record)
            next = following
        }
        if records.contains(where: { $0.timestamp != nil && $0.time == nil }) {
            notes.append("SEL: entries stamped before the BMC's clock was set (times from its start, not trusted)")
        }
    }
}
