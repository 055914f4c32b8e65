import WitnessModel
import WitnessReport
import CLibbpf
import Glibc
import WitnessCapture
import WitnessEvidence
import WitnessStore
import WitnessSystem

/// `status`: an honest account of what this kernel lets reboot-witness do.
public struct StatusReport: Encodable {
    public struct Point: Encodable {
        public var name: String
        /// "attached" (by a running arm), "available", "unavailable", "failed".
        public var state: String
        public var attach: String?
        public var reason: String?
    }

    public struct Store: Encodable {
        public var path: String
        public var exists: Bool
        public var bytes: UInt64?
        public var slots: Int?
        public var records: Int?
        public var unreadable: Int?
        public var armedPid: Int32?
        public var lostRecords: UInt64?
        public var durableLatency: ArmState.Latency?

        enum CodingKeys: String, CodingKey {
            case path, exists, bytes, slots, records, unreadable, armedPid = "armed_pid", lostRecords = "lost_records"
            case durableLatency = "durable_latency"
        }
    }

    public var kernel: String
    public var btf: Bool
    public var tracefs: String?
    public var fentry: String
    public var kprobes: String
    public var ringBuffer: String
    public var hold: String
    /// The D-Bus intent monitor of a running arm.
    public var dbus: String?
    /// What a running arm does when PID 1 becomes systemd-shutdown.
    public var finalStage: String?
    /// Where a running arm copies its records (journal, export file, metrics).
    public var outputs: String?
    /// A running arm's last preflight.
    public var preflight: String?
    public var lsms: [String]?
    public var pstore: [String]
    public var probes: [Point]
    public var store: Store
    public var reboot2panic: Reboot2Panic
    /// The kernel side: where the capture is pinned, what it counted and dropped.
    public var capture: ArmState.Capture

    /// A running arm's account, else what the pinned capture (if any) says by itself.
    static func describeCapture(live: ArmState?, pins: CapturePins) -> ArmState.Capture {
        if let capture = live?.capture { return capture }
        let pinning: String
        if let pinned = PinnedCapture.read(pins) {
            pinning = "\(pins.directory), generation \(pinned.generation) (build \(pinned.build)): "
                + (pinned.ownerAlive ? "drained by arm pid \(pinned.ownerPid) (another store)"
                   : "capturing with no arm draining it: records wait in its rings for the next arm; the hold is off")
        } else if pins.exists {
            pinning = "\(pins.directory): pinned, but its rw_config cannot be read (root?)"
        } else {
            pinning = "nothing pinned at \(pins.directory)"
        }
        return ArmState.Capture(pinning: pinning, counters: WitnessProbes.pinnedCounters(pins) ?? CaptureCounters(),
                                noise: [], stoppingLatency: nil, armPhases: [], longestBeatGapMs: nil, loopPriority: nil)
    }

    /// Where a panic would be kept, softdog's mode, and what an armed
    /// --reboot2panic changed (restored by a clean stop or `disarm`).
    public struct Reboot2Panic: Encodable {
        public var panicGoesTo: String
        public var softdog: String
        /// Where the BPF programs' bpf_printk lines end up.
        public var printkLines: String
        public var changed: [PanicSettings.Change]

        enum CodingKeys: String, CodingKey { case panicGoesTo = "panic_goes_to", softdog, printkLines = "printk_lines", changed }

        init(storePath: String) {
            panicGoesTo = PanicSettings.Destinations.probe().description
            changed = PanicSettings.load(from: storePath)?.changes ?? []
            printkLines = PanicSettings.printkReachesKernelLog
                ? "kernel log as they happen (booted with tp_printk): emergency restarts keep them in pstore too"
                : "ftrace buffer only: a panic's dump keeps them (ftrace_dump_on_oops); an emergency restart "
                    + "(sysrq b, softdog without soft_panic) does not unless the kernel is booted with tp_printk"
            if !Files.exists("/sys/module/softdog") {
                softdog = "not loaded"
            } else {
                switch SoftdogConfiguration.softPanic(kernelLog: KernelRing.recentText()) {
                case true?: softdog = "loaded with soft_panic=1: a softdog reset is a panic"
                case false?: softdog = "loaded without soft_panic=1: a softdog reset is an emergency restart with no panic record "
                    + "(arm --reboot2panic --reconfigure-softdog, or softdog.soft_panic=1)"
                case nil: softdog = "loaded; soft_panic unknown (its load message has left the kernel log)"
                }
            }
        }
    }

    enum CodingKeys: String, CodingKey {
        case kernel, btf, tracefs, fentry, kprobes, ringBuffer = "ring_buffer", hold, dbus, finalStage = "final_stage", outputs, preflight
        case lsms, pstore, probes, store
        case reboot2panic, capture
    }

    public init(storePath: String, pins: CapturePins = CapturePins()) {
        let features = KernelFeatures()
        let privileged = Privileges.bpfTracingRefusal() == nil
        kernel = features.release
        btf = features.hasBTF
        tracefs = features.tracingEvents
        kprobes = features.kprobes ? "available" : "unavailable: CONFIG_KPROBES off (no kprobe PMU)"
        if !privileged {
            fentry = "unknown (probing needs root)"
            ringBuffer = "unknown (probing needs root)"
        } else {
            fentry = features.fentryUnavailableReason.map { "unavailable: \($0)" } ?? "available"
            ringBuffer = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nil) == 1
                ? "available" : "unavailable: BPF_MAP_TYPE_RINGBUF refused (kernel < 5.8?)"
        }
        lsms = features.activeLSMs
        let bpfLSM = lsms?.contains("bpf") ?? false
        let live = ArmState.live(in: storePath)
        let probing = ProbingPlan(features: features, privileged: privileged)
        if let live {
            hold = live.hold
            dbus = live.dbus
            finalStage = live.finalStage
            outputs = live.outputs
            preflight = live.preflight
        } else if !privileged && !bpfLSM {
            hold = "unknown (probing needs root)"
        } else {
            switch probing.probes.holdPlan() {
            case .success(let mechanism): hold = "available via \(mechanism.rawValue) (not armed)"
            case .failure(let refusal): hold = "unavailable: \(refusal.reason)"
            }
        }
        pstore = StatusReport.pstoreBackends()

        probes = ProbeCatalog.all.map { point in
            if let live, let armed = live.probes.first(where: { $0.name == point.name }) {
                return Point(name: point.name, state: armed.state, attach: armed.attach, reason: armed.reason)
            }
            return probing.point(point)
        }
        store = StatusReport.describeStore(storePath, live: live)
        reboot2panic = Reboot2Panic(storePath: storePath)
        capture = Self.describeCapture(live: live, pins: pins)
    }

    static func pstoreBackends() -> [String] {
        var backends: [String] = []
        if let backend = Files.readLine("/sys/module/pstore/parameters/backend"), !backend.isEmpty, backend != "(null)" {
            backends.append(backend)
        }
        if Files.exists("/sys/module/ramoops"), !backends.contains("ramoops") { backends.append("ramoops") }
        if Files.exists("/dev/pmsg0") { backends.append("pmsg") }
        return backends
    }

    static func describeStore(_ path: String, live: ArmState?) -> Store {
        guard Files.isDirectory(path) else {
            return Store(path: path, exists: false, bytes: nil, slots: nil, records: nil, unreadable: nil,
                         armedPid: nil, lostRecords: nil, durableLatency: nil)
        }
        let store = try? SlotStore(directory: path, create: false)
        let contents = try? store?.load()
        let callers = contents?.entries.filter { if case .caller = $0 { return true } else { return false } }.count
        return Store(path: path, exists: store != nil, bytes: store.map { UInt64($0.fileBytes) },
                     slots: store?.slotCount, records: callers, unreadable: contents?.skipped,
                     armedPid: live?.pid, lostRecords: live?.lostRecords, durableLatency: live?.durableLatency)
    }

    public func human() -> String {
        var lines = [
            "kernel       \(kernel)",
            "BTF          \(btf ? "yes (/sys/kernel/btf/vmlinux)" : "no: CO-RE programs cannot load")",
            "tracefs      \(tracefs ?? "not mounted (arm mounts it at /sys/kernel/tracing)")",
            "fentry       \(fentry)",
            "kprobes      \(kprobes)",
            "ring buffer  \(ringBuffer)",
            "hold         \(hold)",
            "D-Bus        \(dbus ?? "not armed (arm monitors the system bus for logind/systemd reboot calls)")",
            "final stage  \(finalStage ?? "not armed (arm follows PID 1 into systemd-shutdown to record its reboot(2))")",
            "outputs      \(outputs ?? "not armed (journal entries, --export FILE, node_exporter textfile)")",
            "preflight    \(preflight ?? "not armed (`reboot-witness preflight` checks the next boot now)")",
            "pstore       \(pstore.isEmpty ? "no backend (nothing survives a reset in pstore)" : pstore.joined(separator: ", "))",
        ]
        var storeLine = "store        \(store.path)"
        if !store.exists {
            storeLine += " (not created yet)"
        } else {
            storeLine += ": \(store.records ?? 0) record(s) in \(store.slots ?? 0) slots, \(store.bytes ?? 0) bytes"
            if let bad = store.unreadable, bad > 0 { storeLine += ", \(bad) unreadable entr\(bad == 1 ? "y" : "ies") skipped" }
            storeLine += store.armedPid.map { "; armed by pid \($0), \(store.lostRecords ?? 0) lost" } ?? "; not armed"
            if let latency = store.durableLatency {
                storeLine += "; event→durable p50 \(latency.p50Ms) ms, p99 \(latency.p99Ms) ms over \(latency.records)"
            }
        }
        lines.append(storeLine)
        lines.append("capture      \(capture.pinning)")
        do {
            let c = capture.counters
            lines.append("counted      lost: stopping \(c.lostStopping), bad magic \(c.lostBadMagic), exec \(c.lostExec), other \(c.lostOther); "
                         + "spilled \(c.spilled), repeats \(c.repeats), aggregated \(c.aggregated), let through unheld \(c.unheld)")
        }
        for group in capture.noise.prefix(5) {
            lines.append("noise        \(group.calls) refused call(s) from cgroup \(group.cgroupID), exe inode \(group.exeInode); "
                         + "first \(group.comm)[\(group.pid)] uid \(group.uid)")
        }
        if let latency = capture.stoppingLatency {
            lines.append("stopping     event→durable p50 \(latency.p50Ms) ms, p99 \(latency.p99Ms) ms, max \(latency.maxMs) ms over \(latency.records)")
        }
        if let gap = capture.longestBeatGapMs {
            lines.append("loop         \(capture.loopPriority ?? "priority unknown"); longest gap between heartbeats \(gap) ms "
                         + "(the hold lapses after 750 ms)")
        }
        if !capture.armPhases.isEmpty {
            lines.append("armed in     " + capture.armPhases.map { "\($0.name) \($0.milliseconds) ms" }.joined(separator: ", "))
        }
        lines.append("panic goes   \(reboot2panic.panicGoesTo)")
        lines.append("softdog      \(reboot2panic.softdog)")
        lines.append("bpf_printk   \(reboot2panic.printkLines)")
        for change in reboot2panic.changed {
            lines.append("reboot2panic changed \(change.path): \(change.original) → \(change.value) (restored by a clean stop or `disarm`)")
        }
        lines.append("probe points:")
        for point in probes {
            let how = point.attach.map { " via \($0)" } ?? ""
            let why = point.reason.map { ": \($0)" } ?? ""
            lines.append("  \(point.name.padding(34)) \(point.state)\(how)\(why)")
        }
        return lines.joined(separator: "\n")
    }
}

/// What `arm` would do on this kernel, for `status` when nothing is armed.
struct ProbingPlan {
    let probes: WitnessProbes
    let privileged: Bool

    init(features: KernelFeatures, privileged: Bool) {
        probes = WitnessProbes(features: features)
        self.privileged = privileged
    }

    func point(_ point: ProbePoint) -> StatusReport.Point {
        if case .function = point.site, !privileged {
            return .init(name: point.name, state: "unknown", attach: nil, reason: "probing needs root")
        }
        switch probes.plan(point) {
        case .success(let mode):
            return .init(name: point.name, state: "available", attach: mode.rawValue, reason: "not armed")
        case .failure(let refusal):
            return .init(name: point.name, state: "unavailable", attach: nil, reason: refusal.reason)
        }
    }
}
