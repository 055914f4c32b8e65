import WitnessCapture
import WitnessStore

/// The verdict on how a boot ended, decided from its facts the way an
/// engineer would by hand: a panic or watchdog that pstore or the witness
/// saw first, then the reboot(2) that went through (and, for PID 1, who asked
/// for it), then the journal, then absences. Never a guess dressed as a fact:
/// each verdict says how sure it is and lists what supports or contradicts it.
public enum VerdictEngine {
    public static func decide(_ facts: BootFacts) -> Verdict {
        var verdict = panicOrWatchdog(facts) ?? reboot(facts) ?? journalOnly(facts) ?? absence(facts)
        verdict.crashLoop = crashLoop(facts)
        if let loop = verdict.crashLoop {
            verdict.summary += "; crash loop: \(loop.what) ×\(loop.count)"
        }
        verdict.evidence += contradictions(facts, verdict)
        return verdict
    }

    // MARK: - Panic, watchdog

    static func panicOrWatchdog(_ facts: BootFacts) -> Verdict? {
        let hunt = facts.watchdog.last
        let huntEvidence = hunt.map { Evidence(source: "witness", time: $0.time, excerpt: $0.summary) }
        let fire = facts.records.last { $0.probe == "softdog_fire" || $0.probe == "watchdog_notify_pretimeout" }
        for record in facts.pstore {
            let text = record.excerpt.joined(separator: "\n")
            let evidence = Evidence(source: "pstore", time: record.time, excerpt: "\(record.header): "
                + (record.excerpt.last { $0.contains("panic") || $0.contains("softdog") || $0.contains("reboot-witness") }
                   ?? record.excerpt.last ?? ""))
            if text.contains("reboot-witness: reboot2panic:") {
                continue  // a reboot the witness turned into a panic: reboot() below names it
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
                let subreason = why.contains("sysrq") ? "sysrq" : why.contains("Out of memory") ? "oom"
                    : why.contains("hung") ? "hung_task" : why.contains("Watchdog") ? "watchdog" : "kernel"
                return Verdict(reason: "panic", subreason: subreason, summary: "kernel panic: \(why)", confidence: "high",
                               bootID: facts.bootID, evidence: [evidence], detail: subreason)
            }
        }
        if hunt != nil || fire != nil {
            var evidence = huntEvidence.map { [$0] } ?? []
            if let fire { evidence.append(Evidence(source: "witness", time: fire.time, excerpt: "\(fire.probe): \(fire.cmdArg ?? "")")) }
            return watchdogVerdict(facts, hunt: hunt, evidence: evidence)
        }
        return nil
    }

    static func watchdogVerdict(_ facts: BootFacts, hunt: WatchdogRecord?, evidence: [Evidence]) -> Verdict {
        var summary = "watchdog reset"
        if let hunt { summary += ": \(hunt.summary)" }
        return Verdict(reason: "watchdog", subreason: "softdog", summary: summary,
                       confidence: hunt != nil ? "high" : "medium", bootID: facts.bootID, evidence: evidence,
                       detail: hunt.map { "\($0.pinger.comm)" } ?? "")
    }

    // MARK: - reboot(2) that went through

    static let stopping: [String: String] = ["RESTART": "reboot", "RESTART2": "reboot", "POWER_OFF": "poweroff",
                                             "HALT": "halt", "KEXEC": "kexec"]

    static func reboot(_ facts: BootFacts) -> Verdict? {
        // The last call that would stop the machine and did not fail back to its caller
        // (a held one is replayed by the witness, so it went through).
        guard let call = facts.records.last(where: { r in
            guard let cmd = r.cmd, stopping[cmd] != nil, r.inInitPidNs != false else { return false }
            let syscall = ProbeCatalog.point(named: r.probe)?.isRebootSyscallEntry == true
            return syscall ? (r.retval == nil || r.held) : ["kernel_restart", "kernel_power_off", "kernel_halt", "kernel_kexec"].contains(r.probe)
        }) ?? facts.records.last(where: { $0.probe == "write_sysrq_trigger" && $0.cmd != nil }) else {
            return intentOnly(facts)
        }

        let reason = stopping[call.cmd ?? ""] ?? "reboot"
        var evidence = [Evidence(source: "witness", time: call.time, excerpt: RecordFormatter.oneLine(call))]
        if call.probe == "write_sysrq_trigger" {
            return Verdict(reason: reason, subreason: "sysrq", summary: "sysrq \(call.cmdArg ?? "") written by "
                           + who(call), confidence: "high", bootID: facts.bootID,
                           initiator: CallerRecord.Initiator(call), evidence: evidence, detail: call.comm)
        }
        // A graceful reboot ends in PID 1's call: the intent before it names who asked.
        var asker = call
        if call.pid == 1, let intent = CallerRecord.initiatingIntent(in: facts.records, before: call.time) {
            asker = intent
            evidence.insert(Evidence(source: "witness", time: intent.time, excerpt: "intent: " + RecordFormatter.oneLine(intent)), at: 0)
            if let (_, wentOn) = pid1WentOn(facts, cmd: call.cmd) { evidence.insert(wentOn, at: 1) }
        }
        let powerKey = facts.journal.last { $0.message.contains("Power key pressed") }
        let (subreason, detail) = classify(asker, powerKey: powerKey != nil)
        if let powerKey { evidence.append(Evidence(source: "journal", time: powerKey.time, excerpt: powerKey.message)) }
        let converted = facts.pstore.contains { $0.excerpt.contains { $0.contains("reboot-witness: reboot2panic:") } }
        // PID 1 with no intent before it: a graceful stop whose request we did not see
        // (D-Bus, or before arm), unless the power key explains it.
        let unexplained = asker.pid == 1 && subreason != "acpi"
        var summary = "\(subreasonWords[subreason] ?? subreason) \(reason)"
        if unexplained {
            summary = "graceful \(reason) by PID 1 (\(call.comm)); no intent recorded (the request came by D-Bus or before arm)"
        } else if asker.pid == 1 {
            summary += " (PID 1 \(call.comm), after the power key)"
        } else {
            summary += " by " + who(asker)
        }
        if converted { summary += " (turned into a panic by --reboot2panic)" }
        if call.held { evidence.append(Evidence(source: "witness", time: call.time, excerpt: "held until durable, then replayed")) }
        return Verdict(reason: reason, subreason: unexplained ? "graceful" : subreason, summary: summary,
                       confidence: unexplained ? "medium" : "high", bootID: facts.bootID,
                       initiator: asker.pid == 1 ? nil : CallerRecord.Initiator(asker),
                       evidence: evidence, detail: unexplained ? "" : detail)
    }

    /// An intent, then an orderly shutdown that stopped the witness before
    /// PID 1's own reboot(2) (systemd stops every service first): the intent
    /// is the answer, as sure as the clean stop (and the journal) make it.
    static func intentOnly(_ facts: BootFacts) -> Verdict? {
        guard let intent = CallerRecord.initiatingIntent(in: facts.records, before: facts.cleanStop ?? ""), let cmd = intent.cmd,
              let reason = stopping[cmd], facts.cleanStop != nil else { return nil }
        var evidence = [Evidence(source: "witness", time: intent.time, excerpt: "intent: " + RecordFormatter.oneLine(intent)),
                        Evidence(source: "witness", time: facts.cleanStop, excerpt: "orderly shutdown: the witness was stopped cleanly after it")]
        let confirmed = facts.journal.last { line in
            ["System is rebooting", "System is powering down", "System is halting", "Reached target"].contains { line.message.contains($0) }
        }
        if let confirmed { evidence.append(Evidence(source: "journal", time: confirmed.time, excerpt: confirmed.message)) }
        let final = pid1WentOn(facts, cmd: cmd)
        if let (_, wentOn) = final { evidence.append(wentOn) }
        let powerKey = facts.journal.contains { $0.message.contains("Power key pressed") }
        let (subreason, detail) = classify(intent, powerKey: powerKey)
        return Verdict(reason: reason, subreason: subreason,
                       summary: "\(subreasonWords[subreason] ?? subreason) \(reason) by " + who(intent)
                           + (final.map { "; PID 1 then ran `\($0.0.cmdArg ?? "systemd-shutdown")`" } ?? "")
                           + " (graceful: PID 1's final reboot(2) comes after the witness stops)",
                       confidence: "high", bootID: facts.bootID, initiator: CallerRecord.Initiator(intent),
                       evidence: evidence, detail: detail)
    }

    /// PID 1 becoming `systemd-shutdown reboot`: the last step before its reboot(2).
    static func pid1WentOn(_ facts: BootFacts, cmd: String?) -> (CallerRecord, Evidence)? {
        guard let exec = facts.records.last(where: { $0.pid == 1 && $0.probe == "sched_process_exec" && $0.cmd == cmd }) else {
            return nil
        }
        return (exec, Evidence(source: "witness", time: exec.time, excerpt: "PID 1 went on: " + RecordFormatter.oneLine(exec)))
    }

    static let subreasonWords = ["user": "user", "service": "service-initiated", "container": "container-initiated",
                                 "acpi": "hypervisor (ACPI power button)", "process": "process-initiated"]

    /// Who asked: a container, a human (login session, tty, ssh), a systemd
    /// unit, or the power button's handler.
    static func classify(_ r: CallerRecord, powerKey: Bool) -> (String, String) {
        if let container = r.container { return ("container", String(container.id.prefix(12))) }
        let chain = [r.comm] + r.ancestry.map(\.comm)
        // logind relays every request: only the journal's power key or an
        // ACPI handler in the caller's chain says it was the power button.
        if powerKey || chain.contains(where: { ["acpid", "power-button"].contains($0) }) {
            return ("acpi", "power_button")
        }
        if r.loginuid != nil || r.tty != nil || r.sshPeer != nil { return ("user", r.loginUser ?? r.user ?? "uid\(r.uid)") }
        if let unit = r.cgroup?.split(separator: "/").last(where: { $0.hasSuffix(".service") }) {
            return ("service", String(unit))
        }
        return ("process", r.comm)
    }

    static func who(_ r: CallerRecord) -> String {
        var text = "\(r.comm)[\(r.pid)]"
        if let argv = r.cmdArg, r.isIntent { text += " \"\(argv)\"" }
        if let user = r.loginUser ?? r.user { text += " user \(user)" }
        if let tty = r.tty { text += " on \(tty)" }
        if let peer = r.sshPeer { text += " via ssh from \(peer)" }
        if let container = r.container { text += " in container \(container.runtime):\(container.id.prefix(12))" }
        return text
    }

    // MARK: - Journal only, absences

    static func journalOnly(_ facts: BootFacts) -> Verdict? {
        let ends: [(String, String)] = [("System is rebooting", "reboot"), ("Reached target reboot.target", "reboot"),
                                        ("Reached target Reboot", "reboot"), ("Reached target System Reboot", "reboot"),
                                        ("System is powering down", "poweroff"), ("Reached target Power-Off", "poweroff"),
                                        ("Reached target poweroff.target", "poweroff"), ("Reached target halt.target", "halt"),
                                        ("Reached target kexec.target", "kexec"),
                                        ("Reached target System Power Off", "poweroff"), ("System is halting", "halt"),
                                        ("Reached target kexec", "kexec")]
        for line in facts.journal.reversed() {
            guard let (_, reason) = ends.first(where: { line.message.contains($0.0) }) else { continue }
            let powerKey = facts.journal.last { $0.message.contains("Power key pressed") }
            var evidence = [Evidence(source: "journal", time: line.time, excerpt: line.message)]
            if let powerKey { evidence.append(Evidence(source: "journal", time: powerKey.time, excerpt: powerKey.message)) }
            return Verdict(reason: reason, subreason: powerKey != nil ? "acpi" : "graceful",
                           summary: "graceful \(reason) (journal; the witness recorded no caller)"
                               + (powerKey != nil ? " after the ACPI power key" : ""),
                           confidence: "medium", bootID: facts.bootID, evidence: evidence,
                           detail: powerKey != nil ? "power_button" : "")
        }
        return nil
    }

    static func absence(_ facts: BootFacts) -> Verdict {
        let recovery = facts.uncleanMarkers.map { Evidence(source: "kernel-log", time: nil, excerpt: $0) }
        let ooms = facts.journal.filter { $0.message.contains("Out of memory") || $0.message.contains("oom-kill") }
        let hangs = facts.journal.filter { $0.message.contains("blocked for more than") }
        if facts.armed != nil && facts.cleanStop == nil {
            var evidence = [Evidence(source: "witness", time: facts.lastAlive ?? facts.armed,
                                     excerpt: "armed \(facts.armed!), last seen alive \(facts.lastAlive ?? "?"), no clean stop, no restart path recorded")]
            evidence += recovery
            var subreason = "no_shutdown_path", summary = "hard reset or power loss: no shutdown path ran (hypervisor, BMC or power)"
            if let oom = ooms.last {
                subreason = "oom_then_reset"
                summary = "out of memory, then an external reset (no shutdown path ran)"
                evidence.append(Evidence(source: "journal", time: oom.time, excerpt: oom.message))
            } else if let hang = hangs.last {
                subreason = "hang_then_reset"
                summary = "hung tasks, then an external reset (no shutdown path ran)"
                evidence.append(Evidence(source: "journal", time: hang.time, excerpt: hang.message))
            }
            summary += "; last seen alive \(facts.lastAlive ?? facts.armed!)"
            return Verdict(reason: "hard_reset", subreason: subreason, summary: summary,
                           confidence: recovery.isEmpty ? "medium" : "high", bootID: facts.bootID, evidence: evidence)
        }
        if let stop = facts.cleanStop {
            return Verdict(reason: "unknown", subreason: "orderly_shutdown",
                           summary: "an orderly shutdown stopped the witness, but no restart path was recorded after it",
                           confidence: "low", bootID: facts.bootID,
                           evidence: [Evidence(source: "witness", time: stop, excerpt: "clean stop marker")] + recovery)
        }
        return Verdict(reason: "unknown", subreason: recovery.isEmpty ? "no_evidence" : "unclean",
                       summary: recovery.isEmpty ? "unknown: the witness was not armed and no other source says"
                           : "unknown, but unclean: filesystems needed recovery at the next boot",
                       confidence: "low", bootID: facts.bootID, evidence: recovery)
    }

    // MARK: - Crash loops, contradictions

    static func crashLoop(_ facts: BootFacts) -> Verdict.CrashLoop? {
        var best: Verdict.CrashLoop?
        for r in facts.records where r.count >= 100 && r.count > (best?.count ?? 0) {
            best = .init(what: "\(r.probe) \(r.cmd ?? "") by \(r.exe ?? r.comm)", count: r.count, source: "witness")
        }
        for line in facts.journal {
            guard let rest = line.message.after("restart counter is at ") else { continue }
            let digits = rest.prefix { $0.isNumber }
            guard let count = UInt64(digits), count >= 100, count > (best?.count ?? 0) else { continue }
            best = .init(what: line.unit ?? line.identifier ?? "a unit", count: count, source: "journal")
        }
        return best
    }

    static func contradictions(_ facts: BootFacts, _ verdict: Verdict) -> [Evidence] {
        var against: [Evidence] = []
        let graceful = ["reboot", "poweroff", "halt", "kexec"].contains(verdict.reason)
        if graceful, verdict.subreason != "sysrq", !facts.uncleanMarkers.isEmpty {
            against += facts.uncleanMarkers.map {
                Evidence(source: "kernel-log", time: nil, excerpt: "unclean at the next boot: \($0)", supports: false)
            }
        }
        // (A missing wtmp shutdown entry says nothing against a graceful verdict: reboot -f writes none.)
        if verdict.reason == "hard_reset" {
            against += facts.wtmp.filter { $0.kind == "shutdown" }.map {
                Evidence(source: "wtmp", time: $0.time, excerpt: "shutdown entry in wtmp", supports: false)
            }
        }
        return against
    }
}

extension String {
    /// What follows the first `marker`, or nil.
    func after(_ marker: String) -> Substring? {
        var rest = Substring(self)
        while !rest.isEmpty {
            if rest.hasPrefix(marker) { return rest.dropFirst(marker.count) }
            rest = rest.dropFirst()
        }
        return nil
    }
}
