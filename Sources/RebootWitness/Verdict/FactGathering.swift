import WitnessStore
import WitnessSystem

/// Collects `BootFacts` for one boot from every source this machine has.
public enum FactGathering {
    /// Boots in the store's order, oldest first, and the one `back` boots
    /// before the current one (1: the previous boot), or why there is none.
    public static func chooseBoot(in contents: StoreContents, back: Int, current: String) -> Result<String, StoreError> {
        let order = contents.bootOrder.filter { $0 != "unknown" }
        let earlier = order.firstIndex(of: current).map { Array(order[..<$0]) } ?? order.filter { $0 != current }
        guard back >= 1, back <= earlier.count else {
            return .failure(StoreError("the store knows \(earlier.count) boot(s) before this one; --boot \(back) is not among them"))
        }
        return .success(earlier[earlier.count - back])
    }

    /// Facts about `boot`. `nextIsCurrent`: the boot that followed is this
    /// one (its kernel log and pstore then speak of `boot`).
    public static func gather(boot: String, from contents: StoreContents, nextIsCurrent: Bool,
                              journal: Bool = true) -> BootFacts {
        var facts = BootFacts(bootID: boot)
        for entry in contents.entries where entry.bootID == boot {
            switch entry {
            case .caller(let record): facts.records.append(record)
            case .watchdog(let record): facts.watchdog.append(record)
            case .start(let m): facts.armed = facts.armed ?? m.time
            case .alive(let m): facts.lastAlive = m.time
            case .stop(let m): facts.cleanStop = m.time
            case .pstore(let record): facts.pstore.append(record)
            }
        }
        if nextIsCurrent {
            // pstore records not harvested yet (arm has not run in this boot).
            let known = Set(facts.pstore.map(\.file))
            for case .pstore(let record) in PstoreHarvest.collect(previousBoot: boot) where !known.contains(record.file) {
                facts.pstore.append(record)
            }
            facts.uncleanMarkers = uncleanMarkers(in: KernelLog.recentText())
        }
        if journal {
            facts.journal = JournalFacts.read(boot: boot)
        }
        if let start = facts.armed ?? facts.records.first?.time {
            let order = contents.bootOrder
            let next = order.firstIndex(of: boot).flatMap { $0 + 1 < order.count ? order[$0 + 1] : nil }
            let nextStart = next.flatMap { id in
                contents.entries.lazy.compactMap { entry -> String? in
                    if case .start(let m) = entry, m.bootID == id { return m.time } else { return nil }
                }.first
            }
            facts.wtmp = wtmp(Wtmp.read(), start: start, end: facts.lastAlive ?? facts.records.last?.time,
                              nextBootStart: nextStart)
        }
        return facts
    }

    /// wtmp entries written while a boot ran. Its shutdown entry comes after
    /// the last sign of life, so it is kept up to the next boot's start (when
    /// the store knows it), never later: a later boot's shutdown is not this one's.
    static func wtmp(_ entries: [WtmpEntry], start: String, end: String?, nextBootStart: String?) -> [WtmpEntry] {
        entries.filter { entry in
            guard entry.kind != "reboot", entry.time >= start else { return false }
            if entry.kind == "shutdown" { return nextBootStart.map { entry.time < $0 } ?? true }
            return end.map { entry.time <= $0 } ?? true
        }
    }

    static let uncleanPatterns = ["Starting recovery", "recovery complete", "orphan cleanup", "was not properly unmounted",
                                  "mounting unchecked fs", "needs_recovery", "replaying log", "log replay"]

    /// Lines of a kernel log saying the previous boot did not unmount cleanly.
    public static func uncleanMarkers(in kernelLog: String) -> [String] {
        kernelLog.split(separator: "\n").filter { line in uncleanPatterns.contains { line.contains($0) } }.map(String.init)
    }
}
