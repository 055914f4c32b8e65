import Dispatch
import Synchronization
import WitnessCapture
import WitnessModel
import WitnessReport
import WitnessSystem

/// The metrics a running arm publishes (node_exporter's textfile): it owns
/// its `Metrics` and the file, and brings them up to date from the parts.
final class MetricsPublisher {
    private(set) var metrics = Metrics()
    let file: MetricsFile?
    let directory: String?
    private var failed = false

    init(directory: String?) {
        self.directory = directory
        file = directory.flatMap { MetricsFile(directory: $0) }
    }

    var capability: Capability {
        if let file { return .available(via: file.path, active: true) }
        return directory.map { .unavailable("\($0) does not exist (no node_exporter textfile collector)") }
            ?? .unavailable("off (--no-metrics)")
    }

    func armed(_ armed: Bool) {
        metrics.armed = armed
        metrics.lastAlive = Instant.now()
    }

    func alive() { metrics.lastAlive = Instant.now() }

    /// How the boots this host remembers ended (from the previous-boot report).
    func boots(_ lines: [LastReport.Line]) {
        metrics.bootsByReason = Dictionary(grouping: lines.compactMap(\.verdict), by: \.reason.rawValue).mapValues(\.count)
        metrics.lastBoot = lines.first { $0.index == -1 }?.verdict
    }

    /// Rewrites the file from the kernel's counters and the path's counts (only when they changed).
    func update(probes: WitnessProbes, path: RecordPath, preflight: String? = nil) {
        guard let file else { return }
        if let preflight { metrics.preflightOutcome = preflight }
        metrics.probesAttached = probes.states.values.filter { $0.attachMode != nil }.count
        metrics.recordsByProbe = path.storedByProbe
        let counters = probes.counters
        metrics.lostByClass = ["stopping": counters.lostStopping, "bad_magic": counters.lostBadMagic,
                               "exec": counters.lostExec, "other": counters.lostOther]
        metrics.aggregatedCalls = counters.aggregated
        do {
            try file.update(metrics)
        } catch {
            if !failed { StandardError.write("reboot-witness: metrics \(file.path): \(error)\n") }
            failed = true
        }
    }
}

/// How the boots this host remembers ended, worked out on another thread
/// (reading a large journal must not stall the loop whose heartbeat keeps
/// the hold), then taken by the loop once.
final class PreviousBootReport: Sendable {
    /// Boots whose verdicts the metrics count (the newest; `last --list` shows all).
    static let reportedBoots = 100

    private let lines = Mutex<[LastReport.Line]?>(nil)
    private let taken = Mutex(false)

    func start(store: String) {
        let locations = { var l = HostEvidence.Locations(); l.store = store; return l }()
        DispatchQueue.global().async { [self] in
            let report = LastReport.list(host: HostEvidence(locations), count: Self.reportedBoots)
            lines.withLock { $0 = report }
        }
    }

    /// The report, the first time it is asked for once ready; nil before and after.
    func take() -> [LastReport.Line]? {
        guard let ready = lines.withLock({ $0 }) else { return nil }
        return taken.withLock { wasTaken in
            defer { wasTaken = true }
            return wasTaken ? nil : ready
        }
    }
}
