import WitnessEvidence
import WitnessStore
import WitnessSystem
import WitnessModel

/// Verdicts from what the host itself kept (journal, audit log, wtmp, the
/// next boot's recovery lines), for boots the witness did not see end.
extension VerdictEngine {
    /// How far before the shutdown a request still counts as its cause.
    static let requestWindow: Int64 = 15 * 60

    // MARK: - An orderly shutdown the journal, the audit log or wtmp kept

    static func orderlyShutdown(_ facts: BootFacts) -> Verdict? {
        let steps = facts.journal?.shutdown ?? []
        let auditShutdown = facts.audit.last { $0.type == "SYSTEM_SHUTDOWN" }
        let wtmpShutdown = facts.wtmp.last { $0.kind == .shutdown }
        guard !steps.isEmpty || auditShutdown != nil || wtmpShutdown != nil else { return nil }
        // The first steps and the last ones: enough to read, never the whole sequence.
        let cited = steps.count > 4 ? Array(steps.prefix(2) + steps.suffix(2)) : steps
        var evidence = cited.map { Evidence(source: facts.logSource, time: $0.line.time, excerpt: $0.line.quoted) }
        if let event = auditShutdown {
            evidence.append(Evidence(source: .audit, time: event.time.iso8601,
                                     excerpt: "SYSTEM_SHUTDOWN by \(event["comm"] ?? event["exe"] ?? "?") (\(event.location))"))
        }
        if let entry = wtmpShutdown { evidence.append(Evidence(source: .wtmp, time: entry.time, excerpt: "shutdown entry")) }
        let began = [steps.first?.line.time, auditShutdown?.time.iso8601, wtmpShutdown?.time].compactMap { $0 }.min()
        let runlevel = facts.audit.last { $0.type == "SYSTEM_RUNLEVEL" }?["new-level"]
        var action = facts.journal?.shutdownAction ?? (["6": .restart, "0": .powerOff] as [String: RebootAction])[runlevel ?? ""]

        var subreason = Verdict.Subreason.graceful, detail = "", who = "", initiator: CallerRecord.Initiator?
        if let requester = steps.last(where: { $0.requester != nil }), let caller = requester.requester {
            // PID 1 names the process that asked it directly (systemctl reboot --force, StartUnit reboot.target).
            action = action ?? requester.action
            if let unit = caller.unit, unit.hasSuffix(".service") {
                (subreason, detail, who) = (.service, unit, "by \(caller.comm ?? "PID \(caller.pid)")[\(caller.pid)] of \(unit)")
            } else {
                (subreason, detail, who) = (.process, caller.comm ?? "pid\(caller.pid)",
                                            "by \(caller.comm ?? "?")[\(caller.pid)]" + (caller.unit.map { " in \($0)" } ?? ""))
            }
        }
        if subreason == .graceful || subreason == .process, let command = personRequest(facts, before: began) {
            action = action ?? command.action
            subreason = .user
            detail = command.user
            who = "by \(command.user) (" + ["\(command.tool) `\(command.command)`" + (command.tty.map { " on \($0)" } ?? ""),
                                            command.sshPeer.map { "ssh from \($0)" }]
                .compactMap { $0 }.joined(separator: ", ") + ")"
            initiator = CallerRecord.Initiator(command)
            evidence.insert(Evidence(source: command.source == "audit" ? .audit : facts.logSource, time: command.time,
                                     excerpt: "\(command.source == "audit" ? "USER_CMD" : command.tool): \(command.user)"
                                         + (command.tty.map { " on \($0)" } ?? "") + " ran `\(command.command)`"
                                         + (command.session.map { " (session \($0))" } ?? "")
                                         + (command.location.map { " (\($0))" } ?? "")
                                         + (command.sshPeer.map { ", logged in by ssh from \($0)" } ?? "")
                                         + (command.sshLocation.map { " (\($0))" } ?? "")), at: 0)
        }
        if subreason == .graceful, let unit = rebootingUnitStarted(facts, before: began) {
            (subreason, detail, who) = (.service, unit.name, "by \(unit.name)")
            evidence.insert(unit.evidence, at: 0)
        }
        if subreason == .graceful, let powerKey = facts.journal?.powerKey {
            (subreason, detail, who) = (.acpi, "power_button", "after the power key")
            evidence.insert(Evidence(source: facts.logSource, time: powerKey.time, excerpt: powerKey.quoted), at: 0)
        }
        if subreason == .graceful {
            // A text log cannot say who asked; it can say who was logged in by ssh as the shutdown began.
            evidence += (facts.journal?.openLogins ?? []).suffix(4).map {
                Evidence(source: facts.logSource, time: $0.time, excerpt: "ssh login still open as the shutdown began: \($0.quoted)",
                         stance: .note)
            }
        }
        let reason = action.flatMap(Verdict.Reason.init(command:)) ?? .shutdown
        var summary = subreason == .graceful ? "graceful \(reason.rawValue); no source names who asked"
            : "\(subreason.words) \(reason.rawValue) \(who)"
        summary += " (from \(Set(evidence.map(\.source.rawValue)).sorted().joined(separator: ", ")); the witness recorded no caller)"
        return Verdict(reason: reason, subreason: subreason, summary: summary, confidence: .medium, bootID: facts.bootID,
                       initiator: initiator, evidence: evidence, detail: detail)
    }

    /// The last reboot-family command a person ran (sudo, pkexec, sudo's
    /// USER_CMD) shortly before the shutdown began.
    static func personRequest(_ facts: BootFacts, before began: String?) -> UserCommand? {
        var commands = facts.journal?.commands ?? []
        for var command in AuditLog.userCommands(facts.audit) {
            // sudo logs to both: the journal's line (it has the ssh client) stands for the pair.
            if commands.contains(where: { $0.command == command.command && abs(seconds($0.time, command.time) ?? 99) < 2 }) { continue }
            command.sshPeer = command.session.flatMap { AuditLog.remoteAddress(session: $0, in: facts.audit) }
            commands.append(command)
        }
        return commands.filter { command in
            guard let began, let gap = seconds(command.time, began) else { return began == nil }
            return gap >= -5 && gap <= Double(requestWindow)
        }.max { $0.time < $1.time }
    }

    /// A unit named for rebooting or shutting down that started shortly
    /// before the shutdown (seed 000: machine-config-daemon-reboot).
    static func rebootingUnitStarted(_ facts: BootFacts, before began: String?) -> (name: String, evidence: Evidence)? {
        let near = { (time: String?) -> Bool in
            guard let began, let time, let gap = seconds(time, began) else { return began == nil }
            return gap >= -5 && gap <= Double(requestWindow)
        }
        if let line = facts.journal?.serviceStarts.last(where: { near($0.time) }), let unit = line.unit {
            return (unit, Evidence(source: facts.logSource, time: line.time, excerpt: line.quoted))
        }
        if let event = facts.audit.last(where: { $0.type == "SERVICE_START" && near($0.time.iso8601)
            && JournalEvidence.isRebootingUnit($0["unit"].map { $0.contains(".") ? $0 : $0 + ".service" }) }),
           let unit = event["unit"] {
            let name = unit.contains(".") ? unit : unit + ".service"
            return (name, Evidence(source: .audit, time: event.time.iso8601, excerpt: "SERVICE_START unit=\(unit) (\(event.location))"))
        }
        return nil
    }

    /// Seconds from `a` to `b` (positive when `a` is earlier).
    static func seconds(_ a: String, _ b: String) -> Double? {
        guard let x = Instant(iso8601: a), let y = Instant(iso8601: b) else { return nil }
        return Double(y.microseconds - x.microseconds) / 1_000_000
    }

    // MARK: - No shutdown path

    static let oomMarkers = ["Out of memory", "invoked oom-killer", "oom-kill:"]
    static let hangMarkers = ["blocked for more than", "soft lockup", "hard LOCKUP", "rcu_sched self-detected stall",
                              "detected stalls"]

    /// The boot stopped with no shutdown path: the witness was armed and never
    /// stopped, or the journal simply ends.
    static func abruptEnd(_ facts: BootFacts) -> Verdict? {
        var evidence: [Evidence]
        var confidence: Verdict.Confidence
        if let armed = facts.armed, facts.cleanStop == nil {
            evidence = [Evidence(source: .witness, time: facts.lastAlive ?? armed,
                                 excerpt: "armed \(armed), last seen alive \(facts.lastAlive ?? "?"), no clean stop, no restart path recorded")]
            confidence = facts.uncleanMarkers.isEmpty ? .medium : .high
        } else if facts.witness?.stopped == nil, let last = facts.journal?.last {
            evidence = [Evidence(source: facts.logSource, time: last.time,
                                 excerpt: "the \(facts.logSource == .syslog ? "text log" : "journal") ends with no shutdown sequence: \(last.quoted)")]
            confidence = facts.uncleanMarkers.isEmpty ? .low : .medium
        } else {
            return nil
        }
        evidence += facts.uncleanMarkers
        let trouble = facts.journal?.kernelTrouble ?? []
        var subreason = Verdict.Subreason.noShutdownPath
        var summary = "hard reset or power loss: no shutdown path ran (hypervisor, BMC or power)"
        if let oom = trouble.last(where: { $0.message.includesAny(oomMarkers) }) {
            subreason = .oomThenReset
            summary = "out of memory, then an external reset (no shutdown path ran)"
            evidence.append(Evidence(source: facts.logSource, time: oom.time, excerpt: oom.quoted))
        } else if let hang = trouble.last(where: { $0.message.includesAny(hangMarkers) }) {
            subreason = .hangThenReset
            summary = "hung tasks, then an external reset (no shutdown path ran)"
            evidence.append(Evidence(source: facts.logSource, time: hang.time, excerpt: hang.quoted))
        }
        summary += "; last seen alive \(facts.lastSeen ?? facts.lastAlive ?? facts.armed ?? "?")"
        return Verdict(reason: .hardReset, subreason: subreason, summary: summary, confidence: confidence,
                       bootID: facts.bootID, evidence: evidence)
    }

    /// A reset the BMC logged (its watchdog, a chassis control, a button, the
    /// power), with whatever the host itself kept of the abrupt end.
    static func bmcReset(_ facts: BootFacts) -> Verdict? {
        guard let fact = facts.bmcEnding else { return nil }
        let subreason: Verdict.Subreason
        switch fact.ending {
        case .watchdog: subreason = .bmcWatchdog
        case .chassisControl: subreason = .chassisControl
        case .powerButton: subreason = .powerButton
        case .powerFailure: subreason = .powerFailure
        }
        let abrupt = abruptEnd(facts)
        let when = fact.evidence.time.map { " at \($0) (the BMC's time, on the host's clock)" } ?? ""
        return Verdict(reason: .hardReset, subreason: subreason,
                       summary: "reset by the BMC: \(fact.ending.words)\(when); last seen alive \(facts.lastSeen ?? facts.lastAlive ?? facts.armed ?? "?")",
                       confidence: .medium, bootID: facts.bootID, evidence: [fact.evidence] + (abrupt?.evidence ?? facts.uncleanMarkers),
                       detail: fact.ending.what)
    }

    static func absence(_ facts: BootFacts) -> Verdict {
        if let stop = facts.cleanStop {
            return Verdict(reason: .unknown, subreason: .orderlyShutdown,
                           summary: "an orderly shutdown stopped the witness, but no restart path was recorded after it",
                           confidence: .low, bootID: facts.bootID,
                           evidence: [Evidence(source: .witness, time: stop, excerpt: "clean stop marker")] + facts.uncleanMarkers)
        }
        let unclean = !facts.uncleanMarkers.isEmpty
        return Verdict(reason: .unknown, subreason: unclean ? .unclean : .noEvidence,
                       summary: unclean ? "unknown, but unclean: filesystems needed recovery at the next boot"
                           : "unknown: no source kept how this boot ended",
                       confidence: .low, bootID: facts.bootID, evidence: facts.uncleanMarkers)
    }

    // MARK: - Crash loops, contradictions

    static func crashLoop(_ facts: BootFacts) -> Verdict.CrashLoop? {
        var best: Verdict.CrashLoop?
        for r in facts.records where r.count >= 100 && r.count > (best?.count ?? 0) {
            best = .init(what: "\(r.probe) \(r.cmd?.rawValue ?? "") by \(r.exe ?? r.comm)", count: r.count, source: .witness)
        }
        for loop in facts.journal?.restarts ?? [] where loop.count >= 100 && loop.count > (best?.count ?? 0) {
            best = .init(what: loop.unit, count: loop.count, source: facts.logSource)
        }
        return best
    }

    static func contradictions(_ facts: BootFacts, _ verdict: Verdict) -> [Evidence] {
        var against: [Evidence] = []
        if verdict.reason.isOrderly, verdict.subreason != .sysrq {
            against += facts.uncleanMarkers.map { marker in
                var contradiction = marker
                contradiction.stance = .contradicts
                return contradiction
            }
        }
        // (A missing wtmp shutdown entry says nothing against a graceful verdict: reboot -f writes none.)
        if verdict.reason == .hardReset {
            against += facts.wtmp.filter { $0.kind == .shutdown }.map {
                Evidence(source: .wtmp, time: $0.time, excerpt: "shutdown entry in wtmp", stance: .contradicts)
            }
            against += facts.audit.filter { $0.type == "SYSTEM_SHUTDOWN" }.map {
                Evidence(source: .audit, time: $0.time.iso8601, excerpt: "SYSTEM_SHUTDOWN (\($0.location))", stance: .contradicts)
            }
            against += (facts.journal?.shutdown ?? []).suffix(2).map {
                Evidence(source: facts.logSource, time: $0.line.time, excerpt: $0.line.quoted, stance: .contradicts)
            }
        }
        return against
    }

    /// How long the boot may go on after the witness's clean stop before the
    /// gap is a finding: an orderly shutdown stops it among its first units,
    /// and even a slow one (systemd's default stop timeout is 90 s) ends soon after.
    static let unwitnessedGrace: Double = 120

    /// The witness stopped well before the boot ended — cleanly (root ran
    /// `disarm` or stopped the service) or not (killed: its heartbeat in the
    /// store stops) — and the machine went on: what came after was not
    /// witnessed, and the verdict must say so.
    static func unwitnessedEnd(_ facts: BootFacts) -> Evidence? {
        if let stop = facts.cleanStop, let stopped = Instant(iso8601: stop) {
            let began = facts.journal?.shutdown.first.flatMap { $0.line.time.flatMap(Instant.init(iso8601:)) }
            if let began, began.microseconds - stopped.microseconds > 5_000_000 {
                return Evidence(source: .witness, time: stop, excerpt: "the witness was stopped at \(stop), before the shutdown "
                                + "began at \(began.iso8601): how this boot ended was not witnessed", stance: .contradicts)
            }
            guard began == nil, let lastSeen = wentOn(after: stopped, facts) else { return nil }
            return Evidence(source: .witness, time: stop, excerpt: "the witness was stopped at \(stop) and the boot went on until "
                            + "\(lastSeen): how it ended was not witnessed", stance: .contradicts)
        }
        guard facts.armed != nil, let alive = facts.lastAlive, let beat = Instant(iso8601: alive),
              let lastSeen = wentOn(after: beat, facts) else { return nil }
        return Evidence(source: .witness, time: alive, excerpt: "the witness was last seen alive at \(alive) with no clean stop "
                        + "(killed, or hung) and the boot went on until \(lastSeen): how it ended was not witnessed",
                        stance: .contradicts)
    }

    /// The boot's last sign of life, where it came more than the grace after `instant`.
    private static func wentOn(after instant: Instant, _ facts: BootFacts) -> String? {
        guard let lastSeen = facts.lastSeen, let last = Instant(iso8601: lastSeen),
              Double(last.microseconds - instant.microseconds) / 1e6 > unwitnessedGrace else { return nil }
        return lastSeen
    }
}

extension CallerRecord.Initiator {
    /// A person's command as the initiator (from sudo's log line or its USER_CMD event).
    init(_ command: UserCommand) {
        self.init(time: command.time, cmd: command.action, argv: command.command, pid: command.pid ?? 0,
                  comm: command.tool, exe: nil, user: command.runAs,
                  loginUser: command.user, sessionid: command.session, tty: command.tty, sshPeer: command.sshPeer)
    }
}
