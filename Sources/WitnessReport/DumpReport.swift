import WitnessStore
import WitnessSystem
import WitnessModel

/// Which boots `dump` shows.
public enum BootSelection: String, CaseIterable, Sendable {
    case current, previous, all
}

/// `dump`: the witness's records of the chosen boot(s), newest last, read
/// from the same per-boot model `last` uses (`WitnessBoot` in a `BootTimeline`).
public struct DumpReport {
    public var skipped: Int
    /// The chosen boots, oldest first.
    public var boots: [String]
    /// What the witness left in each chosen boot, by boot id.
    public var witness: [String: WitnessBoot] = [:]

    /// The records of every chosen boot, in order.
    public var items: [WitnessBoot.Item] { boots.flatMap { witness[$0]?.items ?? [] } }

    /// The store's boots and the running one (`currentBoot`) only.
    public init(contents: StoreContents, selection: BootSelection, currentBoot: String) {
        self.init(timeline: BootTimeline(witness: WitnessBoot.fold(contents), journal: [], wtmp: [], current: currentBoot,
                                         currentStart: nil),
                  skipped: contents.skipped, selection: selection)
    }

    /// `timeline`: every boot the host knows (the previous boot may be one
    /// the witness did not see).
    public init(timeline: BootTimeline, skipped: Int, selection: BootSelection) {
        self.skipped = skipped
        let stored = timeline.boots.compactMap(\.witness)
        for boot in stored { witness[boot.bootID] = boot }
        switch selection {
        case .all: boots = stored.map(\.bootID)
        case .current: boots = timeline.currentIndex.map { [timeline.boots[$0].name] } ?? []
        case .previous: boots = timeline.index(back: 1).map { [timeline.boots[$0].name] } ?? []
        }
    }
}
