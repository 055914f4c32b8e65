import WitnessCapture
import WitnessStore

/// Which boots `dump` shows.
public enum BootSelection: String, CaseIterable, Sendable {
    case current, previous, all
}

/// `dump`: the captured callers of the chosen boot(s), newest last, each
/// reboot(2) entry joined with its exit (or its absence).
public struct DumpReport {
    public struct Item {
        public var record: CallerRecord
        /// For reboot(2) entries: how the call ended, as far as the store knows.
        public var outcome: String?
    }

    public var items: [Item]
    public var skipped: Int
    public var boots: [String]
    /// What the witness itself left in each chosen boot, by boot id.
    public var witness: [String: WitnessTrace] = [:]
    /// pstore records harvested for each chosen boot.
    public var pstore: [String: [PstoreRecord]] = [:]
    /// Watchdog hunt findings for each chosen boot.
    public var watchdog: [String: [WatchdogRecord]] = [:]

    /// When `arm` started, was last seen alive, and stopped cleanly.
    public struct WitnessTrace: Equatable {
        public var armed: String?
        public var lastAlive: String?
        public var stopped: String?
        /// Caller records kept for the boot.
        public var records = 0

        public var summary: String {
            guard let armed else {
                return records > 0 ? "witness armed (its start marker was overwritten: the store is full)"
                                   : "the witness was not armed in this boot"
            }
            var text = "witness armed \(armed)"
            if let lastAlive { text += ", last seen alive \(lastAlive)" }
            text += stopped.map { ", stopped cleanly \($0)" }
                ?? "; no clean stop (reset, panic, power loss, or a reboot it did not outlive)"
            return text
        }
    }

    public init(contents: StoreContents, selection: BootSelection, currentBoot: String) {
        skipped = contents.skipped
        let order = contents.bootOrder
        let chosen: Set<String>
        switch selection {
        case .all: chosen = Set(order)
        case .current: chosen = [currentBoot]
        case .previous:
            let earlier = order.firstIndex(of: currentBoot).map { Array(order[..<$0]) } ?? order
            chosen = earlier.last.map { [$0] } ?? []
        }
        boots = order.filter(chosen.contains)

        for entry in contents.entries where chosen.contains(entry.bootID) {
            var trace = witness[entry.bootID] ?? WitnessTrace()
            switch entry {
            case .start(let m): trace.armed = trace.armed ?? m.time
            case .alive(let m): trace.lastAlive = m.time
            case .stop(let m): trace.stopped = m.time
            case .pstore(let record): pstore[entry.bootID, default: []].append(record)
            case .watchdog(let record): watchdog[entry.bootID, default: []].append(record)
            case .caller: trace.records += 1
            }
            witness[entry.bootID] = trace
        }
        let records = contents.entries.compactMap { entry -> CallerRecord? in
            if case .caller(let record) = entry, chosen.contains(record.bootID) { return record }
            return nil
        }
        var items: [Item] = []
        var openEntries: [String: Int] = [:]   // boot/tid → index of the entry awaiting its exit
        var lastIntent: [String: CallerRecord] = [:]  // boot → latest exec intent so far
        for var record in records {
            if record.isIntent && (!record.isRelayedIntent || lastIntent[record.bootID] == nil) {
                lastIntent[record.bootID] = record
            }
            // A graceful reboot reaches the kernel as PID 1: name who asked for it.
            let pidOneStops = ProbeCatalog.point(named: record.probe)?.isRebootSyscallEntry == true
                || (record.probe == "sched_process_exec" && record.cmdArg?.contains("systemd-shutdown") == true)
            if record.pid == 1, record.initiator == nil, pidOneStops, let intent = lastIntent[record.bootID] {
                record.initiator = CallerRecord.Initiator(intent)
            }
            let key = "\(record.bootID)/\(record.tid)"
            if record.probe == "sys_exit_reboot" {
                if let index = openEntries.removeValue(forKey: key) {
                    items[index].outcome = Self.returned(record.retval ?? 0)
                        + (items[index].record.held ? " to the caller; the witness replayed the call once durable" : "")
                    items[index].record.retval = record.retval
                }
                continue
            }
            if ProbeCatalog.point(named: record.probe)?.isRebootSyscallEntry == true {
                openEntries[key] = items.count
                items.append(Item(record: record, outcome: "no return seen (the call took the machine or its PID namespace down, or the witness stopped first)"))
            } else {
                items.append(Item(record: record, outcome: nil))
            }
        }
        self.items = items
    }

    static func returned(_ value: Int64) -> String {
        guard value < 0 else { return "returned \(value)" }
        let names: [Int64: String] = [-1: "EPERM", -14: "EFAULT", -22: "EINVAL", -16: "EBUSY", -95: "EOPNOTSUPP"]
        return "returned \(value) (\(names[value] ?? "errno \(-value)"))"
    }
}
