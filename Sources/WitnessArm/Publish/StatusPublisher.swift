import WitnessCapture
import WitnessModel
import WitnessSystem

/// arm-state.json, which `status` reads: when arm started, where its time
/// went, and how often the kernel's counters alone may rewrite it (at most
/// once a second: a flood moves them constantly).
final class StatusPublisher {
    static let countersInterval: Int64 = 1_000_000_000

    let store: String
    let started = WallClock.now()
    /// Start → armed, by phase (init's share included).
    private(set) var phases = ArmPhases()
    private var published = CaptureCounters()
    private var publishedAt: Int64 = 0

    init(store: String) {
        self.store = store
    }

    func endPhase(_ name: String) { phases.end(name) }

    /// Writes `state` (built by the session from its parts).
    func write(_ state: ArmState) throws {
        published = state.capture?.counters ?? published
        publishedAt = SystemCalls.clocks().boottime
        try state.write(to: store)
    }

    /// The kernel's counters moved and the last write is old enough.
    func countersDue(_ counters: CaptureCounters, now: Int64) -> Bool {
        now - publishedAt >= Self.countersInterval && counters != published
    }
}

extension Pinning {
    /// How a running arm came by its capture.
    init(_ probes: WitnessProbes) {
        let unpinnable = probes.unpinnable.keys.sorted()
        switch probes.lifecycle {
        case .unpinned(let why):
            self.init(lifecycle: .unpinned, directory: nil, generation: nil, build: nil, ownerPid: nil, unpinnable: [], reason: why)
            return
        case .fresh:
            self.init(lifecycle: .fresh, unpinnable: unpinnable, reason: nil, probes)
        case .adopted(_, let now):
            self.init(lifecycle: .adopted, unpinnable: unpinnable,
                      reason: now.isEmpty ? "nothing attached twice" : "nothing attached twice; attached now: \(now.joined(separator: ", "))",
                      probes)
        case .upgraded(let build, let generation):
            // The kernel's bpf_link_update() covers cgroup, XDP, netns,
            // struct_ops and tc links, not tracepoint, kprobe or tracing links.
            self.init(lifecycle: .upgraded, unpinnable: unpinnable,
                      reason: "replaced generation \(generation) (build \(build)) without a gap: new programs attached beside "
                          + "the old, then rw_config switched in one write", probes)
        case .replaced(let why):
            self.init(lifecycle: .replaced, unpinnable: unpinnable, reason: "with a gap: \(why)", probes)
        }
    }

    private init(lifecycle: Lifecycle, unpinnable: [String], reason: String?, _ probes: WitnessProbes) {
        self.init(lifecycle: lifecycle, directory: probes.pins?.directory, generation: probes.generation,
                  build: nil, ownerPid: nil, unpinnable: unpinnable, reason: reason)
    }

    /// What is pinned when no arm of this store runs.
    static func standalone(_ pins: CapturePins) -> Pinning {
        guard let pinned = PinnedCapture.read(pins) else {
            return Pinning(lifecycle: pins.exists ? .unreadable : .nothingPinned, directory: pins.directory, generation: nil,
                           build: nil, ownerPid: nil, unpinnable: [],
                           reason: pins.exists ? "its rw_config cannot be read (root?)" : nil)
        }
        return Pinning(lifecycle: pinned.ownerAlive ? .otherArm : .orphaned, directory: pins.directory,
                       generation: pinned.generation, build: pinned.build, ownerPid: pinned.ownerAlive ? pinned.ownerPid : nil,
                       unpinnable: [],
                       reason: pinned.ownerAlive ? "another store" : "records wait in its rings for the next arm; the hold is off")
    }
}
