import WitnessModel
import WitnessReport
import FoundationEssentials
import Glibc
import WitnessCapture
import WitnessSystem

/// What a running `arm` publishes in its store for `status`: its pid, boot,
/// and how every probe point attached. Rewritten atomically.
public struct ArmState: Codable, Equatable {
    public struct Point: Codable, Equatable {
        public var name: String
        /// "attached", "unavailable" or "failed".
        public var state: String
        public var attach: String?
        public var reason: String?
    }

    public var pid: Int32
    public var bootID: String
    public var started: String
    public var updated: String
    public var probes: [Point]
    public var hold: String
    /// The D-Bus intent monitor: "monitoring system bus", or why not.
    public var dbus: String?
    /// What happens when PID 1 becomes systemd-shutdown (see ArmSession+FinalStage).
    public var finalStage: String?
    /// Where records go besides the store: journal entries, export file, metrics file.
    public var outputs: String?
    /// The last preflight's answer (and the inhibitor, with --block-bad-reboot).
    public var preflight: String?
    public var recordsStored: UInt64
    public var lostRecords: UInt64
    public var durableLatency: Latency?
    public var running: Bool
    /// The kernel side: pins, counters, aggregated noise, arm time.
    public var capture: Capture?

    /// What the kernel counted and kept, and how arm came by its programs.
    public struct Capture: Codable, Equatable {
        /// Where the capture is pinned and how this arm got it (adopted, upgraded…).
        public var pinning: String
        public var counters: CaptureCounters
        /// Refused calls counted per cgroup and executable, most first (10 at most).
        public var noise: [NoiseGroup]
        /// Event → durable for stopping records only.
        public var stoppingLatency: Latency?
        /// Start → armed, phase by phase.
        public var armPhases: [ArmPhases.Phase]
        /// The longest the loop went between heartbeats: the hold lapses past 750 ms.
        public var longestBeatGapMs: Double?
        /// The loop's scheduling priority (arm raises it above a flood's).
        public var loopPriority: String?

        enum CodingKeys: String, CodingKey {
            case pinning, counters, noise, stoppingLatency = "stopping_latency", armPhases = "arm_phases"
            case longestBeatGapMs = "longest_beat_gap_ms", loopPriority = "loop_priority"
        }
    }

    /// Kernel event to fdatasync returned, over the last records.
    public struct Latency: Codable, Equatable {
        public var records: Int
        public var p50Ms: Double
        public var p99Ms: Double
        public var maxMs: Double

        enum CodingKeys: String, CodingKey { case records, p50Ms = "p50_ms", p99Ms = "p99_ms", maxMs = "max_ms" }
    }

    enum CodingKeys: String, CodingKey {
        case pid, bootID = "boot_id", started, updated, probes, hold, dbus, finalStage = "final_stage", outputs, preflight
        case recordsStored = "records_stored"
        case lostRecords = "lost_records", durableLatency = "durable_latency", running, capture
    }

    static func fileName(in store: String) -> String { store + "/arm-state.json" }

    static func points(_ states: [ProbeID: ProbeState]) -> [Point] {
        ProbeCatalog.all.compactMap { point in
            guard let state = states[point.id] else { return nil }
            switch state {
            case .attached(let mode): return Point(name: point.name, state: "attached", attach: mode.rawValue, reason: nil)
            case .unavailable(let reason): return Point(name: point.name, state: "unavailable", attach: nil, reason: reason)
            case .failed(let reason): return Point(name: point.name, state: "failed", attach: nil, reason: reason)
            }
        }
    }

    func write(to store: String) throws {
        try Files.writeAtomically(Self.fileName(in: store), Array(RecordFormatter.json(self).utf8))
    }

    /// The state of an `arm` that is running now in this boot, if any.
    public static func live(in store: String) -> ArmState? {
        guard let bytes = Files.read(fileName(in: store)),
              let state = try? JSONDecoder().decode(ArmState.self, from: Data(bytes)),
              state.running, state.bootID == BootIdentity.current(),
              kill(state.pid, 0) == 0 || errno == EPERM else { return nil }
        return state
    }
}
