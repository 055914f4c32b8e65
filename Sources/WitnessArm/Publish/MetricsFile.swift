import Prometheus
import WitnessModel
import WitnessReport
import Glibc
import SystemPackage
import WitnessSystem

/// A node_exporter textfile (`*.prom`) with what the witness knows: armed,
/// probes, records, losses, how the previous boot ended, how every known
/// boot ended, last sign of life. Written whole to a temporary name in the
/// same directory, then renamed, so node_exporter never reads half a file.
/// Label values are bounded: reasons, probe names, the verdict's short detail;
/// text from outside is made visible (TerminalText) before swift-prometheus
/// applies the exposition format's escapes. The same text is what
/// `arm --metrics-address` serves.
public struct Metrics: Equatable, Sendable {
    public var armed = false
    public var probesAttached = 0
    public var recordsByProbe: [String: UInt64] = [:]
    /// Records the kernel could not hand to arm, by class (lost_stopping… of `CaptureCounters`).
    public var lostByClass: [String: UInt64] = [:]
    /// Refused calls counted per cgroup and executable instead of recorded.
    public var aggregatedCalls: UInt64 = 0
    public var lastBoot: Verdict?
    public var bootsByReason: [String: Int] = [:]
    public var lastAlive: Instant?
    /// The node, as alerts name it: NODE_NAME (the DaemonSet gives spec.nodeName), else the host name.
    public var node = Metrics.nodeName()
    /// When the running boot began (alerts about the previous boot fire while this one is young).
    public var bootStart: Instant? = BootIdentity.currentStart()
    /// The last preflight's outcome (bootable, likely_fails, unknown), if one ran.
    public var preflightOutcome: String?
    /// arm's own health (nil outside a running arm).
    public var health: Health?

    public init() {}

    public static func nodeName() -> String {
        if let name = getenv("NODE_NAME").map({ String(cString: $0) }), !name.isEmpty { return name }
        var buffer = [CChar](repeating: 0, count: 256)
        return gethostname(&buffer, buffer.count - 1) == 0 ? String(cString: buffer) : "unknown"
    }

    public func render() -> String {
        // A registry per rendering: a series that is gone (a changed initiator,
        // a probe no longer counted) is gone from the exposition too.
        let series = Series(node: node)
        func seconds(_ instant: Instant) -> Double { (Double(instant.microseconds) / 1e3).rounded() / 1e3 }

        series.gauge("reboot_witness_build_info", "The running reboot-witness: its version.", [("version", Version.string)], 1)
        series.gauge("reboot_witness_armed", "1 while reboot-witness arm runs on this node, 0 once it stopped.", armed ? 1 : 0)
        if let bootStart {
            series.gauge("reboot_witness_boot_start_timestamp_seconds", "When the running boot began, in seconds since the epoch.",
                  seconds(bootStart))
        }
        series.gauge("reboot_witness_probes_attached", "Probe points the running arm attached.", Double(probesAttached))
        for (probe, count) in recordsByProbe {
            series.counter("reboot_witness_records_total", "Caller records this arm made durable, by probe.", [("probe", probe)], count)
        }
        for (kind, count) in lostByClass {
            series.counter("reboot_witness_lost_records_total", "Records no ring, spill or aggregate could take, by class (stopping must stay 0).",
                    [("class", kind)], count)
        }
        series.counter("reboot_witness_aggregated_calls_total",
                "Refused reboot(2) calls counted per cgroup and executable instead of recorded (a flood).", aggregatedCalls)
        if let lastBoot {
            series.gauge("reboot_witness_last_boot_info", "How the previous boot ended, as reboot-witness last says.",
                  [("reason", lastBoot.reason.rawValue), ("subreason", lastBoot.subreason.rawValue),
                   ("detail", String(lastBoot.detail.prefix(64))), ("confidence", lastBoot.confidence.rawValue),
                   ("bootstat", String(lastBoot.bootstat.prefix(96))),
                   ("initiator", String((lastBoot.initiatorWords ?? "nobody named").prefix(96)))], 1)
            if let loop = lastBoot.crashLoop {
                series.gauge("reboot_witness_last_boot_crash_loop_restarts",
                      "The largest crash loop before the previous boot ended: its restarts, and what looped.",
                      [("what", String(loop.what.prefix(96)))], Double(loop.count))
            }
        }
        if let preflightOutcome {
            series.gauge("reboot_witness_preflight_next_boot", "The last preflight's answer for the next boot (likely_fails: it would not come up).",
                  [("outcome", preflightOutcome)], 1)
        }
        for (reason, count) in bootsByReason {
            series.counter("reboot_witness_boots_total", "Boots this node remembers (reboot-witness last --list), by how they ended.",
                    [("reason", reason)], UInt64(max(count, 0)))
        }
        if let lastAlive {
            series.gauge("reboot_witness_last_alive_timestamp_seconds", "When arm was last seen alive, in seconds since the epoch.",
                  seconds(lastAlive))
        }
        if let health {
            series.gauge("reboot_witness_resident_memory_bytes", "arm's resident memory.", Double(health.residentBytes))
            series.counter("reboot_witness_malformed_ring_records_total",
                    "Ring records of another size or version, refused and counted (a pinned ring from another build).",
                    health.malformedRingRecords)
        }
        return series.registry.emitToString()
    }

    /// The listener's own counters, rendered when it serves (on its thread:
    /// a request changes nothing arm's loop renders or writes).
    public static func renderRequests(_ outcomes: [String: UInt64], node: String) -> String {
        let series = Series(node: node)
        for (outcome, count) in outcomes {
            series.counter("reboot_witness_http_requests_total",
                           "Requests the metrics listener answered or refused, by outcome (refused: over the limits, cut off).",
                           [("outcome", outcome)], count)
        }
        return series.registry.emitToString()
    }

    /// A registry per rendering: a series that is gone (a changed initiator,
    /// a probe no longer counted) is gone from the exposition too. Every
    /// series names its node: alerts say which one, whatever the scrape path.
    private struct Series {
        let registry = PrometheusCollectorRegistry()
        let node: String

        /// Our names are whole (`reboot_witness_calls_total`): no namespace or unit to join.
        private func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
        }

        private func labels(_ extra: [(String, String)]) -> [(String, String)] {
            ([("node", node)] + extra).map { ($0.0, TerminalText.escape($0.1)) }
        }

        func gauge(_ name: String, _ help: String, _ extra: [(String, String)], _ value: Double) {
            registry.makeGauge(descriptor: descriptor(name, help), labels: labels(extra)).set(value)
        }

        func gauge(_ name: String, _ help: String, _ value: Double) { gauge(name, help, [], value) }

        func counter(_ name: String, _ help: String, _ extra: [(String, String)], _ value: UInt64) {
            registry.makeCounter(descriptor: descriptor(name, help), labels: labels(extra)).increment(by: Int64(clamping: value))
        }

        func counter(_ name: String, _ help: String, _ value: UInt64) { counter(name, help, [], value) }
    }

    /// arm's own health, as its metrics show it.
    public struct Health: Equatable, Sendable {
        public var residentBytes: UInt64 = 0
        public var malformedRingRecords: UInt64 = 0
        public init() {}
    }

}

/// `arm --metrics-dir DIR` (default: Debian's node_exporter textfile directory).
public final class MetricsFile {
    public static let defaultDirectory = "/var/lib/prometheus/node-exporter"
    public let path: String
    private var written: Metrics?

    /// nil when `directory` does not exist: no node_exporter here, no file.
    public init?(directory: String) {
        guard Files.isDirectory(directory) else { return nil }
        path = directory + "/reboot-witness.prom"
    }

    /// Rewrites the file if `metrics` changed since the last write (`text`: its rendering, when made already).
    public func update(_ metrics: Metrics, text: String? = nil) throws {
        guard metrics != written else { return }
        // (the temporary file is PATH.tmp: node_exporter reads only *.prom)
        try Files.writeAtomically(path, Array((text ?? metrics.render()).utf8), mode: [.ownerReadWrite, .groupRead, .otherRead])
        written = metrics
    }
}
