import WitnessModel
import WitnessReport
import Glibc
import SystemPackage
import WitnessSystem

/// A node_exporter textfile (`*.prom`) with what the witness knows: armed,
/// probes, records, losses, how the previous boot ended, how every known
/// boot ended, last sign of life. Written whole to a temporary name in the
/// same directory, then renamed, so node_exporter never reads half a file.
/// Label values are bounded: reasons, probe names, the verdict's short detail.
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

    public init() {}

    public static func nodeName() -> String {
        if let name = getenv("NODE_NAME").map({ String(cString: $0) }), !name.isEmpty { return name }
        var buffer = [CChar](repeating: 0, count: 256)
        return gethostname(&buffer, buffer.count - 1) == 0 ? String(cString: buffer) : "unknown"
    }

    public func render() -> String {
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: [(String, String)], value: String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples {
                // Every series names its node: alerts say which one, whatever the scrape path.
                let labels = "{" + ([("node", node)] + sample.labels).map { "\($0.0)=\"\(Self.escape($0.1))\"" }.joined(separator: ",") + "}"
                out += "\(name)\(labels) \(sample.value)\n"
            }
        }
        metric("reboot_witness_armed", "gauge", "1 while reboot-witness arm runs on this node, 0 once it stopped.",
               [([], armed ? "1" : "0")])
        if let bootStart {
            metric("reboot_witness_boot_start_timestamp_seconds", "gauge", "When the running boot began, in seconds since the epoch.",
                   [([], String(format3(Double(bootStart.microseconds) / 1e6)))])
        }
        metric("reboot_witness_probes_attached", "gauge", "Probe points the running arm attached.", [([], String(probesAttached))])
        metric("reboot_witness_records_total", "counter", "Caller records this arm made durable, by probe.",
               recordsByProbe.sorted { $0.key < $1.key }.map { ([("probe", $0.key)], String($0.value)) })
        metric("reboot_witness_lost_records_total", "counter",
               "Records no ring, spill or aggregate could take, by class (stopping must stay 0).",
               lostByClass.sorted { $0.key < $1.key }.map { ([("class", $0.key)], String($0.value)) })
        metric("reboot_witness_aggregated_calls_total", "counter",
               "Refused reboot(2) calls counted per cgroup and executable instead of recorded (a flood).",
               [([], String(aggregatedCalls))])
        if let lastBoot {
            metric("reboot_witness_last_boot_info", "gauge", "How the previous boot ended, as reboot-witness last says.",
                   [([("reason", lastBoot.reason.rawValue), ("subreason", lastBoot.subreason.rawValue),
                      ("detail", String(lastBoot.detail.prefix(64))), ("confidence", lastBoot.confidence.rawValue),
                      ("bootstat", String(lastBoot.bootstat.prefix(96))),
                      ("initiator", String((lastBoot.initiatorWords ?? "nobody named").prefix(96)))], "1")])
            if let loop = lastBoot.crashLoop {
                metric("reboot_witness_last_boot_crash_loop_restarts", "gauge",
                       "The largest crash loop before the previous boot ended: its restarts, and what looped.",
                       [([("what", String(loop.what.prefix(96)))], String(loop.count))])
            }
        }
        if let preflightOutcome {
            metric("reboot_witness_preflight_next_boot", "gauge",
                   "The last preflight's answer for the next boot (likely_fails: it would not come up).",
                   [([("outcome", preflightOutcome)], "1")])
        }
        metric("reboot_witness_boots_total", "counter", "Boots this node remembers (reboot-witness last --list), by how they ended.",
               bootsByReason.sorted { $0.key < $1.key }.map { ([("reason", $0.key)], String($0.value)) })
        if let lastAlive {
            metric("reboot_witness_last_alive_timestamp_seconds", "gauge", "When arm was last seen alive, in seconds since the epoch.",
                   [([], String(format3(Double(lastAlive.microseconds) / 1e6)))])
        }
        return out
    }

    /// A label value: text from outside made visible first (TerminalText),
    /// then the exposition format's own escapes.
    static func escape(_ value: String) -> String {
        var out = ""
        for c in TerminalText.escape(value) {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }

    private func format3(_ value: Double) -> String {
        let millis = Int64((value * 1000).rounded())
        let fraction = String(millis % 1000)
        return "\(millis / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
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

    /// Rewrites the file if `metrics` changed since the last write.
    public func update(_ metrics: Metrics) throws {
        guard metrics != written else { return }
        // (the temporary file is PATH.tmp: node_exporter reads only *.prom)
        try Files.writeAtomically(path, Array(metrics.render().utf8), mode: [.ownerReadWrite, .groupRead, .otherRead])
        written = metrics
    }
}
