import WitnessStore
import WitnessSystem
import WitnessModel

/// The verdict on how a boot ended, decided from its facts the way an
/// engineer would by hand: a panic or watchdog that pstore or the witness
/// saw first, then the reboot(2) that went through (and, for PID 1, who asked
/// for it), then an orderly shutdown the journal, the audit log or wtmp kept,
/// then an end with no shutdown path, then absences. Never a guess dressed
/// as a fact: each verdict says how sure it is and lists what supports or
/// contradicts it.
public enum VerdictEngine {
    public static func decide(_ facts: BootFacts) -> Verdict {
        // The BMC's account only where the host recorded no way out: its SEL
        // takes entries from root on the host (Add SEL Entry), so it explains
        // an end without a shutdown path and never replaces a recorded one.
        var verdict = panicOrWatchdog(facts) ?? witnessedReboot(facts) ?? orderlyShutdown(facts)
            ?? bmcReset(facts) ?? abruptEnd(facts) ?? absence(facts)
        // An orderly end the logs tell, begun by the kernel (the witness stopped before PID 1's own call).
        if verdict.reason.isOrderly, verdict.subreason == .graceful, let end = facts.cleanStop ?? facts.lastSeen,
           let cause = KernelCause.find(in: facts.records, before: end) {
            verdict = cause.explain(verdict)
        }
        verdict.crashLoop = crashLoop(facts)
        if let loop = verdict.crashLoop {
            verdict.summary += "; crash loop: \(loop.what) ×\(loop.count)"
        }
        if let gap = unwitnessedEnd(facts) {
            verdict.evidence.append(gap)
            if verdict.confidence == .high { verdict.confidence = .medium }
        }
        verdict.evidence += contradictions(facts, verdict) + facts.forgeries.map {
            Evidence(source: .journal, time: $0.line.time, excerpt: $0.finding, stance: .contradicts)
        } + facts.sourceNotes
        verdict.lastSeen = facts.lastSeen
        verdict.failedAttempts = facts.failedAttempts
        if let first = facts.failedAttempts.first {
            verdict.summary += "; then the next boot failed before one came up (\(first.source.rawValue): \(first.excerpt))"
        }
        // `high` only where a direct record (the witness's, or the kernel's in pstore) supports it.
        if verdict.confidence == .high,
           !verdict.evidence.contains(where: { $0.supports && ($0.source == .witness || $0.source == .pstore) }) {
            verdict.confidence = .medium
        }
        return verdict
    }

    // MARK: - Panic, watchdog

    static func panicOrWatchdog(_ facts: BootFacts) -> Verdict? {
        let hunt = facts.watchdog.last
        let huntEvidence = hunt.map { Evidence(source: .witness, time: $0.time, excerpt: $0.summary) }
        let fire = facts.records.last { $0.probe.kind == .watchdogFire }
        for record in facts.pstore {
            let text = record.excerpt.joined(separator: "\n")
            let evidence = Evidence(source: .pstore, time: record.time, excerpt: "\(record.header): "
                + (record.excerpt.last { $0.contains("panic") || $0.contains("softdog") || $0.contains("reboot-witness") }
                   ?? record.excerpt.last ?? ""))
            if text.contains("reboot-witness: reboot2panic:") {
                continue  // a reboot the witness turned into a panic: witnessedReboot names it
            }
            let softdog = text.contains("softdog: Initiating") || text.contains("Watchdog Timer expired")
                || text.contains("softdog_fire") || text.contains("watchdog: watchdog")
            if softdog {
                return watchdogVerdict(facts, hunt: hunt, evidence: [evidence] + (huntEvidence.map { [$0] } ?? []))
            }
            if record.header.hasPrefix("Panic") || record.header.hasPrefix("Oops") {
                let reasonLine = record.excerpt.first { $0.contains("Kernel panic - not syncing") }
                let why = reasonLine.flatMap { $0.after("not syncing") }.map { String($0.drop { $0 == ":" || $0 == " " }) }
                    ?? "see the pstore record"
                let subreason: Verdict.Subreason = why.contains("sysrq") ? .sysrq : why.contains("Out of memory") ? .oom
                    : why.contains("hung") ? .hungTask : why.contains("Watchdog") ? .watchdog : .kernel
                return Verdict(reason: .panic, subreason: subreason, summary: "kernel panic: \(why)", confidence: .high,
                               bootID: facts.bootID, evidence: [evidence], detail: subreason.rawValue)
            }
        }
        // The witness saw a watchdog starve and the BMC logged its watchdog's
        // reset: the BMC's watchdog it was. (A SEL entry alone never outranks
        // what the host recorded: root can add one; see bmcReset's place.)
        if hunt != nil, case .watchdog? = facts.bmcEnding?.ending, var verdict = bmcReset(facts) {
            verdict.evidence += huntEvidence.map { [$0] } ?? []
            return verdict
        }
        if hunt != nil || fire != nil {
            var evidence = huntEvidence.map { [$0] } ?? []
            if let fire { evidence.append(Evidence(source: .witness, time: fire.time, excerpt: "\(fire.probe): \(fire.cmdArg ?? "")")) }
            return watchdogVerdict(facts, hunt: hunt, evidence: evidence)
        }
        if let card = facts.watchdogStatus.first(where: { $0.resetTheMachine == true }) {
            return Verdict(reason: .watchdog, subreason: .hardware,
                           summary: "watchdog reset by \(card.identity ?? card.device) (its boot status says it reset the machine)",
                           confidence: .medium, bootID: facts.bootID,
                           evidence: [Evidence(source: .bootstatus, time: nil, excerpt: card.summary)],
                           detail: card.device)
        }
        return nil
    }

    static func watchdogVerdict(_ facts: BootFacts, hunt: WatchdogRecord?, evidence: [Evidence]) -> Verdict {
        var summary = "watchdog reset"
        if let hunt { summary += ": \(hunt.summary)" }
        return Verdict(reason: .watchdog, subreason: .softdog, summary: summary,
                       confidence: hunt != nil ? .high : .medium, bootID: facts.bootID, evidence: evidence,
                       detail: hunt.map { "\($0.pinger.comm)" } ?? "")
    }

    // MARK: - reboot(2) that went through, seen by the witness

    /// The kernel's own restart, halt, power-off and kexec: what a reboot(2) that went through reaches;
    /// and deferred_cad, after which the kernel restarts at once (its record waits to be durable, the restart's may not land).
    static let kernelActions: Set<ProbeID> = [.kernelRestart, .kernelPowerOff, .kernelHalt, .kernelKexec, .deferredCad]

    static func witnessedReboot(_ facts: BootFacts) -> Verdict? {
        // The last call that would stop the machine and did not fail back to its caller
        // (a held one is replayed by the witness, so it went through).
        guard let call = facts.records.last(where: { r in
            guard let cmd = r.cmd, Verdict.Reason(command: cmd) != nil, r.inInitPidNs != false else { return false }
            return r.probe.isRebootSyscallEntry ? (r.retval == nil || r.held) : Self.kernelActions.contains(r.probe)
        }) ?? facts.records.last(where: { $0.probe == .writeSysrqTrigger && $0.cmd != nil }) else {
            return intentOnly(facts)
        }

        let reason = call.cmd.flatMap(Verdict.Reason.init(command:)) ?? .reboot
        var evidence = [Evidence(source: .witness, time: call.time, excerpt: RecordFormatter.oneLine(call))]
        if call.probe == .writeSysrqTrigger {
            return Verdict(reason: reason, subreason: .sysrq, summary: "sysrq \(call.cmdArg ?? "") written by "
                           + who(call), confidence: .high, bootID: facts.bootID,
                           initiator: CallerRecord.Initiator(call), evidence: evidence, detail: call.comm)
        }
        // A graceful reboot ends in PID 1's call: the intent before it names who asked.
        var asker = call
        if call.isPidOnesOwnStep, let intent = CallerRecord.initiatingIntent(in: facts.records, before: call.time, ending: call.cmd) {
            asker = intent
            evidence.insert(Evidence(source: .witness, time: intent.time, excerpt: "intent: " + RecordFormatter.oneLine(intent)), at: 0)
            if let (_, wentOn) = pid1WentOn(facts, cmd: call.cmd) { evidence.insert(wentOn, at: 1) }
        }
        let powerKey = facts.journal?.powerKey
        let (subreason, detail) = classify(asker, powerKey: powerKey != nil)
        if let powerKey { evidence.append(Evidence(source: facts.logSource, time: powerKey.time, excerpt: powerKey.quoted)) }
        let converted = facts.pstore.contains { $0.excerpt.contains { $0.contains("reboot-witness: reboot2panic:") } }
        // PID 1 with no intent before it: a graceful stop whose request we did not see
        // (D-Bus, or before arm), unless the power key explains it.
        let unexplained = asker.isPidOnesOwnStep && subreason != .acpi
        var summary = "\(subreason.words) \(reason.rawValue)"
        if unexplained {
            summary = "graceful \(reason.rawValue) by PID 1 (\(call.comm)); no intent recorded (the request came by D-Bus or before arm)"
        } else if asker.isPidOnesOwnStep {
            summary += " (PID 1 \(call.comm), after the power key)"
        } else {
            summary += " by " + who(asker)
        }
        if converted { summary += " (turned into a panic by --reboot2panic)" }
        if call.held { evidence.append(Evidence(source: .witness, time: call.time, excerpt: "held until durable, then replayed")) }
        if reason == .kexec, let loaded = loadedImage(facts, before: call.time) { evidence.append(loaded) }
        let verdict = Verdict(reason: reason, subreason: unexplained ? .graceful : subreason, summary: summary,
                              confidence: unexplained ? .medium : .high, bootID: facts.bootID,
                              initiator: asker.isPidOnesOwnStep ? nil : CallerRecord.Initiator(asker),
                              evidence: evidence, detail: unexplained ? "" : detail)
        return KernelCause.find(in: facts.records, before: call.time)?.explain(verdict) ?? verdict
    }

    /// An intent, then an orderly shutdown that stopped the witness before
    /// PID 1's own reboot(2) (systemd stops every service first): the intent
    /// is the answer, as sure as the clean stop (and the journal) make it.
    static func intentOnly(_ facts: BootFacts) -> Verdict? {
        guard let intent = CallerRecord.initiatingIntent(in: facts.records, before: facts.cleanStop ?? ""), let cmd = intent.cmd,
              let reason = Verdict.Reason(command: cmd), facts.cleanStop != nil else { return nil }
        var evidence = [Evidence(source: .witness, time: intent.time, excerpt: "intent: " + RecordFormatter.oneLine(intent)),
                        Evidence(source: .witness, time: facts.cleanStop, excerpt: "orderly shutdown: the witness was stopped cleanly after it")]
        if let confirmed = facts.journal?.shutdown.last {
            evidence.append(Evidence(source: facts.logSource, time: confirmed.line.time, excerpt: confirmed.line.quoted))
        }
        let final = pid1WentOn(facts, cmd: cmd)
        if let (_, wentOn) = final { evidence.append(wentOn) }
        if reason == .kexec, let loaded = loadedImage(facts, before: facts.cleanStop ?? intent.time) { evidence.append(loaded) }
        let (subreason, detail) = classify(intent, powerKey: facts.journal?.powerKey != nil)
        let verdict = Verdict(reason: reason, subreason: subreason,
                              summary: "\(subreason.words) \(reason.rawValue) by " + who(intent)
                                  + (final.map { "; PID 1 then ran `\($0.0.cmdArg ?? "systemd-shutdown")`" } ?? "")
                                  + " (graceful: PID 1's final reboot(2) comes after the witness stops)",
                              confidence: .high, bootID: facts.bootID, initiator: CallerRecord.Initiator(intent),
                              evidence: evidence, detail: detail)
        return KernelCause.find(in: facts.records, before: intent.time)?.explain(verdict) ?? verdict
    }

    /// What a kexec booted: the last `kexec -l`/`-s` before it (its kernel,
    /// initrd and command line as typed), and who loaded it.
    static func loadedImage(_ facts: BootFacts, before time: String) -> Evidence? {
        guard let load = facts.records.last(where: { $0.cmd == .kexecLoad && $0.time <= time }) else { return nil }
        return Evidence(source: .witness, time: load.time, excerpt: "image loaded by " + who(load))
    }

    /// PID 1 becoming `systemd-shutdown reboot`: the last step before its reboot(2).
    static func pid1WentOn(_ facts: BootFacts, cmd: RebootAction?) -> (CallerRecord, Evidence)? {
        guard let exec = facts.records.last(where: { $0.pid == 1 && $0.probe == .execIntent && $0.cmd == cmd }) else {
            return nil
        }
        return (exec, Evidence(source: .witness, time: exec.time, excerpt: "PID 1 went on: " + RecordFormatter.oneLine(exec)))
    }

    /// Who asked: a container, a human (login session, tty, ssh), a systemd
    /// unit, or the power button's handler.
    static func classify(_ r: CallerRecord, powerKey: Bool) -> (Verdict.Subreason, String) {
        if let container = r.container { return (.container, r.pod.map { "pod=\($0.qualified)" } ?? String(container.id.prefix(12))) }
        let chain = [r.comm] + r.ancestry.map(\.comm)
        // logind relays every request: only the journal's power key or an
        // ACPI handler in the caller's chain says it was the power button.
        if powerKey || chain.contains(where: { ["acpid", "power-button"].contains($0) }) {
            return (.acpi, "power_button")
        }
        if r.loginuid != nil || r.tty != nil || r.sshPeer != nil { return (.user, r.loginUser ?? r.user ?? "uid\(r.uid)") }
        if let unit = r.cgroup?.split(separator: "/").last(where: { $0.hasSuffix(".service") }) {
            return (.service, String(unit))
        }
        return (.process, r.comm)
    }

    static func who(_ r: CallerRecord) -> String {
        var text = "\(r.comm)[\(r.pid)]"
        if let argv = r.cmdArg, r.isIntent { text += " \"\(argv)\"" }
        if let user = r.loginUser ?? r.user { text += " user \(user)" }
        if let tty = r.tty { text += " on \(tty)" }
        if let peer = r.sshPeer { text += " via ssh from \(peer)" }
        if let container = r.container { text += " in container \(container.runtime):\(container.id.prefix(12))" }
        if let pod = r.pod { text += " of pod \(pod.qualified)" + (pod.container.map { " (container \($0))" } ?? "") }
        return text
    }
}

extension String {
    /// What follows the first `marker`, or nil.
    func after(_ marker: String) -> Substring? {
        locate(marker).map { self[$0.upperBound...] }
    }
}
