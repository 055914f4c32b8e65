import WitnessReport
import FoundationEssentials
import CWitness
import Synchronization
import Glibc
import SystemPackage
import WitnessCapture
import WitnessPreflight
import WitnessStore
import WitnessSystem
import WitnessModel

/// `arm`: load and attach, then until SIGINT/SIGTERM make every record
/// durable in the store and print it.
public final class ArmSession {
    public struct Options {
        public var store: String
        public var json: Bool
        public var attach: WitnessProbes.AttachPolicy
        public var hold: Bool
        public var allowlist: HoldAllowlist
        public var storeSize: Int
        /// nil: the BPF LSM where active, else fmod_ret.
        public var holdVia: HoldMechanism?
        /// Held reboot(2) calls panic the machine (sysrq c) instead of replaying.
        public var reboot2panic = false
        public var panicTimeout = 10
        /// Arm reboot2panic even where the panic would leave nothing behind.
        public var force = false
        public var crashKexecPostNotifiers = false
        public var reconfigureSoftdog = false
        /// Watch D-Bus for reboot requests to logind/systemd (the system bus unless `dbusAddress`).
        public var dbus = true
        public var dbusAddress: String?
        /// Delete pstore's originals once harvested into the store.
        public var clearPstore = false
        /// Survive into systemd-shutdown and record PID 1's own reboot(2) (see ArmSession+FinalStage).
        public var finalStage = true
        /// Whose exec of systemd-shutdown starts the final stage: PID 1, or a test's stand-in.
        public var finalPid: UInt32 = 1
        /// Each record and the previous boot's verdict as structured journal entries.
        public var journalFields = true
        /// NDJSON copies of the records: the file, its size before rotation, rotated files kept.
        public var exportPath: String?
        public var exportBytes = 10 << 20
        public var exportKeep = 5
        /// node_exporter's textfile directory; nothing is written where it does not exist.
        public var metricsDirectory: String? = MetricsFile.defaultDirectory
        /// Where the capture is pinned to outlive this controller (nil: `--no-pin`).
        public var pinDirectory: String? = CapturePins.defaultDirectory
        /// On a clean stop, leave the pinned capture running (a restart or upgrade follows).
        public var keepCapture = false
        /// Replace the pinned programs even when they are this build's.
        public var replacePrograms = false
        /// Prefix of every /proc and /sys path --reboot2panic touches (tests: a stand-in tree).
        public var reboot2panicRoot = ""
        /// Run preflight at start, when the boot files change, and with each reboot intent.
        public var preflight = true
        /// While preflight fails, hold a logind "block" inhibitor for shutdown.
        public var blockBadReboot = false
        public init(store: String, json: Bool, attach: WitnessProbes.AttachPolicy = .auto, hold: Bool = true,
                    allowlist: HoldAllowlist = HoldAllowlist(), storeSize: Int = SlotStore.defaultSize,
                    holdVia: HoldMechanism? = nil) {
            self.store = store
            self.holdVia = holdVia
            self.storeSize = storeSize
            self.json = json
            self.attach = attach
            self.hold = hold
            self.allowlist = allowlist
        }
    }

    let options: Options
    /// The store, then the kernel log, journal, export file and standard output.
    let sink: RecordSink
    var store: RecordStore { sink.store }
    var kmsg: KernelLog { sink.kmsg }
    let metricsFile: MetricsFile?
    var metrics = Metrics()
    /// When the metrics file was last brought up to date (boottime ns).
    var metricsUpdated: Int64 = 0
    var metricsFailed = false
    /// The boot report worked out off the loop (see ArmSession+Outputs).
    let previousBootReport = BootReportHandoff()
    var previousBootLogged = false
    let resolver: RecordResolver
    let probes: WitnessProbes
    /// Records delivered by the rings, waiting for `flush`.
    var pending: [CapturedRecord] = []
    /// Kernel event → fdatasync returned, per record (the last 10,000), all and stopping ones.
    var latencies = DurableLatency()
    var stoppingLatencies = DurableLatency()
    var heartbeat: HoldHeartbeat?
    private var holdDescription = "off (--no-hold)"
    var bus: BusIntents?
    private var busDescription = "off (--no-dbus)"
    private var startedAt: String
    var repeats = RepeatFolding()
    var hunt = WatchdogHunt()
    let finalStage: FinalStage
    let reboot2panic: Reboot2Panic?
    let preflight: PreflightWatch?
    var bootFilesCheckedAt: Int64 = 0
    /// PID 1 became systemd-shutdown and the final stage is off: stop as on SIGTERM.
    var shutdownSeen = false
    /// The kernel's repeat counter at the last fold: the caller map is walked only when it moved.
    var foldedRepeats: UInt64 = 0
    /// The longest the loop went between two heartbeats (ns): past
    /// RW_HOLD_HEARTBEAT_NS a held call would have been let through unrecorded.
    var longestBeatGap: Int64 = 0
    private var lastBeat: Int64 = 0
    /// The kernel's counters when the state file was last written.
    private var publishedCounters = CaptureCounters()
    /// Start → armed, by phase (init's share included).
    private var phases = ArmPhases()

    /// The controller's nice value: a flood of callers at the default
    /// priority must not starve the loop that stores records and beats for the hold.
    static let loopNice: Int32 = -10
    private var niceDescription = ""

    /// Records of rw_events stored at a time, and how long the loop spends on
    /// them before it beats and looks at rw_urgent again: a flood waits its
    /// turn, the heartbeat and the stopping records do not.
    static let eventBatch = 64
    static let eventBudgetNanoseconds: Int64 = 25_000_000
    /// How long a held call's replay waits for the caller's exit record
    /// (it comes within microseconds once the caller runs again).
    static let heldExitWaitNanoseconds: Int64 = 200_000_000
    /// The kernel's counters alone changing rewrites arm-state.json at most this often.
    static let countersPublishInterval: Int64 = 1_000_000_000
    private var countersPublishedAt: Int64 = 0

    /// Fails, with one line for the operator, when arming cannot work here.
    public init(options: Options) throws {
        if let refusal = Privileges.bpfTracingRefusal() {
            throw ArmRefusal(description: "arm \(refusal)")
        }
        let features = KernelFeatures(mountTracefs: true)
        guard features.hasBTF else {
            throw ArmRefusal.noBTF
        }
        let panicking = options.reboot2panic ? Reboot2Panic(options: Reboot2Panic.Options(
            panicTimeout: options.panicTimeout, crashKexecPostNotifiers: options.crashKexecPostNotifiers,
            reconfigureSoftdog: options.reconfigureSoftdog, root: options.reboot2panicRoot), savedIn: options.store) : nil
        if let panicking, !options.force, let refusal = panicking.refusal {
            throw ArmRefusal(description: "arm --reboot2panic: \(refusal)")
        }
        try StoreDirectory.prepare(options.store, create: true)
        self.options = options
        reboot2panic = panicking
        let export = try options.exportPath.map {
            try ExportFile(path: $0, maxBytes: options.exportBytes, keep: options.exportKeep)
        }
        // Where no journald listens (containers, hosts without systemd), no entry is attempted.
        let journal = options.journalFields && Files.exists(JournalFields.socket)
        sink = RecordSink(store: try SlotStore(directory: options.store, size: options.storeSize, create: true),
                          json: options.json, journal: journal, export: export)
        metricsFile = options.metricsDirectory.flatMap { MetricsFile(directory: $0) }
        resolver = RecordResolver()
        probes = WitnessProbes(features: features, policy: options.attach, pins: options.pinDirectory.map(CapturePins.init))
        finalStage = FinalStage(enabled: options.finalStage, pid: options.finalPid)
        preflight = options.preflight ? PreflightWatch(block: options.blockBadReboot) : nil
        startedAt = WallClock.now()
        phases.end("open store and outputs")
    }

    /// Waits for SIGTERM or SIGINT, doing nothing: `arm --idle-on-refusal`.
    public static func idleUntilSignalled() {
        guard let signals = try? SystemCalls.signalDescriptor([SIGINT, SIGTERM]) else { return }
        defer { try? signals.close() }
        while (try? SystemCalls.pollReadable([signals.rawValue], timeoutMilliseconds: -1)) != nil {
            if SystemCalls.readSignal(signals) != nil { return }
        }
    }

    /// Runs until a signal; returns the process exit status.
    public func run() throws -> Int32 {
        let signals = try SystemCalls.signalDescriptor([SIGINT, SIGTERM])
        defer { try? signals.close() }
        let (nice, niceError) = SystemCalls.setNice(Self.loopNice)
        niceDescription = niceError.map { "nice \(nice) (could not set \(Self.loopNice): \($0.symbolicName))" } ?? "nice \(nice)"
        var activated = false
        // A failure before the programs run leaves nothing pinned that this arm pinned.
        defer { if !activated { probes.abandon() } }
        try probes.arm(replacePrograms: options.replacePrograms)
        let rings = try probes.readers { [unowned self] record in
            self.pending.append(CapturedRecord(record))
        }
        phases.end("load and attach")
        let harvested = harvestPstore()
        // What the boot loader says of the attempts before this boot, read before the system marks it good.
        var start = marker(time: startedAt)
        let notes = BootAttempts.bootLoaderNotes()
        start.bootLoader = notes.isEmpty ? nil : notes
        try store.append([.start(start), .alive(marker(time: startedAt))] + harvested)
        if options.clearPstore {  // durable in the store now
            for failure in PstoreHarvest.clear(harvested) { StandardError.write("pstore: could not delete \(failure)\n") }
        }
        phases.end("store start marker")
        if options.hold { try armHold() }
        phases.end("hold")
        // From here this generation's programs run (an upgrade switches over in this one write).
        try probes.activate()
        activated = true
        resumeFolding()
        phases.end("activate")
        if options.dbus { openBus() }
        phases.end("D-Bus")
        if let reboot2panic { StandardError.write(try reboot2panic.enter(probes) + "\n") }
        // A clean stop or a failure from here on puts every setting back.
        defer { reboot2panic?.leave(probes) }
        phases.end("reboot2panic")
        try publishState(running: true)
        phases.end("publish state")
        StandardError.write(armedLine())
        if getenv("REBOOT_WITNESS_TIMING") != nil {
            StandardError.write("arm phases: " + phases.phases.map { "\($0.name) \($0.milliseconds) ms" }.joined(separator: ", ") + "\n")
        }
        ServiceNotify.send("READY=1\nSTATUS=armed")
        warmUp()
        metrics.armed = true
        metrics.lastAlive = Instant.now()
        updateMetrics()
        startPreviousBootReport()
        preflight?.request(.started)

        var lastAlive = SystemCalls.clocks().boottime
        var lastBusAttempt = lastAlive
        var running = true
        var backlog = false
        lastBeat = SystemCalls.clocks().boottime
        while running {
            // The hold lasts only while this loop beats (RW_HOLD_HEARTBEAT_NS).
            beat()
            let ready = try SystemCalls.pollReadable([rings.urgent.descriptor, rings.events.descriptor, signals.rawValue]
                                                     + (bus.map { [$0.descriptor] } ?? []), timeoutMilliseconds: backlog ? 0 : 100)
            if ready.contains(signals.rawValue), SystemCalls.readSignal(signals) != nil {
                running = false
            }
            if shutdownSeen { running = false }
            // D-Bus senders first: their pid must be asked while they are connected.
            let busIntents = bus?.drain() ?? []
            // Stopping records before anything else: stored, and held calls
            // replayed, whatever flood waits in rw_events.
            try takeStopping(rings.urgent)
            beat()
            backlog = try takeEvents(rings)
            // In the final stage the store is closed: only reboot(2) records count.
            guard !finalStage.active else { continue }
            try storeBusIntents(busIntents)
            try foldRepeats()
            try huntWatchdogs()
            let now = SystemCalls.clocks().boottime
            if now - countersPublishedAt >= Self.countersPublishInterval, probes.counters != publishedCounters {
                try publishState(running: true)
            }
            // Armed early in boot, before dbus.service: the bus appears later.
            if options.dbus && bus == nil && now - lastBusAttempt >= 1_000_000_000 {
                lastBusAttempt = now
                openBus()
                if bus != nil { try publishState(running: true) }
            }
            if now - lastAlive >= Self.aliveInterval {
                lastAlive = now
                try store.append([.alive(marker())])
                try publishState(running: true)
                metrics.lastAlive = Instant.now()
            }
            collectPreviousBoot()
            try storePreflights(now: now)
            if now - metricsUpdated >= 1_000_000_000 { updateMetrics() }
        }
        ServiceNotify.send("STOPPING=1")
        heartbeat?.stop()
        try takeStopping(rings.urgent)
        while try takeEvents(rings) {}
        // The machine is going down: the capture stays as it is to the end.
        guard !finalStage.active else { return 0 }
        try foldRepeats()
        try store.append([.stop(marker())])
        probes.release(keepCapture: options.keepCapture)
        try publishState(running: false)
        metrics.armed = false
        updateMetrics()
        let kept = options.keepCapture && probes.pins != nil ? "; the capture stays pinned in \(probes.pins!.directory) until the next arm or `disarm`" : ""
        StandardError.write("disarmed: \(sink.stored) record(s) stored in \(options.store)\(kept)\n")
        return 0
    }

    /// Tells the kernel the loop is alive (the hold's heartbeat), and keeps the longest gap.
    func beat() {
        heartbeat?.beat()
        let now = SystemCalls.clocks().boottime
        longestBeatGap = max(longestBeatGap, now - lastBeat)
        lastBeat = now
    }

    /// Throws for a bad allowlist (the operator asked for something impossible).
    private func armHold() throws {
        switch try probes.armHold(allowing: options.allowlist, via: options.holdVia) {
        case .success(let (mechanism, beat)):
            heartbeat = beat
            beat.beat()
            holdDescription = "active via \(mechanism.rawValue)"
        case .failure(let refusal):
            holdDescription = "unavailable: \(refusal.reason)"
        }
    }

    /// Runs the record path once on a dummy record (resolve, JSON, formats):
    /// Swift's first use of each Codable conformance and generic type costs
    /// milliseconds, which a held reboot(2) must not wait for.
    private func warmUp() {
        var raw = rw_record()
        raw.probe = UInt16(RW_PROBE_SYS_ENTER_REBOOT.rawValue)
        raw.attach = UInt16(RW_ATTACH_TRACEPOINT.rawValue)
        let record = resolver.resolve(CapturedRecord(raw))
        let json = RecordFormatter.json(StoreEntry.caller(record))
        _ = try? JSONDecoder().decode(StoreEntry.self, from: Data(json.utf8))
        _ = RecordFormatter.oneLine(record) + RecordFormatter.human(record)
    }

    private func openBus() {
        guard options.dbusAddress != nil || Files.exists("/run/dbus/system_bus_socket") else {
            busDescription = "unavailable: no system bus (/run/dbus/system_bus_socket)"
            return
        }
        switch BusIntents.open(address: options.dbusAddress, bootID: resolver.bootID) {
        case .success(let monitor):
            bus = monitor
            busDescription = "monitoring \(monitor.address)"
        case .failure(let error):
            busDescription = "unavailable: \(error)"
        }
    }

    /// How often the store's "last seen alive" marker is rewritten.
    static let aliveInterval: Int64 = 10_000_000_000

    func marker(time: String = WallClock.now()) -> StoreEntry.BootMarker {
        StoreEntry.BootMarker(bootID: resolver.bootID, time: time, kernel: probes.features.release, pid: getpid())
    }

    func publishState(running: Bool) throws {
        publishedCounters = probes.counters
        countersPublishedAt = SystemCalls.clocks().boottime
        let state = ArmState(pid: getpid(), bootID: resolver.bootID, started: startedAt, updated: WallClock.now(),
                             probes: ArmState.points(probes.states), hold: holdDescription, dbus: busDescription,
                             finalStage: finalStage.plan(finalWaitPossible: probes.finalWaitPossible), outputs: outputsDescription,
                             preflight: preflightDescription,
                             recordsStored: sink.stored, lostRecords: publishedCounters.lost,
                             durableLatency: latencies.summary, running: running,
                             capture: ArmState.Capture(pinning: probes.pinningSummary, counters: publishedCounters,
                                                       noise: Array(probes.noiseGroups().prefix(10)),
                                                       stoppingLatency: stoppingLatencies.summary, armPhases: phases.phases,
                                                       longestBeatGapMs: (Double(longestBeatGap) / 1e4).rounded() / 100,
                                                       loopPriority: niceDescription))
        try state.write(to: options.store)
    }

    private func armedLine() -> String {
        let points = ProbeCatalog.all.filter { !$0.isControl }
        var byMode: [AttachMode: Int] = [:]
        for point in points {
            if let mode = probes.states[point.id]?.attachMode { byMode[mode, default: 0] += 1 }
        }
        let attached = byMode.values.reduce(0, +)
        let modes = AttachMode.allCases.compactMap { mode in byMode[mode].map { "\(mode.rawValue) \($0)" } }
        return "armed: \(attached) of \(points.count) probe points attached (\(modes.joined(separator: ", "))); "
            + "hold \(holdDescription); D-Bus \(busDescription); store \(options.store); capture \(probes.lifecycle.description); "
            + "\(phases.totalMilliseconds) ms (see `reboot-witness status` for the rest)\n"
    }
}

/// Why `arm` cannot run here, in one line for the operator.
public struct ArmRefusal: Error, CustomStringConvertible {
    public let description: String

    public static let noBTF = ArmRefusal(description: "this kernel has no BTF (/sys/kernel/btf/vmlinux); CO-RE needs CONFIG_DEBUG_INFO_BTF=y")
}

/// Unbuffered writes to standard error (no Foundation in the controller).
enum StandardError {
    static func write(_ text: String) {
        _ = try? FileDescriptor.standardError.writeAll(Array(text.utf8))
    }
}
