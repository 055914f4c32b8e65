import Glibc
import WitnessCapture
import WitnessModel
import WitnessSystem

/// arm-state.json as each of arm's parts says it is: the session only
/// passes them in.
extension ArmState {
    init(capture: KernelCapture, intake: CallerIntake?, path: RecordPath, finalStage: FinalStage, watches: ArmSession.Watches,
         outputs: ArmOptions.Outputs, metrics: MetricsPublisher, status: StatusPublisher, bootID: String, running: Bool) {
        let probes = capture.probes
        let counters = probes.counters
        self.init(pid: getpid(), bootID: bootID, started: status.started, updated: WallClock.now(),
                  probes: ArmState.points(probes.states), hold: capture.hold, dbus: watches.bus.state,
                  finalStage: finalStage.plan(finalWaitPossible: probes.finalWaitPossible),
                  outputs: Outputs(outputs, journalActive: path.journalEntries, metrics: metrics),
                  preflight: watches.preflight?.state ?? Preflight(state: .unavailable("off (--no-preflight)"), outcome: nil,
                                                                   headline: nil, inhibitor: nil),
                  recordsStored: path.stored, lostRecords: counters.lost, durableLatency: intake?.latencies.summary,
                  running: running, capture: Capture(capture, counters: counters, intake: intake, phases: status.phases.phases))
    }
}

extension ArmState.Outputs {
    /// Each output as asked for (`options`) and as it works here.
    init(_ options: ArmOptions.Outputs, journalActive: Bool, metrics: MetricsPublisher) {
        let journal: Capability = !options.journalEntries ? .unavailable("off (--no-journal-entries)")
            : journalActive ? .available(via: "MESSAGE_ID \(WitnessMessageID.record), verdicts \(WitnessMessageID.verdict)", active: true)
            : .unavailable("no journald at \(JournalFields.socket)")
        let export: Capability = options.export.map {
            .available(via: $0.path, active: true, "rotated at \($0.maxBytes >> 10) KiB, \($0.keep) kept")
        } ?? .unavailable("no --export FILE")
        self.init(journal: journal, export: export, metricsFile: metrics.capability, metricsListener: metrics.listener)
    }
}

extension ArmState.Capture {
    /// The kernel side as the capture and the ring reader count it (`counters`:
    /// the one reading the whole state is made from).
    init(_ capture: KernelCapture, counters: CaptureCounters, intake: CallerIntake?, phases: [ArmPhases.Phase]) {
        let probes = capture.probes
        self.init(pinning: Pinning(probes), counters: counters, noise: Array(probes.noiseGroups().prefix(10)),
                  stoppingLatency: intake?.stoppingLatencies.summary, armPhases: phases,
                  longestBeatGapMs: (Double(capture.longestBeatGap) / 1e4).rounded() / 100,
                  loopPriority: capture.loopPriority,
                  refusedRecords: (intake?.refused).map { ArmState.RefusedRecords(malformed: $0.malformed, otherVersion: $0.otherVersion) },
                  coreBTF: capture.coreBTF, cgroupV1Search: probes.cgroupV1Search)
    }
}
