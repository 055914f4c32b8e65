import WitnessEvidence
import WitnessStore
import WitnessSystem
import WitnessModel

/// Collects `BootFacts` for one boot of the timeline from every source the
/// host has, and says what each source lacked.
public enum FactGathering {
    public static func gather(_ index: Int, in host: HostEvidence) -> BootFacts {
        let boots = host.timeline.boots
        let boot = boots[index]
        let next = index + 1 < boots.count ? boots[index + 1] : nil
        var facts = BootFacts(bootID: boot.name)
        facts.start = boot.start?.iso8601
        let windowStart = boot.start ?? Instant(microseconds: 0)
        let inBoot = { (time: Instant) in time >= windowStart && (next?.start.map { time < $0 } ?? true) }

        witness(boot, host, &facts)
        pstore(index, host, &facts)
        facts.failedAttempts = FailedAttempts.gather(boot: boot.witness, next: next?.witness, pstore: facts.pstore)
        facts.pstore.removeAll(where: FailedAttempts.isAttempt)
        journal(boot, next: next, host, &facts)
        syslog(boot, next: next, host, &facts)
        if next?.isCurrent == true && host.thisHost {
            // This boot's kernel ring still holds its first lines (the journal may not have them yet).
            let known = facts.uncleanMarkers.map(\.excerpt)
            for line in KernelRing.recentText(path: host.locations.kernelLog, kernelOnly: true).split(separator: "\n")
            where JournalEvidence.isUncleanMarker(String(line)) && !known.contains(where: { $0.hasSuffix(line) }) {
                facts.uncleanMarkers.append(Evidence(source: .kernelLog, time: nil, excerpt: "next boot: " + line))
            }
            facts.watchdogStatus = WatchdogBootStatus.read(root: host.locations.watchdogRoot)
            facts.sourceNotes += facts.watchdogStatus.filter { $0.resetTheMachine != true }.map {
                Evidence(source: .bootstatus, time: nil, excerpt: $0.summary, stance: .note)
            }
        }
        switch host.auditEvents(from: windowStart) {
        case .success(let reading):
            let events = reading.events.filter { inBoot($0.time) }
            facts.audit = events.filter { $0.distrust == nil }
            facts.sourceNotes += events.compactMap { event in
                event.distrust.map { Evidence(source: .audit, time: event.time.iso8601, excerpt: "\($0) (\(event.location)): not evidence",
                                              stance: .contradicts) }
            }
            facts.sourceNotes += reading.notes.map { Evidence(source: .audit, time: nil, excerpt: "partly read: \($0)", stance: .note) }
        case .failure(let error):
            facts.sourceNotes.append(Evidence(source: .audit, time: nil, excerpt: error.errno == .noSuchFileOrDirectory
                ? "no audit log at \(host.locations.auditDirectory)" : "unreadable: \(error)", stance: .note))
        }
        switch host.wtmp {
        case .success(let entries):
            facts.wtmp = entries.filter { $0.kind != .boot && Instant(iso8601: $0.time).map(inBoot) == true }
        case .failure(let error):
            facts.sourceNotes.append(Evidence(source: .wtmp, time: nil, excerpt: "unreadable: \(error)", stance: .note))
        }
        confirmSyslogCommands(&facts)
        let (softReboots, forgedSoftReboots) = host.softRebootEvidence(of: boot)
        facts.softReboots = softReboots
        facts.forgeries += forgedSoftReboots
        setAsideSoftReboots(softReboots, &facts)
        let signs = [boot.lastSeen, facts.journal?.last?.time.flatMap(Instant.init(iso8601:)),
                     facts.audit.last?.time, facts.wtmp.last.flatMap { Instant(iso8601: $0.time) }]
        facts.lastSeen = signs.compactMap { $0 }.max()?.iso8601
        bmc(boot, next: next, host.bmc(), &facts)
        return facts
    }

    static func witness(_ boot: BootTimeline.Boot, _ host: HostEvidence, _ facts: inout BootFacts) {
        let note: String
        switch host.store {
        case .success(nil): note = "no store at \(host.locations.store): the witness was never armed on this host"
        case .failure(let error): note = "store unreadable: \(error)"
        case .success(let contents?):
            facts.witness = boot.witness
            if contents.skipped > 0 {
                facts.sourceNotes.append(Evidence(source: .witness, time: nil, excerpt: "\(contents.skipped) unreadable store entries skipped", stance: .note))
            }
            guard boot.witness == nil else { return }
            note = "not armed in that boot"
        }
        facts.sourceNotes.append(Evidence(source: .witness, time: nil, excerpt: note, stance: .note))
    }

    /// Harvested records, plus what is still in pstore: a ramoops record's
    /// time is its crash's, so it belongs to the boot running then;
    /// systemd-pstore's archive is written by the boot after.
    static func pstore(_ index: Int, _ host: HostEvidence, _ facts: inout BootFacts) {
        facts.pstore = facts.witness?.pstore ?? []
        let known = Set(host.timeline.boots.flatMap { $0.witness?.pstore.map(\.file) ?? [] })
        let (records, notes) = host.pstoreFiles()
        for record in records where !known.contains(record.file) {
            if host.timeline.pstoreOwner(of: record) == index { facts.pstore.append(record) }
        }
        facts.sourceNotes += notes.map { Evidence(source: .pstore, time: nil, excerpt: $0, stance: .note) }
    }

    static func journal(_ boot: BootTimeline.Boot, next: BootTimeline.Boot?, _ host: HostEvidence, _ facts: inout BootFacts) {
        guard let opened = host.journal else {
            facts.sourceNotes.append(Evidence(source: .journal, time: nil, excerpt: "not read (--no-journal)", stance: .note))
            return
        }
        guard case .success(let journal) = opened else {
            if case .failure(let error) = opened {
                facts.sourceNotes.append(Evidence(source: .journal, time: nil, excerpt: "unreadable: \(error)", stance: .note))
            }
            return
        }
        let problems = journal.unreadable
        if let id = boot.journal?.id {
            facts.journal = JournalEvidence.facts(of: id, in: journal)
            facts.forgeries += facts.journal?.forgeries ?? []
        } else if boot.syslog != nil {
            facts.sourceNotes.append(Evidence(source: .journal, time: nil, excerpt: "no entries for this boot in the \(journal.location): "
                                              + "read from the text logs instead", stance: .note))
        } else {
            facts.sourceNotes.append(Evidence(source: .journal, time: nil,
                                              excerpt: "no entries for this boot in the \(journal.location) (not persistent then, or rotated away)"
                                                  + host.journalDamageNote(), stance: .note))
        }
        if let nextID = next?.journal?.id {
            let (markers, forged) = JournalEvidence.uncleanMarkers(nextBoot: nextID, in: journal)
            facts.uncleanMarkers = markers.map { Evidence(source: .journal, time: $0.time, excerpt: "next boot: " + $0.quoted) }
            facts.forgeries += forged
            // A next boot that reached userspace but never its default target (emergency mode, a hang) is a failed attempt.
            if next?.isCurrent == false, JournalEvidence.finishedStartup(nextID, in: journal) == false {
                facts.failedAttempts.append(Evidence(source: .journal, time: next?.start?.iso8601,
                                                     excerpt: "the next boot \(JournalReader.journalBootID(nextID)) never finished starting up "
                                                         + "(no \"Startup finished\" from PID 1 in its journal)"))
            }
        }
        if journal.unreadable > problems {
            facts.sourceNotes.append(Evidence(source: .journal, time: nil,
                                              excerpt: "partly read: \(journal.unreadable - problems) read(s) stopped at unreadable entries"
                                                  + host.journalDamageNote(), stance: .note))
        }
    }
}

extension FactGathering {
    /// A boot the journal lacks, from the text logs: its facts are claims (any user can write a line there).
    static func syslog(_ boot: BootTimeline.Boot, next: BootTimeline.Boot?, _ host: HostEvidence, _ facts: inout BootFacts) {
        guard let source = host.syslog else { return }
        facts.sourceNotes += source.notes.prefix(8).map { Evidence(source: .syslog, time: nil, excerpt: $0, stance: .note) }
        if next?.journal == nil, let nextLogged = next?.syslog {
            facts.uncleanMarkers += SyslogEvidence.uncleanMarkers(nextBoot: nextLogged).map {
                Evidence(source: .syslog, time: $0.time, excerpt: "next boot: " + $0.quoted)
            }
        }
        guard boot.journal == nil, let logged = boot.syslog else { return }
        facts.journal = SyslogEvidence.facts(of: logged)
        facts.sourceNotes.append(Evidence(source: .syslog, time: nil, excerpt: "read from \(source.directory) (text logs keep no writer: "
                                          + "each line is a claim any local user could have written)", stance: .note))
        facts.sourceNotes += logged.notes.prefix(8).map { Evidence(source: .syslog, time: nil, excerpt: $0, stance: .note) }
        if let nextLogged = next?.syslog, next?.journal == nil, next?.isCurrent == false,
           SyslogEvidence.finishedStartup(nextLogged) == false {
            facts.failedAttempts.append(Evidence(source: .syslog, time: next?.start?.iso8601,
                                                 excerpt: "the next boot never finished starting up (no \"Startup finished\" from systemd in the text logs)"))
        }
    }

    /// A soft reboot goes through shutdown.target, so it leaves PID 1's
    /// shutdown steps, wtmp's shutdown entry and audit's SYSTEM_SHUTDOWN
    /// behind, and the boot goes on: what came before the last one is not how
    /// the boot ended. PID 1's steps that name an end (reboot.target, a
    /// client's request) are kept whatever the clock says: a clock stepped
    /// back must not erase the real end.
    static func setAsideSoftReboots(_ softReboots: [SoftReboot], _ facts: inout BootFacts) {
        let times = softReboots.compactMap { $0.journal?.line.time ?? $0.time }
        guard let last = times.max(), let resumed = Instant(iso8601: last) else { return }
        facts.journal?.shutdown.removeAll { $0.action == nil && $0.requester == nil && ($0.line.time ?? "") <= last }
        facts.wtmp.removeAll { $0.kind == .shutdown && Instant(iso8601: $0.time).map { $0 <= resumed } == true }
        facts.audit.removeAll { ["SYSTEM_SHUTDOWN", "SYSTEM_RUNLEVEL"].contains($0.type) && $0.time <= resumed }
    }

    /// The audit log is written by the kernel and root processes only: where
    /// it covers a boot, a sudo line of a text log that no USER_CMD confirms
    /// is a claim it contradicts, not a fact.
    static func confirmSyslogCommands(_ facts: inout BootFacts) {
        guard facts.journal?.origin == .syslog, !facts.audit.isEmpty, let commands = facts.journal?.commands else { return }
        let audited = AuditLog.userCommands(facts.audit)
        var confirmed: [UserCommand] = []
        for command in commands {
            if command.tool != "sudo" || audited.contains(where: { $0.action == command.action
                && abs(VerdictEngine.seconds($0.time, command.time) ?? 99) <= 2 }) {
                confirmed.append(command)
            } else {
                facts.sourceNotes.append(Evidence(source: .syslog, time: command.time, excerpt: "a sudo line naming \(command.user) "
                                                  + "(`\(command.command)`) that the audit log does not confirm (no USER_CMD): not evidence",
                                                  stance: .contradicts))
            }
        }
        facts.journal?.commands = confirmed
    }
}

extension BootTimeline {
    /// The boot a pstore record speaks of (index), by its time and where it lies.
    func pstoreOwner(of record: PstoreRecord) -> Int? {
        guard let time = record.time.flatMap(Instant.init(iso8601:)), let running = index(containing: time) else {
            return index(back: 1)
        }
        let archived = record.file.hasPrefix("/var/lib/systemd/pstore")
        return archived ? (running > 0 ? running - 1 : nil) : running
    }

    /// The boot that was running at `time`.
    func index(containing time: Instant) -> Int? {
        boots.indices.last { boots[$0].start.map { $0 <= time } ?? false }
    }
}
