import FoundationEssentials
import CWitness
import Glibc
import SystemPackage
import WitnessAttribution
import WitnessCapture
import WitnessEvidence
import WitnessModel
import WitnessPreflight
import WitnessReport
import WitnessStore
import WitnessSystem

/// `arm`: load and attach, then until SIGINT/SIGTERM make every record
/// durable and pass it on. This type only wires the parts together and runs
/// the loop; each part owns its own state: the kernel side (`KernelCapture`),
/// the record's path (`RecordPath`, fed by `CallerIntake`), the final stage,
/// the watches (D-Bus, preflight, watchdogs), the publishers (arm-state.json,
/// metrics) and the timed chores (`PeriodicTasks`).
public final class ArmSession {
    let options: ArmOptions
    let capture: KernelCapture
    let path: RecordPath
    let finalStage: FinalStage
    let watches: Watches
    let status: StatusPublisher
    let metrics: MetricsPublisher
    let previousBoot = PreviousBootReport()
    let resolver: RecordResolver
    /// Made once the capture is armed (it reads the rings).
    var intake: CallerIntake?

    /// The watches beside the rings: each may be absent.
    struct Watches {
        let bus: BusWatch
        let preflight: PreflightWatch?
        let reboot2panic: Reboot2Panic?
        let watchdogs = WatchdogHunt()
    }

    /// Fails, with one line for the operator, when arming cannot work here.
    public init(options: ArmOptions) throws {
        if let refusal = Privileges.bpfTracingRefusal() {
            throw ArmRefusal(description: "arm \(refusal)")
        }
        let features = KernelFeatures(mountTracefs: true)
        guard features.hasBTF else { throw ArmRefusal.noBTF }
        let panicking = options.reboot2panic.map { Reboot2Panic(options: $0, savedIn: options.store.path) }
        if let panicking, !panicking.options.force, let refusal = panicking.refusal {
            throw ArmRefusal(description: "arm --reboot2panic: \(refusal)")
        }
        try StoreDirectory.prepare(options.store.path, create: true)
        self.options = options
        status = StatusPublisher(store: options.store.path)
        let export = try options.outputs.export.map(ExportFile.init)
        // Where no journald listens (containers, hosts without systemd), no entry is attempted.
        let journal = options.outputs.journalEntries && Files.exists(JournalFields.socket)
        path = RecordPath(store: try SlotStore(directory: options.store.path, size: options.store.size, create: true),
                          copies: RecordCopies(json: options.outputs.json, journal: journal, export: export))
        metrics = try MetricsPublisher(directory: options.outputs.metricsDirectory, address: options.outputs.metricsAddress,
                                       store: options.store.path)
        resolver = RecordResolver(pods: options.kubeletLogs.map { PodIndex(root: $0) })
        capture = KernelCapture(features: features, options: options.capture, store: options.store.path)
        finalStage = FinalStage(options.finalStage)
        watches = Watches(bus: BusWatch(options.bus, bootID: resolver.bootID), preflight: options.preflight.map(PreflightWatch.init),
                          reboot2panic: panicking)
        status.endPhase("open store and outputs")
    }

    /// Runs until a signal; returns the process exit status.
    public func run() throws -> Int32 {
        let signals = try SystemCalls.signalDescriptor([SIGINT, SIGTERM])
        defer { try? signals.close() }
        var armed = false
        // A failure before arm is up leaves nothing pinned that this arm pinned.
        defer { if !armed { capture.probes.abandon() } }
        let intake = try armCapture()
        armed = true
        // An adopted capture counted repeats while no arm ran: stored now, not at the loop's first timeout.
        intake.repeats.resume(bootID: resolver.bootID)
        try intake.repeats.fold()
        status.endPhase("repeat counts")
        // Before any held call is taken: a held reboot(2) becomes a panic from the first.
        if let reboot2panic = watches.reboot2panic {
            for line in try reboot2panic.enter(capture.probes) { StandardError.write(line + "\n") }
        }
        // A clean stop or a failure from here on puts every setting back.
        defer { watches.reboot2panic?.leave(capture.probes) }
        status.endPhase("reboot2panic")
        // What the rings kept while no arm ran (an adopted capture), or took
        // since the programs were activated, is stored and printed now, not
        // after the rest of starting up (the bus, arm-state.json, the metrics).
        var (stopping, backlog) = try takeRings(intake)
        status.endPhase("records kept in the rings")
        // One of them may have been PID 1's last call: the final stage has the store then.
        if !stopping && !finalStage.active { try announceArmed(intake) }
        var tasks = chores()
        while !stopping {
            capture.beat()
            let ready = try SystemCalls.pollReadable([intake.rings.urgent.descriptor, intake.rings.events.descriptor, signals.rawValue]
                                                     + watches.bus.descriptors, timeoutMilliseconds: backlog ? 0 : 100)
            if ready.contains(signals.rawValue), SystemCalls.readSignal(signals) != nil { stopping = true }
            // D-Bus senders first: their pid must be asked while they are connected.
            let busIntents = watches.bus.drain()
            let turn = try takeRings(intake)
            backlog = turn.backlog
            if turn.stop { stopping = true }
            // In the final stage the store is closed: only reboot(2) records count.
            guard !finalStage.active else { continue }
            try path.record(busIntents.map { .caller($0) })
            try intake.repeats.fold()
            try tasks.runDue()
        }
        return try stop(intake)
    }

    /// Loads and attaches, harvests what the previous boot left in pstore,
    /// stores the start marker, arms the hold and lets the programs run. A
    /// fresh capture runs from its first light (reboot(2)'s entry and exit):
    /// its records are stored and printed while the rest loads.
    private func armCapture() throws -> CallerIntake {
        try capture.arm()
        let intake = try CallerIntake(capture: capture, resolver: resolver, path: path,
                                      held: HeldCalls(reboot2panic: watches.reboot2panic, kmsg: path.kmsg),
                                      finalStage: finalStage, repeats: RepeatFolder(probes: capture.probes, path: path))
        self.intake = intake
        let firstLight = capture.probes.awaitingRest
        if firstLight {
            // Nothing ran before it: its programs may run at once.
            try capture.probes.activate()
            status.endPhase("first light (reboot(2) entry and exit)")
        } else {
            status.endPhase("load and attach")
        }
        resolver.pods?.refresh()
        let harvested = PstoreHarvest.collect(for: path.store, bootID: resolver.bootID)
        // What the boot loader says of the attempts before this boot, read before the system marks it good.
        var start = marker(time: status.started)
        let notes = BootAttempts.bootLoaderNotes()
        start.bootLoader = notes.isEmpty ? nil : notes
        // Which of this boot's userspace sessions arm starts in (soft reboots keep the boot id).
        start.softReboots = try? SystemdManager.softRebootsCount().get()
        try path.record([.start(start), .alive(marker(time: status.started))] + harvested)
        if options.store.clearPstore {  // durable in the store now
            for failure in PstoreHarvest.clear(harvested) { StandardError.write("pstore: could not delete \(failure)\n") }
        }
        status.endPhase("store start marker")
        if firstLight {
            if try act(on: intake.takeStopping()) || act(on: intake.takeEvents().0) { throw ArmRefusal.shutdownUnderway }
            try capture.probes.armRest()
            status.endPhase("load and attach the rest")
        }
        // Every program attached: deferred_cad's may now wait for its record.
        if finalStage.enabled, let failed = finalStage.armKernelPathWait(capture.probes) { StandardError.write(failed + "\n") }
        try capture.armHold(options.hold)
        status.endPhase("hold")
        if !firstLight {
            // From here this generation's programs run (an upgrade switches over in this one write).
            try capture.probes.activate()
            status.endPhase("activate")
        }
        return intake
    }

    /// One turn over the rings. Stopping records before anything else:
    /// stored, and held calls replayed, whatever flood waits in rw_events.
    /// `stop`: arm must stop (see `act`); `backlog`: records still wait.
    private func takeRings(_ intake: CallerIntake) throws -> (stop: Bool, backlog: Bool) {
        var outcome = try intake.takeStopping()
        capture.beat()
        let (events, backlog) = try intake.takeEvents()
        outcome.add(events)
        return (try act(on: outcome), backlog)
    }

    /// The loop's timed chores.
    private func chores() -> PeriodicTasks {
        var tasks = PeriodicTasks()
        tasks.every(100_000_000, "watchdog hunt") { [unowned self] in
            let found = watches.watchdogs.findings(in: capture.probes.watchdogStates(), bootID: resolver.bootID,
                                                   now: SystemCalls.clocks().boottime)
            try path.record(found.map { .watchdog($0) })
        }
        tasks.every(100_000_000, "previous boot and preflight results") { [unowned self] in
            if let lines = previousBoot.take() { announcePreviousBoot(lines) }
            try storePreflights()
        }
        tasks.every(PeriodicTasks.second, "counters") { [unowned self] in
            if status.countersDue(capture.probes.counters, now: SystemCalls.clocks().boottime) { try publishState(running: true) }
        }
        tasks.every(PeriodicTasks.second, "metrics") { [unowned self] in
            metrics.update(probes: capture.probes, path: path, intake: intake, preflight: watches.preflight?.state.outcome)
        }
        // Armed early in boot, before dbus.service: the bus appears later.
        tasks.every(PeriodicTasks.second, "D-Bus") { [unowned self] in
            if watches.bus.open() { try publishState(running: true) }
        }
        tasks.every(5 * PeriodicTasks.second, "boot files") { [unowned self] in watches.preflight?.checkBootFiles() }
        // Off the record path: a record's lookup reads what the last refresh found.
        tasks.every(10 * PeriodicTasks.second, "pod names") { [unowned self] in resolver.pods?.refresh() }
        tasks.every(Self.aliveInterval, "last alive") { [unowned self] in
            try path.record([.alive(marker())])
            try publishState(running: true)
            metrics.alive(intake: intake)
        }
        return tasks
    }

    /// What this turn's records mean for the rest of arm. Returns true when
    /// arm must stop (PID 1 became systemd-shutdown and the final stage is off).
    private func act(on outcome: CallerIntake.Outcome) throws -> Bool {
        for module in outcome.loadedModules {
            let attached = capture.moduleLoaded(module)
            guard !attached.isEmpty else { continue }
            StandardError.write("module \(module) loaded: attached \(attached.joined(separator: ", "))\n")
            try publishState(running: true)
        }
        guard !finalStage.active else { return false }
        // A request to reboot: is the next boot sound?
        for record in outcome.records where record.isIntent && record.cmd?.stops == true { watches.preflight?.intent(record) }
        guard let trigger = outcome.records.first(where: finalStage.isTrigger) else { return false }
        // Without the final stage, stop now: spared by systemd-shutdown's kill
        // (argv[0] "@"), an open store would keep / from going read-only.
        guard finalStage.enabled else { return true }
        enterFinalStage(after: trigger)
        return false
    }

    /// A clean stop (or the machine going down in the final stage).
    private func stop(_ intake: CallerIntake) throws -> Int32 {
        ServiceNotify.send("STOPPING=1")
        capture.stopHold()
        _ = try intake.takeStopping()
        while try intake.takeEvents().backlog {}
        // The machine is going down: the capture stays as it is to the end.
        guard !finalStage.active else { return 0 }
        try intake.repeats.fold()
        try path.record([.stop(marker())])
        capture.probes.release(keepCapture: options.capture.keepOnExit)
        try publishState(running: false)
        metrics.armed(false)
        metrics.update(probes: capture.probes, path: path, intake: intake)
        metrics.shutdown()
        let kept = options.capture.keepOnExit && capture.probes.pins != nil
            ? "; the capture stays pinned in \(capture.probes.pins!.directory) until the next arm or `disarm`" : ""
        StandardError.write("disarmed: \(path.stored) record(s) stored in \(options.store.path)\(kept)\n")
        return 0
    }

    /// How often the store's "last seen alive" marker is rewritten.
    static let aliveInterval: Int64 = 10_000_000_000

    func marker(time: String = WallClock.now()) -> StoreEntry.BootMarker {
        StoreEntry.BootMarker(bootID: resolver.bootID, time: time, kernel: capture.probes.features.release, pid: getpid())
    }
}

/// Why `arm` cannot run here, in one line for the operator.
public struct ArmRefusal: Error, CustomStringConvertible {
    public let description: String

    public static let noBTF = ArmRefusal(description: "this kernel has no BTF (/sys/kernel/btf/vmlinux); CO-RE needs CONFIG_DEBUG_INFO_BTF=y")
    static let shutdownUnderway = ArmRefusal(description: "PID 1 became systemd-shutdown while arm started, and the final stage is off")
}

/// Unbuffered writes to standard error (no Foundation in the controller),
/// one line at a time: whatever a line carries from outside is escaped
/// (TerminalText); only its final line break is a line break.
enum StandardError {
    static func write(_ text: String) {
        let line = text.hasSuffix("\n") ? TerminalText.escape(text.dropLast()) + "\n" : TerminalText.escape(text)
        _ = try? FileDescriptor.standardError.writeAll(Array(line.utf8))
    }
}
