import WitnessModel
import WitnessSystem

/// The facts a text log gives of one boot, in the journal's terms (so that
/// the same verdicts read them): the shutdown sequence, the power key, a
/// person's sudo or pkexec and the ssh login it came through, a service,
/// kernel trouble near the end, crash loops. A text log keeps no writer
/// identity (any user can `logger -t sudo`), so every fact is a claim: the
/// origin says so, and the verdict weighs it as one.
public enum SyslogEvidence {
    /// How far before the boot's last line its shutdown lines are looked for.
    static let shutdownSpan: Int64 = 30 * 60
    /// How long into a boot its kernel's recovery lines still speak of the boot before.
    static let earlyWindow: Int64 = 10 * 60

    public static func facts(of boot: SyslogBoot) -> JournalBootFacts {
        var facts = JournalBootFacts()
        facts.origin = .syslog
        facts.first = boot.first?.iso8601
        facts.tail = boot.tail.map(line)
        facts.last = facts.tail.last
        let end = boot.last ?? boot.start ?? Instant(microseconds: 0)
        let late = boot.telling.filter { ($0.time ?? end).microseconds >= end.microseconds - shutdownSpan * 1_000_000 }
        facts.shutdown = shutdownSteps(late, boot)
        facts.powerKey = late.last { $0.line.ident == "systemd-logind" && $0.line.message.hasPrefix("Power key pressed") }.map(line)
        facts.commands = commands(boot)
        let began = facts.shutdown.first?.line.time.flatMap(Instant.init(iso8601:))
        facts.openLogins = openSSHLogins(boot, before: began)
        facts.serviceStarts = boot.telling.filter { $0.line.ident == "systemd" }.compactMap { entry -> JournalLine? in
            guard let unit = startedUnit(entry.line.message), JournalEvidence.isRebootingUnit(unit) else { return nil }
            var cited = line(entry)
            cited.unit = unit
            return cited
        }
        facts.kernelTrouble = boot.telling.filter { $0.line.ident == "kernel" && $0.line.message.includesAny(JournalEvidence.troubleMarkers) }
            .suffix(64).map(line)
        var best: [String: RestartCount] = [:]
        for entry in boot.telling where entry.line.ident == "systemd" {
            guard let range = entry.line.message.locate(": Scheduled restart job, restart counter is at "),
                  let count = UInt64(entry.line.message[range.upperBound...].prefix { $0.isNumber }) else { continue }
            let unit = String(entry.line.message[..<range.lowerBound])
            if count > best[unit]?.count ?? 0 { best[unit] = RestartCount(unit: unit, count: count, time: entry.time?.iso8601) }
        }
        facts.restarts = best.values.sorted { $0.count > $1.count }
        return facts
    }

    /// The next boot's first lines saying this one did not stop cleanly (file system or journal recovery).
    public static func uncleanMarkers(nextBoot next: SyslogBoot) -> [JournalLine] {
        guard let start = next.start else { return [] }
        return next.telling.filter { entry in
            ["kernel", "systemd-journald", "journal", "systemd-fsck"].contains(entry.line.ident)
                && JournalEvidence.isUncleanMarker(entry.line.message)
                && (entry.time.map { $0.microseconds - start.microseconds <= earlyWindow * 1_000_000 } ?? false)
        }.map(line)
    }

    /// Did the boot reach its default target (PID 1's "Startup finished")? nil when PID 1 logged nothing there.
    public static func finishedStartup(_ boot: SyslogBoot) -> Bool? {
        if boot.finishedStartup { return true }
        return boot.telling.contains { $0.line.ident == "systemd" } ? false : nil
    }

    /// An sshd "Accepted …" line and when that connection's session closed, if it did.
    struct SSHLogin {
        var accepted: SyslogEntry
        var closed: Instant?

        func isOpen(at time: Instant?) -> Bool {
            guard let time else { return closed == nil }
            return (accepted.time.map { $0 <= time } ?? false) && (closed.map { $0 > time } ?? true)
        }
    }

    /// The boot's ssh logins, oldest first, each with its close (one pass over sshd's lines).
    static func sshLogins(_ boot: SyslogBoot) -> [SSHLogin] {
        var logins: [SSHLogin] = []
        var openByPID: [UInt32: Int] = [:]
        for entry in boot.telling where entry.line.ident == "sshd" || entry.line.ident == "sshd-session" {
            guard let pid = entry.line.pid else { continue }
            let message = entry.line.message
            if message.hasPrefix("Accepted ") {
                openByPID[pid] = logins.count
                logins.append(SSHLogin(accepted: entry))
            } else if message.includes("session closed") || message.hasPrefix("Disconnected from") || message.hasPrefix("Received disconnect"),
                      let index = openByPID.removeValue(forKey: pid) {
                logins[index].closed = entry.time
            }
        }
        return logins
    }

    /// ssh logins still open when the boot's shutdown began (or its log
    /// ended): a text log can say who was connected, not who asked.
    public static func openSSHLogins(_ boot: SyslogBoot, before time: Instant?) -> [JournalLine] {
        sshLogins(boot).filter { $0.isOpen(at: time) }.map { line($0.accepted) }
    }

    // MARK: -

    static func line(_ entry: SyslogEntry) -> JournalLine {
        JournalLine(time: entry.time?.iso8601, unit: nil, identifier: entry.line.ident + (entry.line.pid.map { "[\($0)]" } ?? ""),
                    message: entry.line.message, location: entry.location)
    }

    /// logind's "System is rebooting.", PID 1's "Reboot requested from
    /// client PID …" and the targets it reached, and — the last lines most
    /// text logs have of an orderly shutdown — rsyslog being stopped.
    static func shutdownSteps(_ late: [SyslogEntry], _ boot: SyslogBoot) -> [ShutdownStep] {
        let logind: [String: RebootAction] = ["System is rebooting with kexec.": .kexec, "System is rebooting.": .restart,
                                              "System is powering down.": .powerOff, "System is halting.": .halt]
        let targets: [String: RebootAction?] = [
            "Reboot": .restart, "reboot.target": .restart, "Power-Off": .powerOff, "poweroff.target": .powerOff,
            "Halt": .halt, "halt.target": .halt, "Kexec": .kexec, "kexec.target": .kexec,
            "Shutdown": nil, "shutdown.target": nil, "Final Step": nil, "final.target": nil,
        ]
        // rsyslog stopped for good: no later start of it in this boot.
        let lastStart = late.lastIndex { $0.line.ident == "rsyslogd" && $0.line.message.includes("] start") }
        var steps: [ShutdownStep] = []
        for (index, entry) in late.enumerated() {
            let message = entry.line.message
            switch entry.line.ident {
            case "systemd-logind":
                if let action = logind[message] { steps.append(ShutdownStep(line: line(entry), action: action)) }
            case "systemd":
                if let (action, requester) = JournalEvidence.clientRequest(message) {
                    steps.append(ShutdownStep(line: line(entry), action: action, requester: requester))
                } else if message.hasPrefix("Reached target ") {
                    // "Reached target Reboot." (systemd ≤ 248) or "Reached target reboot.target - System Reboot."
                    let name = message.dropFirst("Reached target ".count).prefix { $0 != " " && $0 != "." }
                    let described = message.dropFirst("Reached target ".count).prefix { $0 != "." }
                    if let action = targets[String(name)] ?? targets[String(described)] {
                        steps.append(ShutdownStep(line: line(entry), action: action))
                    }
                } else if message.hasPrefix("Stopping System Logging Service") && (lastStart.map { index > $0 } ?? true) {
                    steps.append(ShutdownStep(line: line(entry), action: nil))
                }
            case "rsyslogd":
                if message.includes("exiting on signal 15") && (lastStart.map { index > $0 } ?? true) {
                    steps.append(ShutdownStep(line: line(entry), action: nil))
                }
            default:
                continue
            }
        }
        return steps
    }

    /// sudo's and pkexec's lines for reboot-family commands, each with the
    /// ssh client of the newest login of that person still open then.
    static func commands(_ boot: SyslogBoot) -> [UserCommand] {
        let logins = sshLogins(boot)
        let found = boot.telling.filter { $0.line.ident == "sudo" || $0.line.ident == "pkexec" }.compactMap { entry -> UserCommand? in
            guard var command = UserCommandLine.parse(entry.line.message, identifier: entry.line.ident,
                                                      time: entry.time?.iso8601 ?? "") else { return nil }
            command.pid = entry.line.pid
            command.source = "syslog"
            command.location = entry.location
            return command
        }
        // The last few are what a verdict reads; each is matched to the newest open login of that person.
        return found.suffix(64).map { command in
            var command = command
            let time = Instant(iso8601: command.time)
            let login = logins.last { $0.isOpen(at: time) && $0.accepted.line.message.includes(" for \(command.user) from ") }
            command.sshPeer = login.flatMap { JournalEvidence.peer(in: $0.accepted.line.message) }
            command.sshLocation = command.sshPeer == nil ? nil : login?.accepted.location
            return command
        }
    }

    /// The unit a "Starting …"/"Started …" line of PID 1 names: the unit
    /// itself on systemd ≥ 249 ("Starting foo.service - Foo…"), else its description.
    static func startedUnit(_ message: String) -> String? {
        for verb in ["Starting ", "Started ", "Finished "] where message.hasPrefix(verb) {
            let rest = message.dropFirst(verb.count)
            let word = rest.prefix { $0 != " " }
            if word.hasSuffix(".service") || word.hasSuffix(".target") { return String(word) }
            return String(rest.reversed().drop { $0 == "." }.reversed())
        }
        return nil
    }
}
