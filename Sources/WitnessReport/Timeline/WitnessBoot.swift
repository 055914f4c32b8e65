import WitnessStore
import WitnessModel

/// One boot as the witness store recorded it, folded once for every reader
/// (`dump`, `last`): markers, callers with each reboot(2) entry joined to
/// its exit and PID 1's calls linked to who asked, watchdog findings, pstore.
public struct WitnessBoot: Equatable, Sendable {
    /// A caller record and, for a reboot(2) entry, how the call ended.
    public struct Item: Equatable, Sendable {
        public var record: CallerRecord
        public var outcome: String?
    }

    public var bootID: String
    public var armed: String?
    public var lastAlive: String?
    public var stopped: String?
    public var items: [Item] = []
    public var watchdog: [WatchdogRecord] = []
    /// pstore records harvested for this boot.
    public var pstore: [PstoreRecord] = []
    /// What preflight said about the boot after this one, oldest first.
    public var preflight: [PreflightRecord] = []
    /// What the boot loader said at this boot's start of the attempts before it.
    public var bootLoader: [String] = []
    /// Its soft reboots, oldest first (each ends one userspace session of the boot).
    public var softReboots: [SoftReboot] = []
    /// systemd's SoftRebootsCount when the witness was last armed in it (nil: not told).
    public var softRebootsAtArming: Int?
    /// The earliest and latest time of anything stored for this boot.
    public var first: String?
    public var last: String?

    public init(bootID: String) { self.bootID = bootID }

    /// Caller records, exits joined to their entries (exit records themselves left out).
    public var records: [CallerRecord] { items.map(\.record) }

    public var summary: String {
        guard let armed else {
            return items.isEmpty ? "the witness was not armed in this boot"
                : "witness armed (its start marker was overwritten: the store is full)"
        }
        var text = "witness armed \(armed)"
        if let count = softRebootsAtArming, count > 0 { text += " (last armed after soft reboot \(count))" }
        if let lastAlive { text += ", last seen alive \(lastAlive)" }
        text += stopped.map { ", stopped cleanly \($0)" }
            ?? "; no clean stop (reset, panic, power loss, or a reboot it did not outlive)"
        return text
    }

    /// Every boot in the store, in the order the store first saw them.
    public static func fold(_ contents: StoreContents) -> [WitnessBoot] {
        var boots: [String: WitnessBoot] = [:]
        var order: [String] = []
        var openEntries: [String: Int] = [:]   // boot/tid → index of the entry awaiting its exit
        var intents: [String: [CallerRecord]] = [:]
        for entry in contents.entries where entry.bootID != "unknown" {
            let id = entry.bootID
            if boots[id] == nil { boots[id] = WitnessBoot(bootID: id); order.append(id) }
            var boot = boots[id]!
            if let (from, to) = entry.timeSpan {
                boot.first = min(boot.first ?? from, from)
                boot.last = max(boot.last ?? to, to)
            }
            if case .caller(let record) = entry, record.isIntent { intents[id, default: []].append(record) }
            boot.noteSoftReboots(entry, intents: intents[id] ?? [])
            switch entry {
            case .start(let m):
                boot.armed = boot.armed ?? m.time
                boot.softRebootsAtArming = m.softReboots ?? boot.softRebootsAtArming
                // Armed again after a clean stop (a restart, an upgrade): that stop did not end the witnessing.
                if let stopped = boot.stopped, stopped <= m.time { boot.stopped = nil }
                boot.bootLoader += m.bootLoader ?? []
            case .alive(let m): boot.lastAlive = m.time
            case .stop(let m): boot.stopped = m.time
            case .pstore(let record): boot.pstore.append(record)
            case .watchdog(let record): boot.watchdog.append(record)
            case .preflight(let record): boot.preflight.append(record)
            case .caller(var record):
                // A graceful reboot reaches the kernel as PID 1: name who asked for it (the one rule `last` uses too);
                // not for PID 1's other calls (systemd sets CAD_OFF at every start, soft reboots included).
                let syscallEntry = record.probe.isRebootSyscallEntry
                let pidOneStops = (syscallEntry && record.cmd?.stops != false)
                    || (record.probe == .execIntent && record.cmdArg?.contains("systemd-shutdown") == true)
                if record.isPidOnesOwnStep, record.initiator == nil, pidOneStops,
                   let intent = CallerRecord.initiatingIntent(in: intents[id] ?? [], before: record.time, ending: record.cmd) {
                    record.initiator = CallerRecord.Initiator(intent)
                }
                let key = "\(id)/\(record.tid)"
                if record.probe == .sysExitReboot {
                    if let index = openEntries.removeValue(forKey: key) {
                        boot.items[index].outcome = returned(record.retval ?? 0)
                            + (boot.items[index].record.held ? " to the caller; the witness replayed the call once durable" : "")
                        boot.items[index].record.retval = record.retval
                    }
                } else if syscallEntry {
                    openEntries[key] = boot.items.count
                    boot.items.append(Item(record: record, outcome: "no return seen (the call took the machine or its PID namespace down, or the witness stopped first)"))
                } else {
                    boot.items.append(Item(record: record, outcome: nil))
                }
            }
            boots[id] = boot
        }
        return order.map { boots[$0]! }
    }

    static func returned(_ value: Int64) -> String {
        guard value < 0 else { return "returned \(value)" }
        let names: [Int64: String] = [-1: "EPERM", -14: "EFAULT", -22: "EINVAL", -16: "EBUSY", -95: "EOPNOTSUPP"]
        return "returned \(value) (\(names[value] ?? "errno \(-value)"))"
    }
}

extension StoreEntry {
    /// When what this entry records happened (a counted caller: its first
    /// and last call), where it says.
    var timeSpan: (String, String)? {
        switch self {
        case .caller(let record): return (record.time, record.lastTime ?? record.time)
        case .start(let m), .alive(let m), .stop(let m): return (m.time, m.time)
        case .watchdog(let record): return (record.time, record.time)
        case .preflight(let record): return (record.time, record.time)
        case .pstore: return nil  // written in an earlier boot, harvested in a later one
        }
    }
}
