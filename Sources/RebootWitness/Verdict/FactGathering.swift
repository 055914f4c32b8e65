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
        let start = facts.armed ?? facts.records.first?.time
        let end = facts.lastAlive ?? facts.records.last?.time
        if let start {
            // wtmp entries written while that boot ran (a shutdown entry is written just before the end).
            facts.wtmp = Wtmp.read().filter { $0.time >= start && (end == nil || $0.time <= end! || $0.kind == "shutdown") }
                .filter { $0.kind != "reboot" }
        }
        return facts
    }

    static let uncleanPatterns = ["Starting recovery", "recovery complete", "orphan cleanup", "was not properly unmounted",
                                  "mounting unchecked fs", "needs_recovery", "replaying log", "log replay"]

    /// Lines of a kernel log saying the previous boot did not unmount cleanly.
    public static func uncleanMarkers(in kernelLog: String) -> [String] {
        kernelLog.split(separator: "\n").filter { line in uncleanPatterns.contains { line.contains($0) } }.map(String.init)
    }
}
