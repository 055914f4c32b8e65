import FoundationEssentials
import CWitness
import Glibc
import WitnessCapture
import WitnessModel
import WitnessReport
import WitnessStore
import WitnessSystem

/// The session's single steps: what it publishes, hands over, harvests.
extension ArmSession {
    /// Armed and its first records taken: the bus, arm-state.json, the
    /// "armed" line, READY=1, the metrics, the previous boot's report.
    func announceArmed(_ intake: CallerIntake) throws {
        watches.bus.open()
        status.endPhase("D-Bus")
        capture.keepCoreBTF()
        try publishState(running: true)
        status.endPhase("publish state")
        StandardError.write(armedLine())
        if getenv("REBOOT_WITNESS_TIMING") != nil {
            StandardError.write("arm phases: " + status.phases.phases.map { "\($0.name) \($0.milliseconds) ms" }.joined(separator: ", ") + "\n")
        }
        ServiceNotify.send("READY=1\nSTATUS=armed")
        warmUp()
        metrics.armed(true)
        metrics.alive(intake: intake)
        metrics.update(probes: capture.probes, path: path, intake: intake)
        previousBoot.start(store: options.store.path)
        watches.preflight?.request(.started)
    }

    /// arm-state.json from every part's own state.
    func publishState(running: Bool) throws {
        let probes = capture.probes
        let counters = probes.counters
        let refused = intake?.refused
        let state = ArmState(
            pid: getpid(), bootID: resolver.bootID, started: status.started, updated: WallClock.now(),
            probes: ArmState.points(probes.states), hold: capture.hold, dbus: watches.bus.state,
            finalStage: finalStage.plan(finalWaitPossible: probes.finalWaitPossible),
            outputs: ArmState.Outputs(
                journal: !options.outputs.journalEntries ? .unavailable("off (--no-journal-entries)")
                    : path.journalEntries ? .available(via: "MESSAGE_ID \(WitnessMessageID.record), verdicts \(WitnessMessageID.verdict)", active: true)
                    : .unavailable("no journald at \(JournalFields.socket)"),
                export: options.outputs.export.map {
                    .available(via: $0.path, active: true, "rotated at \($0.maxBytes >> 10) KiB, \($0.keep) kept")
                } ?? .unavailable("no --export FILE"),
                metricsFile: metrics.capability, metricsListener: metrics.listener),
            preflight: watches.preflight?.state ?? ArmState.Preflight(state: .unavailable("off (--no-preflight)"), outcome: nil,
                                                                       headline: nil, inhibitor: nil),
            recordsStored: path.stored, lostRecords: counters.lost, durableLatency: intake?.latencies.summary, running: running,
            capture: ArmState.Capture(pinning: Pinning(probes), counters: counters, noise: Array(probes.noiseGroups().prefix(10)),
                                      stoppingLatency: intake?.stoppingLatencies.summary, armPhases: status.phases.phases,
                                      longestBeatGapMs: (Double(capture.longestBeatGap) / 1e4).rounded() / 100,
                                      loopPriority: capture.loopPriority,
                                      refusedRecords: refused.map { ArmState.RefusedRecords(malformed: $0.malformed, otherVersion: $0.otherVersion) },
                                      coreBTF: capture.coreBTF))
        try status.write(state)
    }

    /// "armed: 14 of 31 probe points attached (tracepoint 3, kprobe 11); hold …".
    func armedLine() -> String {
        let points = ProbeCatalog.all.filter { !$0.isControl }
        var byMode: [AttachMode: Int] = [:]
        for point in points {
            if let mode = capture.probes.states[point.id]?.attachMode { byMode[mode, default: 0] += 1 }
        }
        let attached = byMode.values.reduce(0, +)
        let modes = AttachMode.allCases.compactMap { mode in byMode[mode].map { "\(mode.rawValue) \($0)" } }
        return "armed: \(attached) of \(points.count) probe points attached (\(modes.joined(separator: ", "))); "
            + "hold \(capture.hold.line); D-Bus \(watches.bus.state.line); store \(options.store.path); "
            + "capture \(capture.probes.lifecycle.description); "
            + "\(status.phases.totalMilliseconds) ms (see `reboot-witness status` for the rest)\n"
    }

    /// Runs the record path's formatting once on a dummy record (resolve,
    /// JSON, formats): Swift's first use of each Codable conformance and
    /// generic type costs milliseconds, which a held reboot(2) must not wait for.
    func warmUp() {
        var raw = rw_record()
        raw.version = UInt16(RW_RECORD_VERSION)
        raw.probe = UInt16(RW_PROBE_SYS_ENTER_REBOOT.rawValue)
        raw.attach = UInt16(RW_ATTACH_TRACEPOINT.rawValue)
        let record = resolver.resolve(CapturedRecord(raw))
        let json = RecordFormatter.json(StoreEntry.caller(record))
        _ = try? JSONDecoder().decode(StoreEntry.self, from: Data(json.utf8))
        _ = RecordFormatter.oneLine(record) + RecordFormatter.human(record)
    }

    /// PID 1 became systemd-shutdown: the stop marker, then the reserved slots.
    func enterFinalStage(after trigger: CallerRecord) {
        watches.bus.close()
        signal(SIGPIPE, SIG_IGN)  // journald's stream socket closes under us
        capture.beat()
        // A file open for writing blocks the read-only remount: no more subset writes from here.
        capture.stopWritingToTheStore()
        let line = finalStage.enter(after: trigger, path: path, probes: capture.probes) {
            try path.record([.stop(marker())])
            try publishState(running: false)
        }
        SystemCalls.detachFromRegularFiles([1, 2])  // a log file on / would block the remount too
        StandardError.write(line + "\n")
        path.kmsg.write("reboot-witness: " + line)
    }

    /// pstore records not yet in the store, tagged with the last boot the
    /// store saw before this one (pstore itself does not say which boot).
    func harvestPstore() -> [StoreEntry] {
        let previous: String?
        do {
            previous = try path.store.latestBoot(other: resolver.bootID)
        } catch {
            StandardError.write("pstore: the store could not be read (\(error)); records harvested now are tagged with no boot\n")
            previous = nil
        }
        let (harvested, notes) = PstoreHarvest.collect(previousBoot: previous)
        for note in notes { StandardError.write("pstore: \(note)\n") }
        return harvested
    }

    /// The previous boot's verdict to the journal and the export file, every verdict to the metrics.
    func announcePreviousBoot(_ lines: [LastReport.Line]) {
        metrics.boots(lines)
        if let verdict = metrics.metrics.lastBoot {
            path.announce(verdict)
            StandardError.write("previous boot \(verdict.bootID): \(verdict.bootstat) (\(verdict.confidence.rawValue)): \(verdict.summary)\n")
        }
        metrics.update(probes: capture.probes, path: path, intake: intake)
        releaseStartupMemory()
    }

    /// Once armed and the report is done (it read the journal, the audit
    /// log and wtmp on another thread): freed heap goes back to the kernel,
    /// and the code pages only starting touched (argument parsing, BPF
    /// loading, the report; libsystemd and the libraries it pulled in) leave
    /// memory; the record path is touched again, so that a held reboot(2)
    /// never waits for a page of it.
    func releaseStartupMemory() {
        cw_release_free_memory()
        _ = cw_page_out_code()
        warmUp()
    }

    /// Preflight results as they come: stored and published through the path.
    func storePreflights() throws {
        guard let results = watches.preflight?.collect(), !results.isEmpty else { return }
        try path.record(results.map { .preflight(PreflightWatch.record($0, bootID: resolver.bootID)) })
        try publishState(running: true)
    }
}
