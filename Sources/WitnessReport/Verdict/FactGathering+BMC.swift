import WitnessEvidence
import WitnessSystem

extension FactGathering {
    /// How far a SEL time (put on the host's clock) may be outside the
    /// boot's end: between its last sign of life and the next boot's start.
    static let bmcSlack: Int64 = 60 * 1_000_000

    /// The BMC's records of this boot's end: a SEL event of its own between
    /// the boot's last sign of life and the next boot's start; for the boot
    /// before this one, also the restart cause and the watchdog's flags.
    static func bmc(_ boot: BootTimeline.Boot, next: BootTimeline.Boot?, _ reading: @autoclosure () -> BMCReading?,
                    _ facts: inout BootFacts) {
        guard let next, let reading = reading() else { return }
        let from = (facts.lastSeen.flatMap(Instant.init(iso8601:)) ?? boot.start).map { $0.microseconds - bmcSlack }
        let until = next.start.map { $0.microseconds + bmcSlack }
        let offset = reading.clockOffset
        let inWindow = reading.records.filter { record in
            guard record.ending != nil, let time = record.hostTime(offset: offset)?.microseconds else { return false }
            return time >= (from ?? .min) && time <= (until ?? .max)
        }
        // Entries that say software on the host wrote them are claims anyone with root could add.
        facts.sourceNotes += inWindow.filter { !$0.fromBMC }.map {
            Evidence(source: .bmc, time: $0.hostTime(offset: offset)?.iso8601, excerpt: $0.line + ": not evidence", stance: .contradicts)
        }
        if let record = inWindow.last(where: \.fromBMC), let ending = record.ending {
            facts.bmcEnding = BMCEndingFact(ending: ending, evidence: Evidence(source: .bmc, time: record.hostTime(offset: offset)?.iso8601,
                                                                              excerpt: record.line))
        }
        guard next.isCurrent else { return }
        if facts.bmcEnding == nil, let cause = reading.restartCause, let ending = cause.ending {
            facts.bmcEnding = BMCEndingFact(ending: ending, evidence: Evidence(source: .bmc, time: nil,
                                                                              excerpt: "system restart cause of this boot: \(cause.words)"))
        }
        if let watchdog = reading.watchdog, watchdog.expirationFlags != 0 {
            // The flags stay set until cleared: they say a watchdog expired, not in which boot.
            facts.sourceNotes.append(Evidence(source: .bmc, time: nil, excerpt: watchdog.summary, stance: .note))
        }
        facts.sourceNotes += reading.notes.map { Evidence(source: .bmc, time: nil, excerpt: $0, stance: .note) }
    }
}
