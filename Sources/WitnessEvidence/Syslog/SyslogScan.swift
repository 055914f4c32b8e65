import Glibc
import WitnessSystem

/// A line of a text log kept as evidence, with where it was read.
public struct SyslogEntry: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        /// The kernel's "Linux version" line: a boot began.
        case bootStart
        /// PID 1's "systemd 252 running in system mode": a boot's userspace
        /// began (rsyslog's imklog may log the kernel's lines after it, read
        /// late), or a soft reboot, or the initrd's manager then the root's.
        case managerStart
        /// A line one of the facts reads (sudo, sshd, logind, PID 1, kernel trouble…).
        case telling
        /// One of the last lines before a boot start or the end of the file.
        case tail
    }

    public var kind: Kind
    public var line: SyslogLine
    /// Resolved once the file is read (an RFC 3164 stamp needs its year).
    public var time: Instant?
    public var file: String
    public var number: Int
    /// The file's place among those read (older files first), for ordering lines of one second.
    var rank: Int
    /// RFC 3164 year roll-overs (December → January) seen in the file before it.
    var rollovers: Int

    /// "/var/log/secure:1234", for the evidence.
    public var location: String { "\(file):\(number)" }

    /// Lines in the order they were written: by time, then by place.
    static func inOrder(_ a: SyslogEntry, _ b: SyslogEntry) -> Bool {
        let x = a.time?.microseconds ?? 0, y = b.time?.microseconds ?? 0
        return x != y ? x < y : (a.rank, a.number) < (b.rank, b.number)
    }
}

/// One file read forward once, keeping the lines that tell how a boot
/// ended and the last lines before each boot start; every other line costs
/// a parse of its stamp, host and tag only.
struct SyslogFileScan {
    var file: SyslogFile
    var entries: [SyslogEntry] = []
    var lines = 0
    /// Lines with no stamp, host and tag (binary junk, continuation lines).
    var unparsed = 0
    var firstUnparsed: Int?
    var cut = 0
    /// Stamps that went backward (a clock step), with the first place.
    var backward = 0
    var firstBackward: Int?
    /// Lines per host name: the file's own host is the commonest one.
    var hosts: [String: Int] = [:]
    var rollovers = 0
    var lastStamp: SyslogStamp?
    var firstStamp: SyslogStamp?
    /// When the file's first and last lines were written, once resolved.
    var firstTime: Instant?, lastTime: Instant?
    var bytesRead: Int64 = 0
    var damage: String?
    var skippedBytes: Int64 = 0
    var truncated = false
    var readError: String?

    static let tailLength = 12
    /// Telling lines kept per boot in a file, at most (the newest win; a boot's start is never dropped).
    static let tellingLimit = 4096
    /// Telling lines dropped over that limit.
    var dropped = 0

    init(_ file: SyslogFile, rank: Int, byteLimit: Int64) {
        self.file = file
        let reader: LineReader
        do {
            reader = try LineReader(path: file.path, byteLimit: byteLimit, tail: true)
        } catch {
            readError = "\(error)"
            return
        }
        var tail = TailRing(capacity: Self.tailLength)
        var burst = KernelBurst()
        // The last lines before each of the latest quiet gaps: a boot's last words, should the next
        // boot's early lines (with pauses of their own) come between them and its kernel line.
        // (Copies of the ring: its buffers are shared until overwritten, so a pause costs no parsing.)
        var beforeGaps: [TailRing] = []
        var segment = 0
        var previousHost: ArraySlice<UInt8> = [], hostRun = 0, previousKey = -1
        while let raw = reader.next() {
            lines += 1
            let bytes = raw.bytes
            guard let fields = SyslogLine.Fields(bytes) else {
                unparsed += 1
                if firstUnparsed == nil { firstUnparsed = raw.number }
                continue
            }
            if raw.cut { cut += 1 }
            // Host runs are counted, not each line: one dictionary update per change of host.
            let host = bytes[fields.host]
            if !host.elementsEqual(previousHost) {
                if hostRun > 0 { hosts[String(decoding: previousHost, as: UTF8.self), default: 0] += hostRun }
                previousHost = host
                hostRun = 0
            }
            hostRun += 1
            let key = fields.stamp.orderKey
            if case .rfc3164(let month, _, _) = fields.stamp, let last = lastStamp, last.month == 12, month == 1 {
                rollovers += 1
            } else if key < previousKey {
                backward += 1
                if firstBackward == nil { firstBackward = raw.number }
            }
            if previousKey >= 0, key - previousKey >= Self.quietGap {
                beforeGaps = beforeGaps.suffix(Self.gapsKept - 1) + [tail]
            }
            previousKey = key
            burst.see(key: key, ident: bytes[fields.ident], message: bytes[fields.message])
            if firstStamp == nil { firstStamp = fields.stamp }
            lastStamp = fields.stamp
            guard let kind = SyslogTelling.kind(bytes, fields) else {
                tail.keep(bytes, number: raw.number, rollovers: rollovers)
                continue
            }
            let line = SyslogLine(bytes, fields)
            if kind == .bootStart || kind == .managerStart {
                // The last lines so far may be the boot before's last words.
                entries += Self.merged(beforeGaps.flatMap { $0.lines(file: file.path, rank: rank) },
                                       tail.drain(file: file.path, rank: rank, before: kind == .bootStart ? line : nil))
                beforeGaps = []
                segment = entries.count
                if kind == .bootStart { burst.begin(entry: entries.count, key: key) }
            }
            entries.append(SyslogEntry(kind: kind, line: line, time: nil, file: file.path,
                                       number: raw.number, rank: rank, rollovers: rollovers))
            let first = segment + (entries[segment].kind == .telling ? 0 : 1)
            if entries.count - first > Self.tellingLimit * 2 {
                entries.removeSubrange(first..<(first + Self.tellingLimit))
                dropped += Self.tellingLimit
            }
        }
        if hostRun > 0 { hosts[String(decoding: previousHost, as: UTF8.self), default: 0] += hostRun }
        entries += Self.merged(beforeGaps.flatMap { $0.lines(file: file.path, rank: rank) }, tail.drain(file: file.path, rank: rank))
        burst.close()
        damage = reader.damage
        skippedBytes = reader.skippedBytes
        truncated = reader.truncated
        cut = reader.cutLines
        bytesRead = reader.bytesRead
        resolveTimes()
        regroup(uptimes: burst.uptimes)
    }

    /// Candidate tails, each line once, in file order.
    static func merged(_ first: [SyslogEntry], _ second: [SyslogEntry]) -> [SyslogEntry] {
        var seen = Set<Int>()
        return (first + second).filter { seen.insert($0.number).inserted }.sorted { $0.number < $1.number }
    }

    /// RFC 3164 stamps get their year: the last line's is the file's
    /// modification year (the year before, when its month is later than
    /// the modification's), and each December → January roll-over seen
    /// before a line takes one year off it. The local time zone is this
    /// host's (that of the reader: a copy from another zone is off by the
    /// difference).
    mutating func resolveTimes() {
        var modified = tm()
        var seconds = time_t(file.modified)
        localtime_r(&seconds, &modified)
        var endYear = Int(modified.tm_year) + 1900
        if let last = lastStamp, case .rfc3164(let month, _, _) = last, month > Int(modified.tm_mon) + 1 { endYear -= 1 }
        func resolve(_ stamp: SyslogStamp, _ rolloversBefore: Int) -> Instant? {
            switch stamp {
            case .rfc3339(let instant):
                return instant
            case .rfc3164(let month, let day, let secondOfDay):
                return Self.localInstant(year: endYear - (rollovers - rolloversBefore), month: month, day: day, second: secondOfDay)
            }
        }
        for index in entries.indices { entries[index].time = resolve(entries[index].line.stamp, entries[index].rollovers) }
        firstTime = firstStamp.flatMap { resolve($0, 0) }
        lastTime = lastStamp.flatMap { resolve($0, rollovers) }
    }

    static func localInstant(year: Int, month: Int, day: Int, second: Int) -> Instant? {
        var t = tm()
        t.tm_year = Int32(year - 1900)
        t.tm_mon = Int32(month - 1)
        t.tm_mday = Int32(day)
        t.tm_hour = Int32(second / 3600)
        t.tm_min = Int32(second / 60 % 60)
        t.tm_sec = Int32(second % 60)
        t.tm_isdst = -1
        let value = mktime(&t)
        return value == -1 ? nil : Instant(seconds: Int64(value))
    }

    /// The names this host wrote under in the file: the commonest one, the
    /// names on its boot lines and rsyslogd's own lines (a host renamed, or
    /// "localhost" before its name is set); other names are remote hosts'.
    var localHosts: Set<String> {
        var local: Set<String> = ["localhost"]
        if let commonest = hosts.max(by: { $0.value < $1.value })?.key { local.insert(commonest) }
        for entry in entries where entry.kind == .bootStart || entry.line.ident == "rsyslogd" { local.insert(entry.line.host) }
        return local
    }

    /// What a person should know about this file's reading, one line each.
    var notes: [String] {
        var notes: [String] = []
        if let readError { notes.append("\(file.path): \(readError)") }
        if let damage { notes.append("\(file.path): read stopped at line \(lines + 1): \(damage)") }
        if skippedBytes > 0 { notes.append("\(file.path): its first \(skippedBytes) bytes not read (larger than the limit); line numbers count from there") }
        if truncated { notes.append("\(file.path): read up to its limit, not to its end") }
        if unparsed > 0 { notes.append("\(file.path): \(unparsed) line(s) with no syslog stamp, host and tag (binary or foreign text), the first at line \(firstUnparsed ?? 0)") }
        if dropped > 0 { notes.append("\(file.path): \(dropped) older telling line(s) of one boot not kept (over \(Self.tellingLimit * 2))") }
        if cut > 0 { notes.append("\(file.path): \(cut) line(s) longer than 64 KiB cut") }
        if backward > 0 { notes.append("\(file.path): the time went backward \(backward) time(s) (a clock step), the first at line \(firstBackward ?? 0)") }
        let local = localHosts
        for (host, count) in hosts.sorted(by: { $0.value > $1.value }) where !local.contains(host) {
            notes.append("\(file.path): \(count) line(s) from host \(host) (remote syslog) not used")
        }
        return notes
    }
}

extension SyslogStamp {
    /// Seconds into the year (RFC 3164) or since the epoch: increasing along a log, but across a clock step.
    var orderKey: Int {
        switch self {
        case .rfc3164(let month, let day, let seconds): return (month * 32 + day) * 86_400 + seconds
        case .rfc3339(let instant): return Int(instant.microseconds / 1_000_000)
        }
    }
}

/// The last lines read, as bytes in buffers that are reused: a line becomes
/// an entry (strings) only if it turns out to be among a boot's last.
struct TailRing {
    private var slots: [(bytes: [UInt8], number: Int, rollovers: Int)]
    private var next = 0, count = 0

    init(capacity: Int) {
        slots = Array(repeating: ([], 0, 0), count: capacity)
    }

    mutating func keep(_ bytes: ArraySlice<UInt8>, number: Int, rollovers: Int) {
        slots[next].bytes.removeAll(keepingCapacity: true)
        slots[next].bytes.append(contentsOf: bytes.prefix(4096))
        slots[next].number = number
        slots[next].rollovers = rollovers
        next = (next + 1) % slots.count
        count = min(count + 1, slots.count)
    }

    /// The kept lines, oldest first, as tail entries; the ring is then empty.
    /// Before a boot start, the kernel's lines of its very second are the
    /// new boot's (RHEL 7's kernel prints "Initializing cgroup subsys cpuset"
    /// before "Linux version"), not the old one's last words.
    mutating func drain(file: String, rank: Int, before bootStart: SyslogLine? = nil) -> [SyslogEntry] {
        var lines = lines(file: file, rank: rank)
        count = 0
        if let bootStart {
            while let last = lines.last, last.line.ident == "kernel", last.line.stamp == bootStart.stamp { lines.removeLast() }
        }
        return lines
    }

    /// The kept lines, oldest first, as tail entries; the ring keeps them.
    func lines(file: String, rank: Int) -> [SyslogEntry] {
        let first = (next - count + slots.count) % slots.count
        return (0..<count).compactMap { k -> SyslogEntry? in
            let slot = slots[(first + k) % slots.count]
            guard let line = SyslogLine(slot.bytes) else { return nil }
            return SyslogEntry(kind: .tail, line: line, time: nil, file: file, number: slot.number, rank: rank,
                               rollovers: slot.rollovers)
        }
    }
}
