import Glibc
import WitnessCapture
import WitnessEvidence
import WitnessModel
import WitnessReport
import WitnessStore
import WitnessSystem

/// `status`: an honest account of what this kernel lets reboot-witness do,
/// and what a running arm does. Every part is a state (`Capability`,
/// `Availability`) with a reason; `human()` makes the prose.
public struct StatusReport: Encodable {
    public struct Store: Encodable {
        public var path: String
        /// available: the store opens; unavailable: not created yet; failed: it exists but cannot be read.
        public var state: Availability
        public var reason: String?
        public var bytes: UInt64?
        public var slots: Int?
        public var records: Int?
        public var unreadable: Int?
        /// Slots the reader could not read at all (I/O errors), as opposed to damaged ones.
        public var readErrors: Int?
        public var armedPid: Int32?
        public var lostRecords: UInt64?
        public var durableLatency: ArmState.Latency?

        /// Kept for readers of earlier versions: the store file exists and opens.
        public var exists: Bool { state == .available }

        enum CodingKeys: String, CodingKey {
            case path, state, reason, exists, bytes, slots, records, unreadable, readErrors = "read_errors", armedPid = "armed_pid"
            case lostRecords = "lost_records", durableLatency = "durable_latency"
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(path, forKey: .path); try c.encode(state, forKey: .state); try c.encode(reason, forKey: .reason)
            try c.encode(exists, forKey: .exists); try c.encode(bytes, forKey: .bytes); try c.encode(slots, forKey: .slots)
            try c.encode(records, forKey: .records); try c.encode(unreadable, forKey: .unreadable)
            try c.encode(readErrors, forKey: .readErrors); try c.encode(armedPid, forKey: .armedPid)
            try c.encode(lostRecords, forKey: .lostRecords); try c.encode(durableLatency, forKey: .durableLatency)
        }
    }

    /// Where a panic would be kept, softdog's mode, and what an armed
    /// --reboot2panic changed (restored by a clean stop or `disarm`).
    public struct Reboot2Panic: Encodable {
        public var pstoreBackend: String?
        public var kdumpLoaded: Bool
        public var crashKexecPostNotifiers: Bool?
        /// softdog: not loaded, or loaded with soft_panic on/off (nil: its load message has left the kernel log).
        public var softdogLoaded: Bool
        public var softdogPanics: Bool?
        /// bpf_printk lines also reach the kernel log (booted with tp_printk).
        public var printkToKernelLog: Bool
        public var changed: [PanicSettings.Change]
        /// The saved settings file exists but cannot be used (kept as it is).
        public var damaged: String?

        enum CodingKeys: String, CodingKey {
            case pstoreBackend = "pstore_backend", kdumpLoaded = "kdump_loaded", crashKexecPostNotifiers = "crash_kexec_post_notifiers"
            case softdogLoaded = "softdog_loaded", softdogPanics = "softdog_panics", printkToKernelLog = "printk_to_kernel_log"
            case changed, damaged
        }

        init(storePath: String) {
            let destinations = PanicSettings.Destinations.probe()
            pstoreBackend = destinations.pstoreBackend
            kdumpLoaded = destinations.kdumpLoaded
            crashKexecPostNotifiers = destinations.crashKexecPostNotifiers
            do {
                changed = try PanicSettings.load(from: storePath)?.changes ?? []
                damaged = nil
            } catch {
                changed = []
                damaged = "\(error)"
            }
            printkToKernelLog = PanicSettings.printkReachesKernelLog
            softdogLoaded = Files.exists("/sys/module/softdog")
            softdogPanics = softdogLoaded ? SoftdogConfiguration.softPanic(kernelLog: KernelRing.recentText()) : nil
        }
    }

    public var kernel: String
    public var btf: Bool
    public var tracefs: String?
    public var fentry: Capability
    public var kprobes: Capability
    public var ringBuffer: Capability
    public var boundedLoops: Capability
    public var hold: Capability
    /// The D-Bus intent monitor of a running arm.
    public var dbus: Capability?
    /// What a running arm does when PID 1 becomes systemd-shutdown.
    public var finalStage: FinalStagePlan?
    /// Where a running arm copies its records (journal, export file, metrics).
    public var outputs: ArmState.Outputs?
    /// A running arm's preflight.
    public var preflight: ArmState.Preflight?
    public var lsms: [String]?
    public var pstore: [String]
    public var probes: [ArmState.Point]
    public var store: Store
    public var reboot2panic: Reboot2Panic
    /// The kernel side: where the capture is pinned, what it counted and dropped.
    public var capture: ArmState.Capture

    enum CodingKeys: String, CodingKey {
        case kernel, btf, tracefs, fentry, kprobes, ringBuffer = "ring_buffer", boundedLoops = "bounded_loops", hold, dbus
        case finalStage = "final_stage", outputs, preflight, lsms, pstore, probes, store, reboot2panic, capture
    }

    public init(storePath: String, pins: CapturePins = CapturePins()) {
        let features = KernelFeatures()
        kernel = features.release
        btf = features.hasBTF
        tracefs = features.tracingEvents
        kprobes = features.kprobes ? .available(via: "the kprobe PMU") : .unavailable("CONFIG_KPROBES off (no kprobe PMU)")
        fentry = features.fentry
        ringBuffer = features.privileged ? features.ringBuffer : .unknown("probing needs root")
        boundedLoops = features.privileged ? features.boundedLoopsCapability : .unknown("probing needs root")
        lsms = features.activeLSMs
        let live = ArmState.live(in: storePath)
        let plan = WitnessProbes(features: features)
        if let live {
            hold = live.hold
            dbus = live.dbus
            finalStage = live.finalStage
            outputs = live.outputs
            preflight = live.preflight
        } else if !features.privileged && lsms?.contains("bpf") != true {
            hold = .unknown("probing needs root")
        } else {
            switch plan.holdPlan() {
            case .success(let mechanism): hold = .available(via: mechanism.rawValue, active: false, "not armed")
            case .failure(let refusal): hold = .unavailable(refusal.reason)
            }
        }
        pstore = StatusReport.pstoreBackends()
        probes = ProbeCatalog.all.map { point in
            if let armed = live?.probes.first(where: { $0.name == point.name }) { return armed }
            return Self.planned(point, plan, privileged: features.privileged)
        }
        store = StatusReport.describeStore(storePath, live: live)
        reboot2panic = Reboot2Panic(storePath: storePath)
        capture = live?.capture ?? ArmState.Capture(pinning: .standalone(pins),
                                                    counters: WitnessProbes.pinnedCounters(pins) ?? CaptureCounters(),
                                                    noise: [], stoppingLatency: nil, armPhases: [], longestBeatGapMs: nil,
                                                    loopPriority: nil, refusedRecords: nil, coreBTF: nil, cgroupV1Search: nil)
    }

    /// How a point would attach on this kernel when nothing is armed.
    static func planned(_ point: ProbePoint, _ plan: WitnessProbes, privileged: Bool) -> ArmState.Point {
        if case .function = point.site, !privileged {
            return .init(name: point.name, state: .unknown, attached: false, attach: nil, reason: "probing needs root")
        }
        switch plan.plan(point) {
        case .success(let mode):
            return .init(name: point.name, state: .available, attached: false, attach: mode.rawValue, reason: "not armed")
        case .failure(let refusal):
            return .init(name: point.name, state: .unavailable, attached: false, attach: nil, reason: refusal.reason)
        }
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

    /// The store as a reader finds it: not created yet, readable, or there but unreadable (and why).
    static func describeStore(_ path: String, live: ArmState?) -> Store {
        var store = Store(path: path, state: .unavailable, reason: "not created yet (arm creates it)", bytes: nil, slots: nil,
                          records: nil, unreadable: nil, readErrors: nil, armedPid: live?.pid, lostRecords: live?.lostRecords,
                          durableLatency: live?.durableLatency)
        guard Files.exists(path) else { return store }
        do {
            try StoreDirectory.prepare(path, create: false)
            guard Files.exists(path + "/" + SlotStore.fileName) else { return store }
            let opened = try SlotStore(directory: path, create: false)
            let contents = try opened.load()
            store.state = .available
            store.reason = nil
            store.bytes = UInt64(opened.fileBytes)
            store.slots = opened.slotCount
            store.records = contents.entries.filter { if case .caller = $0 { return true } else { return false } }.count
            store.unreadable = contents.skipped
            store.readErrors = contents.readErrors
        } catch {
            store.state = .failed
            store.reason = "\(error)"
        }
        return store
    }
}
