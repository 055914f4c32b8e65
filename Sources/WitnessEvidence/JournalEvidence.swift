import WitnessAttribution
import WitnessSystem
import WitnessModel

/// systemd's catalog message ids read here (sd-messages.h).
public enum MessageID {
    /// logind: "System is rebooting." with SHUTDOWN=reboot|power-off|halt|kexec.
    public static let shutdown = "98268866d1d54a499c4e98921d93bc40"
    public static let powerKey = "b72ea4a2881545a0b50e200e55b9b071"
    public static let rebootKey = "9fa9d2c012134ec385451ffe316f97d0"
    public static let unitStarting = "7d4958e842da4a758f6c1cdc7b36dcc5"
    public static let unitStarted = "39f53479d3a045ac8e11786248231fbf"
    /// "Scheduled restart job, restart counter is at N." with N_RESTARTS=N.
    public static let restartScheduled = "5eb03494b6584870a536b337290809b3"
    /// logind: "New session N of user U." with SESSION_ID and LEADER.
    public static let sessionStart = "8d45620c1a4348dbb17410da57c60c66"
    /// systemd: "Startup finished in …" (the default target reached).
    public static let startupFinished = "b07a249cd024414a82dd00cd181378ff"
}

/// One step of an orderly shutdown the journal kept.
public struct ShutdownStep: Equatable, Sendable {
    public var line: JournalLine
    /// What the step asks for, where it says; nil for
    /// steps common to all (shutdown.target, final.target).
    public var action: RebootAction?
    /// PID 1's "Reboot requested from client PID N ('comm') (unit U)": the caller.
    public var requester: Requester?

    public struct Requester: Equatable, Sendable {
        public var pid: UInt32
        public var comm: String?
        public var unit: String?

        public init(pid: UInt32, comm: String?, unit: String?) {
            self.pid = pid; self.comm = comm; self.unit = unit
        }
    }

    public init(line: JournalLine, action: RebootAction?, requester: Requester? = nil) {
        self.line = line; self.action = action; self.requester = requester
    }
}

/// What one boot's journal says about how that boot ended, from a fixed set
/// of indexed queries, each read with a bound (a boot of 1.26 M entries
/// costs what a boot of a thousand does).
public struct JournalBootFacts: Equatable, Sendable {
    /// Where the facts were read: the journal (whose trusted fields vouch
    /// for each writer), or text syslog files (which keep no writer: every
    /// line there is a claim).
    public enum Origin: String, Sendable { case journal, syslog }

    public var origin = Origin.journal
    public var first: String?
    /// The boot's last entry: its last sign of life.
    public var last: JournalLine?
    public var shutdown: [ShutdownStep] = []
    public var powerKey: JournalLine?
    public var commands: [UserCommand] = []
    /// Starts of units whose names say they reboot or shut down (machine-config-daemon-reboot…).
    public var serviceStarts: [JournalLine] = []
    /// OOM kills, hung tasks, lockups, panics, in the kernel's lines near the end.
    public var kernelTrouble: [JournalLine] = []
    public var restarts: [RestartCount] = []
    /// The boot's last few entries, oldest first.
    public var tail: [JournalLine] = []
    /// ssh logins still open as the shutdown began (text logs only: they
    /// cannot tie a reboot to a login session, only say who was connected).
    public var openLogins: [JournalLine] = []
    /// Entries shaped like any of the above whose writer cannot vouch for
    /// them (a user's `logger -t sudo`, an sd_journal_send with logind's
    /// MESSAGE_ID): never evidence for a verdict, a finding of their own.
    public var forgeries: [ForgedLine] = []

    public init() {}

    /// An orderly shutdown ran, as far as this journal shows.
    public var shutdownBegan: Bool { !shutdown.isEmpty }

    /// The most specific action the shutdown steps name.
    public var shutdownAction: RebootAction? { shutdown.lazy.compactMap(\.action).last }
}

public enum JournalEvidence {
    static let lineFields = ["MESSAGE", "SYSLOG_IDENTIFIER", "UNIT", "MESSAGE_ID"] + JournalWriter.fields
    /// Bounds of each read, in entries.
    static let tailLength = 12, pid1Window = 2000, logindWindow = 200, commandWindow = 500
    static let unitWindow = 300, kernelWindow = 3000, restartWindow = 500, nextBootKernelWindow = 4000
    /// How far before the boot's last entry PID 1's lines are read for the shutdown (µs).
    static let shutdownSpan: Int64 = 30 * 60 * 1_000_000

    /// Did `boot` finish starting up (PID 1 said "Startup finished")? nil
    /// when the journal has no line of PID 1 in that boot to tell.
    public static func finishedStartup(_ boot: String, in journal: JournalReader) -> Bool? {
        let id = JournalMatch.boot(boot)
        if journal.edge(JournalMatch([id, "_PID=1", "MESSAGE_ID=" + MessageID.startupFinished]), .forward) != nil { return true }
        return journal.edge(JournalMatch([id, "_PID=1"]), .forward) == nil ? nil : false
    }

    /// Facts of `boot` (either id form) from `journal`.
    /// `accounts` names a uid (this host's user database by default).
    public static func facts(of boot: String, in journal: JournalReader,
                             accounts: (UInt32) -> String? = UserNames().name) -> JournalBootFacts {
        let id = JournalMatch.boot(boot)
        var facts = JournalBootFacts()
        facts.first = journal.edge(JournalMatch([id]), .forward)?.time
        let tail = journal.entries(JournalMatch([id]), .backward, limit: tailLength, fields: lineFields)
        facts.tail = tail.reversed().map(JournalLine.init)
        facts.last = facts.tail.last
        guard let end = tail.first?.realtime else { return facts }

        var vouching = Vouching()
        facts.shutdown = shutdownSteps(id, journal, notBefore: end - shutdownSpan, &vouching)
        let logind = journal.entries(JournalMatch(anyOf: [[id, "SYSLOG_IDENTIFIER=systemd-logind"],
                                                          [id, "MESSAGE_ID=" + MessageID.shutdown],
                                                          [id, "MESSAGE_ID=" + MessageID.powerKey]]), .backward,
                                     limit: logindWindow, fields: lineFields + ["SHUTDOWN"])
        for entry in vouching.keep(logind.reversed(), by: .logind) {
            if entry["MESSAGE_ID"] == MessageID.shutdown {
                facts.shutdown.append(ShutdownStep(line: JournalLine(entry), action: logindAction(entry["SHUTDOWN"])))
            } else if entry["MESSAGE_ID"] == MessageID.powerKey || entry.message.hasPrefix("Power key pressed") {
                facts.powerKey = JournalLine(entry)
            }
        }
        facts.shutdown.sort { ($0.line.time ?? "") < ($1.line.time ?? "") }
        facts.commands = userCommands(id, journal, accounts, &vouching)
        // A system unit's start is PID 1's to say (a user manager writes USER_UNIT, never UNIT).
        let starts = journal.entries(
            JournalMatch([id, "MESSAGE_ID=" + MessageID.unitStarting, "MESSAGE_ID=" + MessageID.unitStarted]),
            .backward, limit: unitWindow, fields: lineFields
        ).reversed().filter { isRebootingUnit($0["UNIT"]) }
        facts.serviceStarts = vouching.keep(starts, by: .systemd).map(JournalLine.init)
        // The kernel's lines, and lines that only call themselves "kernel".
        let kernel = journal.entries(JournalMatch(anyOf: [[id, "_TRANSPORT=kernel"], [id, "SYSLOG_IDENTIFIER=kernel"]]), .backward,
                                     limit: kernelWindow, fields: lineFields)
            .reversed().filter { $0.message.includesAny(troubleMarkers) }
        facts.kernelTrouble = vouching.keep(kernel, by: .kernel).map(JournalLine.init)
        facts.restarts = restartCounts(id, journal, &vouching)
        facts.forgeries = vouching.forgeries
        return facts
    }

    // MARK: - The shutdown sequence

    static let shutdownTargets: [String: RebootAction?] = [
        "reboot.target": .restart, "systemd-reboot.service": .restart, "poweroff.target": .powerOff,
        "systemd-poweroff.service": .powerOff, "halt.target": .halt, "systemd-halt.service": .halt,
        "kexec.target": .kexec, "systemd-kexec.service": .kexec, "shutdown.target": nil, "final.target": nil,
    ]

    /// PID 1's own lines near the end: the shutdown targets it reached, and
    /// "Reboot requested from client PID N ('comm') (unit U)".
    static func shutdownSteps(_ id: String, _ journal: JournalReader, notBefore: Int64?, _ vouching: inout Vouching) -> [ShutdownStep] {
        let pid1 = journal.entries(JournalMatch([id, "_PID=1"]), .backward, notBefore: notBefore, limit: pid1Window,
                                   fields: lineFields)
        // Lines shaped like PID 1's steps from anyone else: a system target's
        // start (UNIT=, never a user manager's USER_UNIT=), or a client request.
        let claims = journal.entries(JournalMatch(anyOf: [[id, "MESSAGE_ID=" + MessageID.unitStarted],
                                                          [id, "SYSLOG_IDENTIFIER=systemd"]]),
                                     .backward, notBefore: notBefore, limit: pid1Window, fields: lineFields)
            .filter { ($0["UNIT"].map { shutdownTargets.index(forKey: $0) != nil } ?? false) || clientRequest($0.message) != nil }
        _ = vouching.keep(claims, by: .systemd)
        var steps: [ShutdownStep] = []
        for entry in vouching.keep(pid1.reversed(), by: .systemd) {
            if entry["MESSAGE_ID"] == MessageID.unitStarted, let unit = entry["UNIT"], let action = shutdownTargets[unit] {
                steps.append(ShutdownStep(line: JournalLine(entry), action: action))
            } else if let (action, requester) = clientRequest(entry.message) {
                steps.append(ShutdownStep(line: JournalLine(entry), action: action, requester: requester))
            }
        }
        return steps
    }

    /// systemd's log_caller(): "Reboot requested from client PID 644 ('systemctl') (unit x.service)...".
    public static func clientRequest(_ message: String) -> (RebootAction, ShutdownStep.Requester)? {
        guard let range = message.locate(" requested from client PID ") else { return nil }
        let method = message[..<range.lowerBound].lowercased().filter { $0 != "-" }
        let actions: [String: RebootAction] = ["reboot": .restart, "poweroff": .powerOff, "halt": .halt, "kexec": .kexec]
        guard let action = actions[method] else { return nil }
        let rest = message[range.upperBound...]
        guard let pid = UInt32(rest.prefix { $0.isNumber }) else { return nil }
        let comm = rest.between("('", "')").map(String.init)
        let unit = rest.between("(unit ", ")").map(String.init)
        return (action, ShutdownStep.Requester(pid: pid, comm: comm, unit: unit))
    }

    public static func logindAction(_ verb: String?) -> RebootAction? {
        (["reboot": .restart, "power-off": .powerOff, "poweroff": .powerOff, "halt": .halt, "kexec": .kexec] as [String: RebootAction])[verb ?? ""]
    }

    /// Units that exist to reboot or shut down, other than systemd's own steps.
    public static func isRebootingUnit(_ unit: String?) -> Bool {
        guard let unit, shutdownTargets.index(forKey: unit) == nil,
              !["umount.target", "systemd-update-utmp-runlevel.service"].contains(unit) else { return false }
        let name = unit.lowercased()
        // Our own unit records reboots; it does not ask for them.
        guard !name.hasPrefix("reboot-witness") else { return false }
        return name.includesAny(["reboot", "shutdown", "poweroff", "power-off", "halt", "kexec"])
    }

    // MARK: - People: sudo and pkexec, their login sessions, the ssh client

    static func userCommands(_ id: String, _ journal: JournalReader, _ accounts: (UInt32) -> String?,
                             _ vouching: inout Vouching) -> [UserCommand] {
        let entries = journal.entries(JournalMatch([id, "SYSLOG_IDENTIFIER=sudo", "SYSLOG_IDENTIFIER=pkexec"]), .backward,
                                      limit: commandWindow, fields: lineFields + ["_AUDIT_SESSION"])
        let sudo = vouching.keep(entries.reversed().filter { $0["SYSLOG_IDENTIFIER"] != "pkexec" }, by: .sudo)
        let pkexec = vouching.keep(entries.reversed().filter { $0["SYSLOG_IDENTIFIER"] == "pkexec" }, by: .pkexec)
        return (sudo + pkexec).sorted { $0.realtime < $1.realtime }.compactMap { entry -> UserCommand? in
            guard var command = UserCommandLine.parse(entry.message, identifier: entry["SYSLOG_IDENTIFIER"] ?? "sudo",
                                                      time: entry.time) else { return nil }
            let voucher: JournalVoucher = entry["SYSLOG_IDENTIFIER"] == "pkexec" ? .pkexec : .sudo
            guard JournalVoucher.namesWriter(command.user, JournalWriter(entry), accounts: accounts) else {
                vouching.refuse(entry, posingAs: voucher)
                return nil
            }
            command.session = entry["_AUDIT_SESSION"].flatMap { UInt32($0) }
            command.pid = entry["_PID"].flatMap { UInt32($0) }
            if let session = command.session {
                command.sshPeer = sshPeer(session: session, boot: id, journal, &vouching)
            }
            return command
        }
    }

    /// The ssh client of audit session `session`, from whichever of these
    /// the journal kept: logind's "New session" (its LEADER is the sshd
    /// process that logged "Accepted … from ADDR port P"); sshd's own lines
    /// of the session ("Disconnected from user U ADDR port P"); sshd's
    /// "session opened" line and the "Accepted" line of the same process.
    /// (journald caches a process's audit session for a while, so sshd's
    /// lines right after login may carry none.)
    static func sshPeer(session: UInt32, boot id: String, _ journal: JournalReader, _ vouching: inout Vouching) -> String? {
        let sshd = ["SYSLOG_IDENTIFIER=sshd", "SYSLOG_IDENTIFIER=sshd-session"]
        func acceptedBy(_ pid: String, before: Int64?, _ vouching: inout Vouching) -> String? {
            let lines = journal.entries(JournalMatch([id, "_PID=" + pid] + sshd), before == nil ? .forward : .backward,
                                        start: before, limit: 20, fields: lineFields)
            return vouching.keep(lines, by: .sshd).lazy.compactMap { peer(in: $0.message) }.first
        }
        let logins = journal.entries(JournalMatch([id, "MESSAGE_ID=" + MessageID.sessionStart, "SESSION_ID=\(session)"]),
                                     .forward, limit: 5, fields: lineFields + ["LEADER"])
        if let login = vouching.keep(logins, by: .logind).first,
           let leader = login["LEADER"], let found = acceptedBy(leader, before: login.realtime, &vouching) {
            return found
        }
        let own = vouching.keep(journal.entries(JournalMatch([id, "_AUDIT_SESSION=\(session)"] + sshd), .forward, limit: 20,
                                                fields: lineFields), by: .sshd)
        if let found = own.lazy.compactMap({ peer(in: $0.message) }).first { return found }
        return own.first?["_PID"].flatMap { acceptedBy($0, before: own.first?.realtime, &vouching) }
    }

    /// The client in sshd's lines: "Accepted publickey for alice from 10.0.0.5 port 51633 ssh2",
    /// "Disconnected from user alice 10.0.0.5 port 51633", "Received disconnect from 10.0.0.5 port 51633:11: …"
    /// → "10.0.0.5:51633" (IPv6: "[addr]:port").
    public static func peer(in message: String) -> String? {
        guard let port = message.locate(" port "), message[..<port.lowerBound].includes(" from ") else { return nil }
        let address = message[..<port.lowerBound].split(separator: " ").last ?? ""
        let number = message[port.upperBound...].prefix { $0.isNumber }
        guard !number.isEmpty, address.contains(where: { $0 == "." || $0 == ":" }),
              address.allSatisfy({ $0.isHexDigit || $0 == "." || $0 == ":" || $0 == "%" || $0.isLetter || $0 == "-" }) else {
            return nil
        }
        return address.contains(":") ? "[\(address)]:\(number)" : "\(address):\(number)"
    }

    // MARK: - Kernel trouble, crash loops

    static let troubleMarkers = ["Out of memory", "invoked oom-killer", "oom-kill:", "blocked for more than",
                                 "soft lockup", "hard LOCKUP", "Kernel panic", "watchdog: BUG", "rcu_sched self-detected stall",
                                 "rcu: INFO: rcu_preempt detected stalls"]

    /// The highest restart counter of each unit systemd restarted in a loop,
    /// from the newest and the oldest restart messages of the boot (a loop
    /// that stopped early is found from its first messages, then its last
    /// message through the unit's own match).
    static func restartCounts(_ id: String, _ journal: JournalReader, _ vouching: inout Vouching) -> [RestartCount] {
        let match = [id, "MESSAGE_ID=" + MessageID.restartScheduled]
        let fields = lineFields + ["N_RESTARTS"]
        var best: [String: RestartCount] = [:]
        func note(_ entry: JournalEntry) {
            guard let unit = entry["UNIT"], let count = restartCounter(entry) else { return }
            if count > best[unit]?.count ?? 0 { best[unit] = RestartCount(unit: unit, count: count, time: entry.time) }
        }
        // A system unit's restarts are PID 1's to count.
        vouching.keep(journal.entries(JournalMatch(match), .backward, limit: restartWindow, fields: fields), by: .systemd).forEach(note)
        let early = vouching.keep(journal.entries(JournalMatch(match), .forward, limit: restartWindow, fields: fields), by: .systemd)
        for unit in Set(early.compactMap { $0["UNIT"] }) where best[unit] == nil {
            if let last = journal.edge(JournalMatch(match + ["UNIT=" + unit, "_PID=1"]), .backward, fields: fields) { note(last) }
        }
        return best.values.sorted { $0.count > $1.count }
    }

    public static func restartCounter(_ entry: JournalEntry) -> UInt64? {
        if let n = entry["N_RESTARTS"].flatMap({ UInt64($0) }) { return n }
        guard let range = entry.message.locate("restart counter is at ") else { return nil }
        return UInt64(entry.message[range.upperBound...].prefix { $0.isNumber })
    }

    // MARK: - The next boot

    static let uncleanMarkers = ["recovery complete", "Starting recovery", "Ending recovery", "orphan cleanup",
                                 "was not properly unmounted", "mounting unchecked fs", "needs_recovery",
                                 "replaying log", "recovering journal", "uncleanly shut down", "was not closed correctly",
                                 "corrupted or uncleanly"]

    /// Lines of the boot that followed `boot` saying its file systems or
    /// journal were not closed cleanly: the kernel's first lines, journald's
    /// and systemd-fsck's, each from its own writer; and those that only
    /// pose as them.
    public static func uncleanMarkers(nextBoot: String, in journal: JournalReader) -> (lines: [JournalLine], forgeries: [ForgedLine]) {
        let id = JournalMatch.boot(nextBoot)
        var vouching = Vouching()
        let kernel = journal.entries(JournalMatch([id, "_TRANSPORT=kernel"]), .forward, limit: nextBootKernelWindow,
                                     fields: lineFields).filter { isUncleanMarker($0.message) }
        let daemons = journal.entries(JournalMatch([id, "SYSLOG_IDENTIFIER=systemd-journald", "SYSLOG_IDENTIFIER=systemd-fsck"]),
                                      .forward, limit: 200, fields: lineFields).filter { isUncleanMarker($0.message) }
        let lines = vouching.keep(kernel, by: .kernel)
            + vouching.keep(daemons.filter { $0["SYSLOG_IDENTIFIER"] == "systemd-journald" }, by: .journald)
            + vouching.keep(daemons.filter { $0["SYSLOG_IDENTIFIER"] == "systemd-fsck" }, by: .fsck)
        return (lines.map(JournalLine.init), vouching.forgeries)
    }

    public static func isUncleanMarker(_ message: String) -> Bool {
        message.includesAny(uncleanMarkers)
    }
}

extension Substring {
    /// The text between the first `open` and the next `close`.
    func between(_ open: String, _ close: String) -> Substring? {
        guard let start = locate(open), let end = self[start.upperBound...].locate(close) else { return nil }
        return self[start.upperBound..<end.lowerBound]
    }
}

/// A boot the journal knows: its id and the times of its first and last entries.
public struct JournalBoot: Equatable, Sendable {
    /// Dashed, as /proc and the store write it.
    public var id: String
    public var first: Instant
    public var last: Instant

    public init(id: String, first: Instant, last: Instant) {
        self.id = id; self.first = first; self.last = last
    }

    /// Every boot in `journal`, oldest first: the distinct _BOOT_ID values,
    /// then each one's first and last entry through its match. At most `limit`.
    public static func list(in journal: JournalReader, limit: Int = 4096) -> [JournalBoot] {
        journal.uniqueValues("_BOOT_ID", limit: limit).compactMap { id -> JournalBoot? in
            let match = JournalMatch(["_BOOT_ID=" + id])
            guard let first = journal.edge(match, .forward), let last = journal.edge(match, .backward) else { return nil }
            return JournalBoot(id: JournalReader.dashedBootID(id), first: Instant(microseconds: first.realtime),
                               last: Instant(microseconds: last.realtime))
        }.sorted { $0.first < $1.first }
    }
}

/// Sorts entries by whether their writer vouches for them, keeping the forgeries.
struct Vouching {
    private(set) var forgeries: [ForgedLine] = []
    private var seen = Set<String>()

    /// The entries `voucher` vouches for; the others become forgeries (once each).
    mutating func keep<S: Sequence>(_ entries: S, by voucher: JournalVoucher) -> [JournalEntry] where S.Element == JournalEntry {
        var kept: [JournalEntry] = []
        for entry in entries {
            let writer = JournalWriter(entry)
            if voucher.vouches(for: writer) {
                kept.append(entry)
            } else {
                refuse(entry, posingAs: voucher)
            }
        }
        return kept
    }

    /// Records `entry` as a forgery (once; at most 50 kept).
    mutating func refuse(_ entry: JournalEntry, posingAs voucher: JournalVoucher) {
        guard seen.insert("\(entry.realtime)\u{1f}\(entry.message)").inserted, forgeries.count < 50 else { return }
        forgeries.append(ForgedLine(line: JournalLine(entry), posingAs: voucher, writer: JournalWriter(entry)))
    }
}
