import WitnessModel
import WitnessReport
import Dispatch
import Synchronization
import WitnessCapture
import WitnessSystem

/// What `arm` tells the fleet's own pipelines besides its records: the
/// previous boot's verdict once at start, and node_exporter's textfile.
extension ArmSession {
    /// How the boots this host remembers ended, worked out on another thread
    /// (reading a large journal must not stall the loop whose heartbeat keeps
    /// the hold), then handed to the loop by `collectPreviousBoot`.
    func startPreviousBootReport() {
        let locations = { var l = HostEvidence.Locations(); l.store = options.store; return l }()
        let handoff = previousBootReport
        DispatchQueue.global().async {
            let lines = LastReport.list(host: HostEvidence(locations), count: Self.reportedBoots)
            handoff.lines.withLock { $0 = lines }
        }
    }

    /// Boots whose verdicts the metrics count (the newest; `last --list` shows all).
    static let reportedBoots = 100

    /// Once the report is ready: the previous boot's verdict to the journal
    /// and the export file, every verdict to the metrics.
    func collectPreviousBoot() {
        guard !previousBootLogged, let lines = previousBootReport.lines.withLock({ $0 }) else { return }
        previousBootLogged = true
        metrics.bootsByReason = Dictionary(grouping: lines.compactMap(\.verdict), by: \.reason.rawValue).mapValues(\.count)
        metrics.lastBoot = lines.first { $0.index == -1 }?.verdict
        if let verdict = metrics.lastBoot {
            sink.publish(verdict)
            StandardError.write("previous boot \(verdict.bootID): \(verdict.bootstat) (\(verdict.confidence.rawValue)): \(verdict.summary)\n")
        }
        updateMetrics()
    }

    /// What `status` says of the copies: journal entries, export file, metrics file.
    var outputsDescription: String {
        let journal = !options.journalFields ? "journal entries off (--no-journal-entries)"
            : sink.journalEntries ? "journal entries (MESSAGE_ID \(WitnessMessageID.record), verdicts \(WitnessMessageID.verdict))"
            : "journal entries off (no journald at \(JournalFields.socket))"
        let export = options.exportPath.map { "export \($0) (rotated at \(options.exportBytes >> 10) KiB, \(options.exportKeep) kept)" }
            ?? "no export file"
        let metrics = metricsFile.map { "metrics \($0.path)" }
            ?? options.metricsDirectory.map { "no metrics file (\($0) does not exist)" } ?? "metrics off (--no-metrics)"
        return [journal, export, metrics].joined(separator: "; ")
    }

    /// Brings node_exporter's textfile up to date (rewritten only when it changed).
    func updateMetrics() {
        metricsUpdated = SystemCalls.clocks().boottime
        guard let metricsFile else { return }
        metrics.probesAttached = probes.states.values.filter { $0.attachMode != nil }.count
        metrics.recordsByProbe = sink.storedByProbe
        let counters = probes.counters
        metrics.lostByClass = ["stopping": counters.lostStopping, "bad_magic": counters.lostBadMagic,
                               "exec": counters.lostExec, "other": counters.lostOther]
        metrics.aggregatedCalls = counters.aggregated
        do {
            try metricsFile.update(metrics)
        } catch {
            if !metricsFailed { StandardError.write("reboot-witness: metrics \(metricsFile.path): \(error)\n") }
            metricsFailed = true
        }
    }
}

/// The boot report, from the thread that works it out to arm's loop.
final class BootReportHandoff: Sendable {
    let lines = Mutex<[LastReport.Line]?>(nil)
}
