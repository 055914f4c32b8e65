import CWitness
import WitnessCapture
import WitnessModel
import WitnessSystem

/// From the rings to the record path: what stops the machine first
/// (rw_urgent and the spill map), then everything else in bounded batches;
/// each batch resolved, made durable in one fdatasync, its held calls
/// replayed, then published. What the records mean for the rest of arm
/// (a reboot intent, PID 1 becoming systemd-shutdown, a module that
/// appeared) is handed back to the session in an `Outcome`.
final class CallerIntake {
    /// What one intake turn brought that the session acts on.
    struct Outcome {
        /// Caller records made durable, in order.
        var records: [CallerRecord] = []
        /// Modules whose load the kernel reported (their probe points may attach now).
        var loadedModules: [String] = []

        mutating func add(_ other: Outcome) {
            records += other.records
            loadedModules += other.loadedModules
        }
    }

    /// Records delivered by the rings, waiting to be stored (the ring
    /// callbacks fill it; a class, so the callbacks need not hold the intake).
    final class Inbox {
        var pending: [CapturedRecord] = []
        /// Spilled records of another layout version, refused.
        var otherVersion = 0
    }

    /// Records of rw_events stored at a time, and how long the loop spends on
    /// them before it beats and looks at rw_urgent again: a flood waits its
    /// turn, the heartbeat and the stopping records do not.
    static let eventBatch = 64
    static let eventBudgetNanoseconds: Int64 = 25_000_000
    /// How long a held call's replay waits for the caller's exit record
    /// (it comes within microseconds once the caller runs again).
    static let heldExitWaitNanoseconds: Int64 = 200_000_000

    private let inbox: Inbox
    let rings: (urgent: RingBufferReader, events: RingBufferReader)
    private let capture: KernelCapture
    private let resolver: RecordResolver
    private let path: RecordPath
    private let held: HeldCalls
    private let finalStage: FinalStage
    let repeats: RepeatFolder
    /// Kernel event → fdatasync returned, per record (the last 10,000), all and stopping ones.
    private(set) var latencies = DurableLatency()
    private(set) var stoppingLatencies = DurableLatency()

    init(capture: KernelCapture, resolver: RecordResolver, path: RecordPath, held: HeldCalls, finalStage: FinalStage,
         repeats: RepeatFolder) throws {
        let inbox = Inbox()
        self.inbox = inbox
        rings = try capture.probes.readers { inbox.pending.append(CapturedRecord($0)) }
        self.capture = capture
        self.resolver = resolver
        self.path = path
        self.held = held
        self.finalStage = finalStage
        self.repeats = repeats
    }

    /// Records refused for their size or their layout version (rings and spill map).
    var refused: (malformed: Int, otherVersion: Int) {
        (rings.urgent.malformedCount + rings.events.malformedCount,
         rings.urgent.otherVersionCount + rings.events.otherVersionCount + inbox.otherVersion)
    }

    /// Everything that stops the machine, from rw_urgent and from the spill
    /// map, stored (and held calls replayed) at once.
    func takeStopping() throws -> Outcome {
        try collectStopping()
        try awaitHeldExits()
        return try flush()
    }

    /// rw_events in batches, for a bounded time, with rw_urgent taken and the
    /// heartbeat beaten between them. `backlog`: records are still waiting.
    func takeEvents() throws -> (Outcome, backlog: Bool) {
        let started = SystemCalls.clocks().boottime
        var outcome = Outcome()
        while try rings.events.drain(limit: Self.eventBatch) {
            outcome.add(try flush())
            capture.beat()
            outcome.add(try takeStopping())
            if SystemCalls.clocks().boottime - started >= Self.eventBudgetNanoseconds { return (outcome, true) }
        }
        outcome.add(try flush())
        return (outcome, false)
    }

    private func collectStopping() throws {
        try rings.urgent.drain()
        for record in capture.probes.takeSpilled() {
            guard record.version == RW_RECORD_VERSION else {
                inbox.otherVersion += 1
                continue
            }
            inbox.pending.append(CapturedRecord(record))
        }
    }

    /// A held caller gets EPERM at once, but on a busy or single CPU this loop
    /// can take its record before the caller has returned. Its exit record
    /// ("refused, then replayed") must be stored before the replay ends the
    /// machine, so wait for it, bounded.
    private func awaitHeldExits() throws {
        var waiting = Set(inbox.pending.filter { $0.held && $0.probePoint?.id == .sysEnterReboot }.map(\.tid))
        guard !waiting.isEmpty else { return }
        let started = SystemCalls.clocks().boottime
        while true {
            waiting.subtract(inbox.pending.filter { $0.probePoint?.id == .sysExitReboot }.map(\.tid))
            if waiting.isEmpty { return }
            let waited = SystemCalls.clocks().boottime - started
            if waited >= Self.heldExitWaitNanoseconds {
                StandardError.write("held call(s) of tid \(waiting.sorted()): no exit record within \(waited / 1_000_000) ms; replaying without it\n")
                return
            }
            _ = try SystemCalls.pollReadable([rings.urgent.descriptor], timeoutMilliseconds: 2)
            try collectStopping()
        }
    }

    /// Stores everything captured so far (one fdatasync), replays held calls, publishes.
    private func flush() throws -> Outcome {
        guard !inbox.pending.isEmpty else { return Outcome() }
        let flushAt = SystemCalls.clocks().boottime
        let batch = inbox.pending
        inbox.pending.removeAll(keepingCapacity: true)
        var outcome = Outcome()
        for control in batch where control.probePoint?.id == .moduleLoad {
            if let module = control.argument { outcome.loadedModules.append(module) }
        }
        var callers: [CapturedRecord] = [], records: [CallerRecord] = []
        for captured in batch where captured.probePoint?.isControl != true {
            let record = resolver.resolve(captured)
            // The kernel matched a tool's name; its argv decides (`systemctl status` is no intent).
            if captured.argv != nil && record.cmd == nil { continue }
            callers.append(captured)
            records.append(record)
        }
        let resolvedAt = SystemCalls.clocks().boottime
        try path.record(records.map { .caller($0) }) { durable in
            let durableAt = SystemCalls.clocks().boottime
            finalStage.release(callers, stored: durable, probes: capture.probes, kmsg: path.kmsg)
            for (captured, record) in zip(callers, records) {
                let latency = durableAt - Int64(captured.bootNanoseconds)
                latencies.add(nanoseconds: latency)
                if record.retention == .stopping { stoppingLatencies.add(nanoseconds: latency) }
            }
            // Durable now: the held calls go through (or panic) at once, before the slower printing.
            for (captured, record) in zip(callers, records) where captured.held {
                let event = Int64(captured.bootNanoseconds)
                held.release(captured, record, timeline: [flushAt - event, resolvedAt - event, durableAt - event])
            }
        }
        for (captured, record) in zip(callers, records) { repeats.register(captured, as: record) }
        outcome.records = records
        return outcome
    }
}
