import FoundationEssentials
import CWitness
import Synchronization
import Glibc
import SystemPackage
import WitnessCapture
import WitnessStore
import WitnessSystem

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
    var store: RecordStore {
        get { sink.store }
        set { sink.store = newValue }
    }
    var kmsg: KernelLog { sink.kmsg }
    let metricsFile: MetricsFile?
    var metrics = Metrics()
    /// When the metrics file was last brought up to date (boottime ns).
    var metricsUpdated: Int64 = 0
    var metricsFailed = false
    /// The boot report worked out off the loop (see ArmSession+Outputs).
    let previousBootReport = BootReportHandoff()
    var previousBootLogged = false
    private let resolver: RecordResolver
    let probes: WitnessProbes
    private var pending: [CapturedRecord] = []
    /// Kernel event → fdatasync returned, per record (the last 10,000).
    private var latencies = DurableLatency()
    var heartbeat: HoldHeartbeat?
    private var holdDescription = "off (--no-hold)"
    var bus: BusIntents?
    private var busDescription = "off (--no-dbus)"
    private var startedAt: String
    private var lastPublishedLost: UInt64 = 0
    private var repeats = RepeatFolding()
    private var hunt = WatchdogHunt()
    /// PID 1 became systemd-shutdown: the store is closed (see ArmSession+FinalStage).
    var inFinalStage = false
    /// PID 1 became systemd-shutdown and the final stage is off: stop as on SIGTERM.
    private var shutdownSeen = false
    /// probes.repeatedCalls at the last fold: the kernel map is walked only when it moved.
    private var foldedRepeats: UInt64 = 0

    /// Fails, with one line for the operator, when arming cannot work here.
    public init(options: Options) throws {
        if let refusal = Privileges.bpfTracingRefusal() {
            throw ArmRefusal(description: "arm \(refusal)")
        }
        let features = KernelFeatures(mountTracefs: true)
        guard features.hasBTF else {
            throw ArmRefusal.noBTF
        }
        if options.reboot2panic, !options.force, let refusal = PanicSettings.Destinations.probe().refusal {
            throw ArmRefusal(description: "arm --reboot2panic: \(refusal)")
        }
        try StoreDirectory.prepare(options.store, create: true)
        self.options = options
        let export = try options.exportPath.map {
            try ExportFile(path: $0, maxBytes: options.exportBytes, keep: options.exportKeep)
        }
        // Where no journald listens (containers, hosts without systemd), no entry is attempted.
        let journal = options.journalFields && Files.exists(JournalFields.socket)
        sink = RecordSink(store: try SlotStore(directory: options.store, size: options.storeSize, create: true),
                          json: options.json, journal: journal, export: export)
        metricsFile = options.metricsDirectory.flatMap { MetricsFile(directory: $0) }
        resolver = RecordResolver()
        probes = WitnessProbes(features: features, policy: options.attach)
        startedAt = WallClock.now()
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
        let clock = SystemCalls.clocks().boottime
        let signals = try SystemCalls.signalDescriptor([SIGINT, SIGTERM])
        defer { try? signals.close() }
        let reader = try probes.arm { [unowned self] record in
            self.pending.append(CapturedRecord(record))
        }
        let harvested = harvestPstore()
        try store.append([.start(marker(time: startedAt)), .alive(marker(time: startedAt))] + harvested)
        if options.clearPstore {  // durable in the store now
            for failure in PstoreHarvest.clear(harvested) { StandardError.write("pstore: could not delete \(failure)\n") }
        }
        if options.hold {
            switch try probes.armHold(allowing: options.allowlist, via: options.holdVia) {
            case .success(let (mechanism, beat)):
                heartbeat = beat
                beat.beat()
                holdDescription = "active via \(mechanism.rawValue)"
            case .failure(let refusal):
                holdDescription = "unavailable: \(refusal.reason)"
            }
        }
        if options.dbus { openBus() }
        if options.reboot2panic { try enterReboot2Panic() }
        // A clean stop or a failure from here on puts every setting back.
        defer { if options.reboot2panic { leaveReboot2Panic() } }
        try publishState(running: true)
        let elapsed = Double(SystemCalls.clocks().boottime - clock) / 1e6
        StandardError.write(armedLine(elapsedMilliseconds: elapsed))
        ServiceNotify.send("READY=1\nSTATUS=armed")
        warmUp()
        metrics.armed = true
        metrics.lastAlive = Instant.now()
        updateMetrics()
        startPreviousBootReport()

        var lastAlive = SystemCalls.clocks().boottime
        var lastBusAttempt = lastAlive
        var running = true
        while running {
            // The hold lasts only while this loop beats (RW_HOLD_HEARTBEAT_NS).
            heartbeat?.beat()
            let ready = try SystemCalls.pollReadable([reader.descriptor, signals.rawValue] + (bus.map { [$0.descriptor] } ?? []),
                                                     timeoutMilliseconds: 100)
            if ready.contains(signals.rawValue), SystemCalls.readSignal(signals) != nil {
                running = false
            }
            if shutdownSeen { running = false }
            // D-Bus senders first: their pid must be asked while they are connected.
            let busIntents = bus?.drain() ?? []
            try reader.drain()
            try flush()
            // In the final stage the store is closed: only reboot(2) records count.
            guard !inFinalStage else { continue }
            try storeBusIntents(busIntents)
            try foldRepeats()
            try huntWatchdogs()
            if probes.lostRecords != lastPublishedLost { try publishState(running: true) }
            let now = SystemCalls.clocks().boottime
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
            if now - metricsUpdated >= 1_000_000_000 { updateMetrics() }
        }
        ServiceNotify.send("STOPPING=1")
        heartbeat?.stop()
        try reader.drain()
        try flush()
        guard !inFinalStage else { return 0 }  // its stop marker is stored; the store is closed
        try foldRepeats()
        try store.append([.stop(marker())])
        try publishState(running: false)
        metrics.armed = false
        updateMetrics()
        StandardError.write("disarmed: \(sink.stored) record(s) stored in \(options.store)\n")
        return 0
    }

    /// Stores everything captured so far (one fdatasync), then prints it.
    private func flush() throws {
        guard !pending.isEmpty else { return }
        let flushAt = SystemCalls.clocks().boottime
        let batch = pending
        pending.removeAll(keepingCapacity: true)
        for control in batch where control.probePoint?.isControl == true { handleControl(control) }
        var callers: [CapturedRecord] = [], records: [CallerRecord] = []
        for captured in batch where captured.probePoint?.isControl != true {
            let record = resolver.resolve(captured)
            // The kernel matched a tool's name; its argv decides (`systemctl status` is no intent).
            if captured.argv != nil && record.cmd == nil { continue }
            callers.append(captured)
            records.append(record)
        }
        let resolvedAt = SystemCalls.clocks().boottime
        let durable = try storeCallers(records)
        let durableAt = SystemCalls.clocks().boottime
        releaseFinalWaiters(callers, stored: durable)
        for captured in callers {
            latencies.add(nanoseconds: durableAt - Int64(captured.bootNanoseconds))
        }
        // Durable now: the kernel log line, then the held calls go through
        // (or panic) at once, before the slower printing.
        for (captured, record) in zip(callers, records) {
            sink.mirror(record)
            guard captured.held else { continue }
            if options.reboot2panic {
                panic(for: record)
            } else {
                let event = Int64(captured.bootNanoseconds)
                replay(captured, record, timeline: [flushAt - event, resolvedAt - event, durableAt - event])
            }
        }
        for (captured, record) in zip(callers, records) { repeats.register(captured, as: record) }
        records.forEach { sink.publish($0) }
        sink.flushOutput()
        if let trigger = records.first(where: isShutdownExec) {
            // Without the final stage, stop now: spared by systemd-shutdown's kill
            // (argv[0] "@"), an open store would keep / from going read-only.
            if options.finalStage { enterFinalStage(after: trigger) } else { shutdownSeen = true }
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

    /// Stores the repeats the kernel counted since the last fold (one
    /// fdatasync). The loop wakes at least every 100 ms, which bounds the
    /// store's write rate during a storm.
    private func foldRepeats() throws {
        let total = probes.repeatedCalls
        guard total != foldedRepeats else { return }
        let growths = repeats.growth(in: probes.callerCounts())
        try sink.keep(growths.map { .caller($0.record) }, newRecords: false)
        repeats.commit(growths)
        foldedRepeats = total
        for growth in growths {
            var record = growth.record
            record.count = growth.count
            sink.publishRepeat(record, added: growth.record.count)
        }
        if !growths.isEmpty { sink.flushOutput() }
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

    /// Reboot requests seen on D-Bus: durable, mirrored, printed.
    private func storeBusIntents(_ records: [CallerRecord]) throws {
        guard !records.isEmpty else { return }
        try sink.keep(records.map { .caller($0) })
        for record in records {
            sink.mirror(record)
            sink.publish(record)
        }
        sink.flushOutput()
    }

    /// Stores what the watchdog hunt found (a starving watchdog's feeder).
    private func huntWatchdogs() throws {
        let states = probes.watchdogStates()
        guard !states.isEmpty else { return }
        let found = hunt.findings(in: states, bootID: resolver.bootID, now: SystemCalls.clocks().boottime)
        guard !found.isEmpty else { return }
        try sink.keep(found.map { .watchdog($0) })
        found.forEach { sink.publish($0) }
        sink.flushOutput()
    }

    /// `timeline`: ns after the caller's entry when the controller started on
    /// the record, had resolved it, and had it durable.
    private func replay(_ captured: CapturedRecord, _ record: CallerRecord, timeline: [Int64]) {
        // The delay the hold added: the caller's reboot(2) entry to ours.
        func ms(_ ns: Int64) -> Double { (Double(ns) / 1e4).rounded() / 100 }
        let held = SystemCalls.clocks().boottime - Int64(captured.bootNanoseconds)
        let what = "\(record.cmd ?? "?") for \(record.comm)[\(record.pid)] (held \(ms(held)) ms, durable after "
            + "\(ms(timeline[2])) ms; picked up \(ms(timeline[0])), resolved \(ms(timeline[1])))"
        StandardError.write("replaying held reboot(2) \(what)\n")
        kmsg.write("reboot-witness: record durable, replaying reboot(2) \(what)")
        let argument = record.cmd == "RESTART2" ? captured.argument : nil
        if let error = SystemCalls.reboot(magic1: captured.magic1, magic2: captured.magic2,
                                          command: captured.command, argument: argument) {
            StandardError.write("replay of reboot(2) \(what) failed: \(error.symbolicName)\n")
        }
    }

    /// pstore records not yet in the store, tagged with the last boot the
    /// store saw before this one (pstore itself does not say which boot).
    private func harvestPstore() -> [StoreEntry] {
        let entries = (try? store.load().entries) ?? []
        let previous = entries.last { $0.bootID != resolver.bootID && $0.mergeKey?.hasPrefix("pstore") != true }?.bootID
        return PstoreHarvest.collect(previousBoot: previous)
    }

    /// How often the store's "last seen alive" marker is rewritten.
    static let aliveInterval: Int64 = 10_000_000_000

    func marker(time: String = WallClock.now()) -> StoreEntry.BootMarker {
        StoreEntry.BootMarker(bootID: resolver.bootID, time: time, kernel: probes.features.release, pid: getpid())
    }

    private func handleControl(_ captured: CapturedRecord) {
        guard captured.probePoint?.name == "module_load", let module = captured.argument else { return }
        let attached = probes.moduleLoaded(module)
        if !attached.isEmpty {
            StandardError.write("module \(module) loaded: attached \(attached.joined(separator: ", "))\n")
            try? publishState(running: true)
        }
    }

    func publishState(running: Bool) throws {
        lastPublishedLost = probes.lostRecords
        let state = ArmState(pid: getpid(), bootID: resolver.bootID, started: startedAt, updated: WallClock.now(),
                             probes: ArmState.points(probes.states), hold: holdDescription, dbus: busDescription, finalStage: finalStagePlan(), outputs: outputsDescription, recordsStored: sink.stored,
                             lostRecords: lastPublishedLost, durableLatency: latencies.summary, running: running)
        try state.write(to: options.store)
    }

    private func armedLine(elapsedMilliseconds: Double) -> String {
        let points = ProbeCatalog.all.filter { !$0.isControl }
        var byMode: [AttachMode: Int] = [:]
        for point in points {
            if let mode = probes.states[point.name]?.attachMode { byMode[mode, default: 0] += 1 }
        }
        let attached = byMode.values.reduce(0, +)
        let modes = AttachMode.allCases.compactMap { mode in byMode[mode].map { "\(mode.rawValue) \($0)" } }
        let ms = (elapsedMilliseconds * 10).rounded() / 10
        return "armed: \(attached) of \(points.count) probe points attached (\(modes.joined(separator: ", "))); "
            + "hold \(holdDescription); D-Bus \(busDescription); store \(options.store); \(ms) ms (see `reboot-witness status` for the rest)\n"
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
