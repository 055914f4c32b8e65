import FoundationEssentials
import Glibc
import WitnessCapture
import WitnessModel
import WitnessReport
import WitnessSystem

/// What a running `arm` publishes in its store for `status`: its pid, boot,
/// and the state of every part. States, not sentences: every part is a
/// `Capability` (available / unavailable / failed / unknown, with a reason);
/// prose is made by the human rendering only. Rewritten atomically.
public struct ArmState: Codable, Equatable {
    /// One probe point: whether this kernel has it, whether it is attached and how.
    public struct Point: Codable, Equatable {
        public var name: String
        public var state: Availability
        public var attached: Bool
        public var attach: String?
        public var reason: String?

        public init(name: String, state: Availability, attached: Bool, attach: String?, reason: String?) {
            self.name = name; self.state = state; self.attached = attached; self.attach = attach; self.reason = reason
        }

        /// How a point of a running arm ended up.
        init(_ point: ProbePoint, _ state: ProbeState) {
            switch state {
            case .attached(let mode): self.init(name: point.name, state: .available, attached: true, attach: mode.rawValue, reason: nil)
            case .unavailable(let reason): self.init(name: point.name, state: .unavailable, attached: false, attach: nil, reason: reason)
            case .failed(let reason): self.init(name: point.name, state: .failed, attached: false, attach: nil, reason: reason)
            }
        }
    }

    /// Where records go besides the store.
    public struct Outputs: Codable, Equatable {
        public var journal: Capability
        public var export: Capability
        public var metricsFile: Capability
        /// `--metrics-address`: the HTTP listener (absent in states written before it existed).
        public var metricsListener: Capability?

        enum CodingKeys: String, CodingKey { case journal, export, metricsFile = "metrics_file", metricsListener = "metrics_listener" }
    }

    /// arm's preflight: whether it runs, its last answer, the inhibitor it holds.
    public struct Preflight: Codable, Equatable {
        public var state: Capability
        /// The last result's outcome (bootable, likely_fails…) and headline.
        public var outcome: String?
        public var headline: String?
        /// `--block-bad-reboot`'s logind inhibitor (active while held).
        public var inhibitor: Capability?
    }

    public var pid: Int32
    public var bootID: String
    public var started: String
    public var updated: String
    public var probes: [Point]
    public var hold: Capability
    /// The D-Bus intent monitor.
    public var dbus: Capability?
    /// What happens when PID 1 becomes systemd-shutdown (see FinalStage).
    public var finalStage: FinalStagePlan?
    public var outputs: Outputs?
    public var preflight: Preflight?
    public var recordsStored: UInt64
    public var lostRecords: UInt64
    public var durableLatency: Latency?
    public var running: Bool
    /// The kernel side: pins, counters, aggregated noise, arm time.
    public var capture: Capture?

    /// What the kernel counted and kept, and how arm came by its programs.
    public struct Capture: Codable, Equatable {
        public var pinning: Pinning
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
        public var loopPriority: LoopPriority?
        /// Ring records refused: a size we do not understand, or another layout version.
        public var refusedRecords: RefusedRecords?
        /// The kernel types CO-RE relocated against (a kept subset of vmlinux's BTF, see CoreBTFCache).
        public var coreBTF: Capability?
        /// Whether the programs search cgroup v1 hierarchies for a task in the v2 root (absent in earlier states).
        public var cgroupV1Search: Capability?

        enum CodingKeys: String, CodingKey {
            case pinning, counters, noise, stoppingLatency = "stopping_latency", armPhases = "arm_phases"
            case longestBeatGapMs = "longest_beat_gap_ms", loopPriority = "loop_priority", refusedRecords = "refused_records"
            case coreBTF = "core_btf", cgroupV1Search = "cgroup_v1_search"
        }
    }

    public struct RefusedRecords: Codable, Equatable {
        public var malformed: Int
        public var otherVersion: Int
        enum CodingKeys: String, CodingKey { case malformed, otherVersion = "other_version" }
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
        ProbeCatalog.all.compactMap { point in states[point.id].map { Point(point, $0) } }
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

/// Where the capture is pinned and how this arm came by it.
public struct Pinning: Codable, Equatable, Sendable {
    public enum Lifecycle: String, Codable, Sendable {
        /// Private to the controller (`--no-pin`, or no bpffs).
        case unpinned
        case fresh, adopted, upgraded, replaced
        /// No arm runs: what is pinned, by itself.
        case nothingPinned = "nothing_pinned"
        /// Pinned and capturing with no arm draining it (the hold is off).
        case orphaned
        /// Drained by another arm (of another store).
        case otherArm = "other_arm"
        /// Pinned, but its rw_config cannot be read.
        case unreadable
    }

    public var lifecycle: Lifecycle
    public var directory: String?
    public var generation: UInt32?
    public var build: String?
    public var ownerPid: UInt32?
    /// Attached points whose links the kernel could not pin: they stop with arm.
    public var unpinnable: [String]
    /// What the lifecycle means here (why it was replaced, what was attached now…).
    public var reason: String?

    enum CodingKeys: String, CodingKey {
        case lifecycle, directory, generation, build, ownerPid = "owner_pid", unpinnable, reason
    }

    public var line: String {
        var text = [directory, generation.map { "generation \($0)" }].compactMap { $0 }.joined(separator: ", ")
        text += (text.isEmpty ? "" : ": ") + lifecycle.rawValue.replacingUnderscores
        if let build { text += " (build \(build))" }
        if let ownerPid, lifecycle == .otherArm { text += " by arm pid \(ownerPid)" }
        if let reason { text += ": \(reason)" }
        if !unpinnable.isEmpty { text += "; \(unpinnable.count) link(s) not pinnable, they stop with arm: \(unpinnable.joined(separator: ", "))" }
        return text
    }
}

extension String {
    var replacingUnderscores: String { String(map { $0 == "_" ? " " : $0 }) }
}
