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
        path.warmUp(resolver)
        metrics.armed(true)
        metrics.alive(intake: intake)
        metrics.update(probes: capture.probes, path: path, intake: intake)
        previousBoot.start(store: options.store.path)
        watches.preflight?.request(.started)
    }

    /// arm-state.json, as each part says it is.
    func publishState(running: Bool) throws {
        try status.write(ArmState(capture: capture, intake: intake, path: path, finalStage: finalStage, watches: watches,
                                  outputs: options.outputs, metrics: metrics, status: status, bootID: resolver.bootID,
                                  running: running))
    }

    /// "armed: 14 of 31 probe points attached (tracepoint 3, kprobe 11); hold …".
    func armedLine() -> String {
        "armed: \(capture.attachedSummary); hold \(capture.hold.line); D-Bus \(watches.bus.state.line); "
            + "store \(options.store.path); capture \(capture.probes.lifecycle.description); "
            + "\(status.phases.totalMilliseconds) ms (see `reboot-witness status` for the rest)\n"
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
        path.warmUp(resolver)
    }

    /// Preflight results as they come: stored and published through the path.
    func storePreflights() throws {
        guard let results = watches.preflight?.collect(), !results.isEmpty else { return }
        try path.record(results.map { .preflight(PreflightWatch.record($0, bootID: resolver.bootID)) })
        try publishState(running: true)
    }
}
