import Dispatch
import Synchronization
import WitnessCapture
import WitnessModel
import WitnessReport
import WitnessSystem

/// The metrics a running arm publishes (node_exporter's textfile, and the
/// HTTP listener of `--metrics-address`): it owns its `Metrics`, the file and
/// the listener, and brings them up to date from the parts.
public final class MetricsPublisher {
    private(set) var metrics = Metrics()
    let file: MetricsFile?
    let directory: String?
    let server: MetricsServer?
    private let board: MetricsBoard
    private var failed = false
    /// What the text served and written was last rendered from.
    private var rendered: Metrics?

    /// A loop that has not published for this long is not healthy (/healthz).
    static let staleAfter: Int64 = 30 * PeriodicTasks.second

    /// Throws when `address` cannot be listened on (in use, not this host's).
    init(directory: String?, address: MetricsAddress?, store: String) throws {
        self.directory = directory
        file = directory.flatMap { MetricsFile(directory: $0) }
        let board = MetricsBoard(node: metrics.node)
        self.board = board
        server = try address.map { address in
            let readiness: MetricsServer.Probe = { Readiness.check(store: store) }
            let health: MetricsServer.Probe = {
                let age = SystemCalls.clocks().boottime - board.lastBeat
                guard age <= Self.staleAfter else { return (false, "not healthy: arm's loop last published \(age / PeriodicTasks.second) s ago") }
                return readiness()
            }
            return try MetricsServer(address: address, board: board, health: health, readiness: readiness)
        }
    }

    var capability: Capability {
        if let file { return .available(via: file.path, active: true) }
        return directory.map { .unavailable("\($0) does not exist (no node_exporter textfile collector)") }
            ?? .unavailable("off (--no-metrics)")
    }

    var listener: Capability {
        server.map { .available(via: "http://\($0.address)/metrics", active: true, "/healthz, /readyz") }
            ?? .unavailable("off (no --metrics-address)")
    }

    func shutdown() { server?.shutdown() }

    /// `arm --idle-on-refusal --metrics-address`: the listener of an arm that
    /// could not arm serves `armed 0` and, at /healthz and /readyz, why not.
    public static func serveRefusal(address: MetricsAddress, store: String) throws -> MetricsServer {
        let board = MetricsBoard()
        board.publish(Metrics().render())
        let readiness: MetricsServer.Probe = { Readiness.check(store: store) }
        return try MetricsServer(address: address, board: board, health: readiness, readiness: readiness)
    }

    func armed(_ armed: Bool) {
        metrics.armed = armed
        metrics.lastAlive = Instant.now()
    }

    /// Every 10 s: the last-alive time and arm's own health (its resident
    /// memory read then, not every second: an unchanged text is not rendered again).
    func alive(intake: CallerIntake?) {
        metrics.lastAlive = Instant.now()
        var health = Metrics.Health()
        health.residentBytes = ProcessMemory.residentBytes() ?? 0
        health.malformedRingRecords = intake.map { UInt64($0.refused.malformed + $0.refused.otherVersion) } ?? 0
        metrics.health = health
    }

    /// How the boots this host remembers ended (from the previous-boot report).
    func boots(_ lines: [LastReport.Line]) {
        metrics.bootsByReason = Dictionary(grouping: lines.compactMap(\.verdict), by: \.reason.rawValue).mapValues(\.count)
        metrics.lastBoot = lines.first { $0.index == -1 }?.verdict
    }

    /// Rewrites the file and the listener's text from the kernel's counters,
    /// the path's counts and arm's own health (the file only when they changed).
    func update(probes: WitnessProbes, path: RecordPath, intake: CallerIntake?, preflight: String? = nil) {
        guard file != nil || server != nil else { return }
        if let preflight { metrics.preflightOutcome = preflight }
        metrics.probesAttached = probes.states.values.filter { $0.attachMode != nil }.count
        metrics.recordsByProbe = path.storedByProbe
        let counters = probes.counters
        metrics.lostByClass = ["stopping": counters.lostStopping, "bad_magic": counters.lostBadMagic,
                               "exec": counters.lostExec, "other": counters.lostOther]
        metrics.aggregatedCalls = counters.aggregated
        // The loop is alive (/healthz), whether or not anything changed.
        board.beat(at: SystemCalls.clocks().boottime)
        guard metrics != rendered else { return }
        rendered = metrics
        let text = metrics.render()
        if server != nil { board.publish(text) }
        guard let file else { return }
        do {
            try file.update(metrics, text: text)
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
