import WitnessReport
import CWitness
import Glibc
import WitnessCapture
import WitnessStore
import WitnessSystem
import WitnessModel

/// The record path of `arm`: rings → resolved records → the store (durable
/// first) → held calls replayed (or panicked) → the copies. Callers, repeat
/// folds, D-Bus intents and watchdog findings all end in `sink`.
extension ArmSession {
    /// Everything that stops the machine, from rw_urgent and from the spill
    /// map, stored (and held calls replayed) at once.
    func takeStopping(_ urgent: RingBufferReader) throws {
        try collectStopping(urgent)
        try awaitHeldExits(urgent)
        try flush()
    }

    private func collectStopping(_ urgent: RingBufferReader) throws {
        try urgent.drain()
        pending += probes.takeSpilled().map(CapturedRecord.init)
    }

    /// A held caller gets EPERM at once, but on a busy or single CPU this loop
    /// can take its record before the caller has returned. Its exit record
    /// ("refused, then replayed") must be stored before the replay ends the
    /// machine, so wait for it, bounded.
    private func awaitHeldExits(_ urgent: RingBufferReader) throws {
        func isEnter(_ r: CapturedRecord) -> Bool { r.probePoint?.name == "sys_enter_reboot" }
        func isExit(_ r: CapturedRecord) -> Bool { r.probePoint?.name == "sys_exit_reboot" }
        var waiting = Set(pending.filter { $0.held && isEnter($0) }.map(\.tid))
        guard !waiting.isEmpty else { return }
        let started = SystemCalls.clocks().boottime
        while true {
            waiting.subtract(pending.filter(isExit).map(\.tid))
            if waiting.isEmpty { return }
            let waited = SystemCalls.clocks().boottime - started
            if waited >= Self.heldExitWaitNanoseconds {
                StandardError.write("held call(s) of tid \(waiting.sorted()): no exit record within \(waited / 1_000_000) ms; replaying without it\n")
                return
            }
            _ = try SystemCalls.pollReadable([urgent.descriptor], timeoutMilliseconds: 2)
            try collectStopping(urgent)
        }
    }

    /// rw_events in batches, for a bounded time, with rw_urgent taken and the
    /// heartbeat beaten between them. Returns whether records are still waiting.
    func takeEvents(_ rings: (urgent: RingBufferReader, events: RingBufferReader)) throws -> Bool {
        let started = SystemCalls.clocks().boottime
        while try rings.events.drain(limit: Self.eventBatch) {
            try flush()
            beat()
            try takeStopping(rings.urgent)
            if SystemCalls.clocks().boottime - started >= Self.eventBudgetNanoseconds { return true }
        }
        try flush()
        return false
    }

    /// Stores everything captured so far (one fdatasync), then prints it.
    func flush() throws {
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
        let durable = try finalStage.store(records, in: sink)
        let durableAt = SystemCalls.clocks().boottime
        finalStage.release(callers, stored: durable, probes: probes, kmsg: kmsg)
        for (captured, record) in zip(callers, records) {
            let latency = durableAt - Int64(captured.bootNanoseconds)
            latencies.add(nanoseconds: latency)
            if record.retention == .stopping { stoppingLatencies.add(nanoseconds: latency) }
        }
        // Durable now: the kernel log line, then the held calls go through
        // (or panic) at once, before the slower printing.
        for (captured, record) in zip(callers, records) {
            sink.mirror(record)
            guard captured.held else { continue }
            let event = Int64(captured.bootNanoseconds)
            let replay = { self.replay(captured, record, timeline: [flushAt - event, resolvedAt - event, durableAt - event]) }
            if let reboot2panic {
                reboot2panic.panic(for: record, kmsg: kmsg, replay: replay)
            } else {
                replay()
            }
        }
        for (captured, record) in zip(callers, records) { repeats.register(captured, as: record) }
        // A request to reboot: is the next boot sound? (Not in the final stage: the store is closed.)
        if !finalStage.active {
            for record in records where record.isIntent && record.cmd?.stops == true { preflight?.intent(record) }
        }
        records.forEach { sink.publish($0) }
        sink.flushOutput()
        if let trigger = records.first(where: finalStage.isTrigger) {
            // Without the final stage, stop now: spared by systemd-shutdown's kill
            // (argv[0] "@"), an open store would keep / from going read-only.
            if finalStage.enabled { enterFinalStage(after: trigger) } else { shutdownSeen = true }
        }
    }

    /// PID 1 became systemd-shutdown: the stop marker, then the reserved slots.
    private func enterFinalStage(after trigger: CallerRecord) {
        bus = nil  // dbus-daemon is gone (or going); its socket would only wake the loop
        signal(SIGPIPE, SIG_IGN)  // journald's stream socket closes under us
        heartbeat?.beat()
        let line = finalStage.enter(after: trigger, sink: sink, probes: probes) {
            try store.append([.stop(marker())])
            try publishState(running: false)
        }
        SystemCalls.detachFromRegularFiles([1, 2])  // a log file on / would block the remount too
        StandardError.write(line + "\n")
        kmsg.write("reboot-witness: " + line)
    }

    /// `timeline`: ns after the caller's entry when the controller started on
    /// the record, had resolved it, and had it durable.
    private func replay(_ captured: CapturedRecord, _ record: CallerRecord, timeline: [Int64]) {
        // The delay the hold added: the caller's reboot(2) entry to ours.
        func ms(_ ns: Int64) -> Double { (Double(ns) / 1e4).rounded() / 100 }
        let held = SystemCalls.clocks().boottime - Int64(captured.bootNanoseconds)
        let what = "\(record.cmd?.rawValue ?? "?") for \(record.comm)[\(record.pid)] (held \(ms(held)) ms, durable after "
            + "\(ms(timeline[2])) ms; picked up \(ms(timeline[0])), resolved \(ms(timeline[1])))"
        StandardError.write("replaying held reboot(2) \(what)\n")
        kmsg.write("reboot-witness: record durable, replaying reboot(2) \(what)")
        let argument = record.cmd == .restart2 ? captured.argument : nil
        if let error = SystemCalls.reboot(magic1: captured.magic1, magic2: captured.magic2,
                                          command: captured.command, argument: argument) {
            StandardError.write("replay of reboot(2) \(what) failed: \(error.symbolicName)\n")
        }
    }

    /// An adopted or upgraded capture (its maps kept): callers an earlier arm
    /// stored keep folding from where it stopped (rw_folded), found in the
    /// store by tid and boot time.
    func resumeFolding() {
        switch probes.lifecycle {
        case .adopted, .upgraded: break
        case .unpinned, .fresh, .replaced: return
        }
        do {
            let stored = try store.load().entries.compactMap { entry -> CallerRecord? in
                guard case .caller(let record) = entry, record.bootID == resolver.bootID else { return nil }
                return record
            }
            repeats.resume(stored: stored, kernel: probes.callerCounts())
        } catch {
            StandardError.write("repeat counts: the store could not be read (\(error)); repeats an earlier arm "
                                + "left unfolded are not stored\n")
        }
        foldedRepeats = 0
    }

    /// Stores the repeats the kernel counted since the last fold (one
    /// fdatasync). The loop wakes at least every 100 ms, which bounds the
    /// store's write rate during a storm.
    func foldRepeats() throws {
        let total = probes.counters.repeats
        guard total != foldedRepeats else { return }
        let growths = repeats.growth(in: probes.callerCounts())
        try sink.keep(growths.map { .caller($0.record) }, newRecords: false)
        repeats.commit(growths)
        for growth in growths {
            do {
                try probes.recordFolded(growth.caller, total: growth.count)
            } catch {
                StandardError.write("repeat counts: \(error); a restarted arm may store these \(growth.count) again\n")
            }
        }
        foldedRepeats = total
        for growth in growths {
            var record = growth.record
            record.count = growth.count
            sink.publishRepeat(record, added: growth.record.count)
        }
        if !growths.isEmpty { sink.flushOutput() }
    }

    /// Reboot requests seen on D-Bus: durable, mirrored, printed.
    func storeBusIntents(_ records: [CallerRecord]) throws {
        guard !records.isEmpty else { return }
        try sink.keep(records.map { .caller($0) })
        for record in records {
            sink.mirror(record)
            sink.publish(record)
        }
        sink.flushOutput()
    }

    /// Stores what the watchdog hunt found (a starving watchdog's feeder).
    func huntWatchdogs() throws {
        let states = probes.watchdogStates()
        guard !states.isEmpty else { return }
        let found = hunt.findings(in: states, bootID: resolver.bootID, now: SystemCalls.clocks().boottime)
        guard !found.isEmpty else { return }
        try sink.keep(found.map { .watchdog($0) })
        found.forEach { sink.publish($0) }
        sink.flushOutput()
    }

    private func handleControl(_ captured: CapturedRecord) {
        guard captured.probePoint?.name == "module_load", let module = captured.argument else { return }
        let attached = probes.moduleLoaded(module)
        if !attached.isEmpty {
            StandardError.write("module \(module) loaded: attached \(attached.joined(separator: ", "))\n")
            do {
                try publishState(running: true)
            } catch {
                StandardError.write("arm-state.json: \(error)\n")
            }
        }
    }

    /// pstore records not yet in the store, tagged with the last boot the
    /// store saw before this one (pstore itself does not say which boot).
    func harvestPstore() -> [StoreEntry] {
        let entries: [StoreEntry]
        do {
            entries = try store.load().entries
        } catch {
            StandardError.write("pstore: the store could not be read (\(error)); records harvested now are tagged with no boot\n")
            entries = []
        }
        let previous = entries.last { $0.bootID != resolver.bootID && $0.mergeKey?.hasPrefix("pstore") != true }?.bootID
        return PstoreHarvest.collect(previousBoot: previous)
    }
}
