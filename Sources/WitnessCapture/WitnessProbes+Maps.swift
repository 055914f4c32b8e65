import BPFObjects
import CLibbpf
import CWitness
import Glibc
import SystemPackage
import WitnessSystem
import WitnessModel

/// The kernel's counters (`struct rw_counters`), summed over CPUs.
public struct CaptureCounters: Codable, Equatable, Sendable {
    public var lostStopping: UInt64 = 0
    public var lostBadMagic: UInt64 = 0
    public var lostExec: UInt64 = 0
    public var lostOther: UInt64 = 0
    public var spilled: UInt64 = 0
    public var repeats: UInt64 = 0
    public var aggregated: UInt64 = 0
    public var unheld: UInt64 = 0

    public init() {}

    /// Records no ring, spill or aggregate could take, every class together.
    public var lost: UInt64 { lostStopping + lostBadMagic + lostExec + lostOther }

    enum CodingKeys: String, CodingKey {
        case lostStopping = "lost_stopping", lostBadMagic = "lost_bad_magic", lostExec = "lost_exec", lostOther = "lost_other"
        case spilled, repeats, aggregated, unheld
    }
}

/// Refused calls the kernel counted under one cgroup and executable (rw_noise).
public struct NoiseGroup: Codable, Equatable, Sendable {
    public var cgroupID: UInt64
    public var exeInode: UInt64
    public var exeDevice: UInt32
    public var calls: UInt64
    public var firstBootNanoseconds: UInt64
    public var lastBootNanoseconds: UInt64
    /// The group's first caller.
    public var pid: UInt32
    public var uid: UInt32
    public var comm: String

    enum CodingKeys: String, CodingKey {
        case cgroupID = "cgroup_id", exeInode = "exe_inode", exeDevice = "exe_device", calls
        case firstBootNanoseconds = "first_boot_ns", lastBootNanoseconds = "last_boot_ns", pid, uid, comm
    }
}

/// One caller as the kernel counts it: the record the ring carried for its
/// first call is the one with this tid and boot time.
public struct CallerCount: Sendable {
    public var firstTid: UInt32
    public var firstBootNanoseconds: UInt64
    public var count: UInt64
    public var lastBootNanoseconds: UInt64
    /// How much of `count` a controller has stored (rw_folded), nil if none has folded any.
    public var folded: UInt64?
    /// The kernel's key, to record the fold (rw_folded).
    let key: rw_caller_key

    public init(firstTid: UInt32, firstBootNanoseconds: UInt64, count: UInt64, lastBootNanoseconds: UInt64, folded: UInt64? = nil) {
        self.firstTid = firstTid
        self.firstBootNanoseconds = firstBootNanoseconds
        self.count = count
        self.lastBootNanoseconds = lastBootNanoseconds
        self.folded = folded
        key = rw_caller_key()
    }

    init(key: rw_caller_key, value: rw_caller_count, folded: UInt64?) {
        firstTid = value.first_tid
        firstBootNanoseconds = value.first_ns
        count = value.count
        lastBootNanoseconds = value.last_ns
        self.folded = folded
        self.key = key
    }
}

extension WitnessProbes {
    /// The kernel's counters, summed over CPUs (zero before `arm`).
    public var counters: CaptureCounters {
        maps[.stats].map(Self.counters(in:)) ?? CaptureCounters()
    }

    /// The counters of a capture pinned in `pins` (none: nil), whether or not an arm drains it.
    public static func pinnedCounters(_ pins: CapturePins) -> CaptureCounters? {
        guard let stats = try? BPFMap(name: .stats, pinnedAt: pins.mapPath(.stats)) else { return nil }
        return counters(in: stats)
    }

    static func counters(in stats: BPFMap) -> CaptureCounters {
        var total = CaptureCounters()
        for c in stats.perCPU(rw_counters.self) {
            total.lostStopping += c.lost_stopping
            total.lostBadMagic += c.lost_bad_magic
            total.lostExec += c.lost_exec
            total.lostOther += c.lost_other
            total.spilled += c.spilled
            total.repeats += c.repeats
            total.aggregated += c.aggregated
            total.unheld += c.unheld
        }
        return total
    }

    /// Refused calls counted per cgroup and executable, most calls first.
    public func noiseGroups() -> [NoiseGroup] {
        (maps[.noise]?.entries(rw_noise_key.self, rw_noise_count.self) ?? []).map { key, value in
            NoiseGroup(cgroupID: key.cgroup_id, exeInode: key.exe_ino, exeDevice: key.exe_dev, calls: value.calls,
                       firstBootNanoseconds: value.first_ns, lastBootNanoseconds: value.last_ns, pid: value.pid,
                       uid: value.uid, comm: withUnsafeBytes(of: value.comm) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) })
        }.sorted { $0.calls > $1.calls }
    }

    /// Takes the stopping records the kernel spilled (rw_urgent was full),
    /// oldest first: each is deleted from the map once read.
    public func takeSpilled() -> [rw_record] {
        guard let spill = maps[.spill] else { return [] }
        let entries = spill.entries(rw_spill_key.self, rw_record.self)
        for (key, _) in entries { spill.delete(key) }
        return entries.map(\.1).sorted { $0.boot_ns < $1.boot_ns }
    }

    /// The kernel's per-caller counts (see `struct rw_caller_key`) with what
    /// controllers have folded of them.
    public func callerCounts() -> [CallerCount] {
        let folded = Dictionary((maps[.folded]?.entries(rw_caller_key.self, UInt64.self) ?? []).map { (CallerKey($0.0), $0.1) },
                                uniquingKeysWith: { a, _ in a })
        return (maps[.callers]?.entries(rw_caller_key.self, rw_caller_count.self) ?? []).map { key, value in
            CallerCount(key: key, value: value, folded: folded[CallerKey(key)])
        }
    }

    /// `caller` is stored up to `total` calls: a later controller folds from there.
    public func recordFolded(_ caller: CallerCount, total: UInt64) throws {
        try maps[.folded]?.update(caller.key, total)
    }

    /// The watchdog hunt's view of each device (RW_WATCHDOG_ANY excluded).
    public func watchdogStates() -> [rw_watchdog_state] {
        (maps[.watchdogs]?.entries(UInt32.self, rw_watchdog_state.self) ?? [])
            .filter { $0.0 != RW_WATCHDOG_ANY }.map(\.1)
    }

    /// Sets bpf_printk lines for reboot2panic (read-modify-write of rw_config).
    public func configure(printkLines: Bool) throws {
        guard let config = maps[.config] else { return }
        var state = config.lookup(UInt32(0), as: rw_config.self) ?? rw_config()
        state.printk_lines = printkLines ? 1 : 0
        try config.update(UInt32(0), state)
    }

    /// The tool names whose exec the kernel reports (see IntentFilter).
    func installIntentNames() throws {
        guard let names = maps[.intentNames] else { return }
        let whose = IntentFilter.toolNames.map { ($0, RW_INTENT_ANY) } + IntentFilter.pidOneToolNames.map { ($0, RW_INTENT_PID1) }
        for (name, who) in whose {
            var key = [CChar](repeating: 0, count: Int(RW_COMM_LEN))
            for (i, byte) in name.utf8.prefix(Int(RW_COMM_LEN) - 1).enumerated() { key[i] = CChar(bitPattern: byte) }
            var value = UInt8(who.rawValue)
            if bpf_map_update_elem(names.fd, &key, &value, UInt64(BPF_ANY)) != 0 {
                throw SystemError("bpf_map_update_elem", "rw_intent_names", errno: Errno(rawValue: Glibc.errno))
            }
        }
    }

    /// Makes `tgid`'s reboot(2) wait in the kernel (up to `budgetMilliseconds`)
    /// until `acknowledgeFinal` names its record; a budget of 0 turns it off.
    public func setFinalWait(tgid: UInt32, budgetMilliseconds: UInt64) throws {
        try writeFinal(tgid: tgid, budgetNanoseconds: budgetMilliseconds * 1_000_000, acked: 0)
    }

    /// The record with this boot_ns is durable: its caller may go on.
    public func acknowledgeFinal(tgid: UInt32, budgetMilliseconds: UInt64, bootNanoseconds: UInt64) throws {
        try writeFinal(tgid: tgid, budgetNanoseconds: budgetMilliseconds * 1_000_000, acked: bootNanoseconds)
    }

    private func writeFinal(tgid: UInt32, budgetNanoseconds: UInt64, acked: UInt64) throws {
        guard let final = maps[.final] else { throw SystemError("find map", "rw_final", errno: .noSuchFileOrDirectory) }
        var state = rw_final_state()
        state.tgid = tgid
        state.budget_ns = budgetNanoseconds
        state.acked_ns = acked
        try final.update(UInt32(0), state)
    }

    /// A reader per ring: stopping records first (rw_urgent), then the rest (rw_events).
    public func readers(deliver: @escaping (rw_record) -> Void) throws -> (urgent: RingBufferReader, events: RingBufferReader) {
        guard let urgent = maps[.urgent], let events = maps[.events] else {
            throw SystemError("find map", "rw_urgent/rw_events", errno: .noSuchFileOrDirectory)
        }
        return (try RingBufferReader(mapFD: urgent.fd, deliver: deliver), try RingBufferReader(mapFD: events.fd, deliver: deliver))
    }
}

/// rw_caller_key as a dictionary key (the C struct is not Hashable).
private struct CallerKey: Hashable {
    let bytes: [UInt8]
    init(_ key: rw_caller_key) { bytes = withUnsafeBytes(of: key) { Array($0) } }
}
