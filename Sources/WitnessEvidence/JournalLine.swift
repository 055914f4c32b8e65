import WitnessSystem
import WitnessModel

/// One log line worth citing as evidence (a journal entry, or a line of a
/// text syslog file): when, who logged it, what it said, where it was read.
public struct JournalLine: Equatable, Sendable {
    public var time: String?
    /// The systemd unit the entry is about or came from (UNIT, else _SYSTEMD_UNIT).
    public var unit: String?
    /// SYSLOG_IDENTIFIER (sshd, sudo, systemd-logind, kernel…).
    public var identifier: String?
    public var message: String
    /// A text log's file and line ("/var/log/secure:1234"); nil for the journal.
    public var location: String?

    public init(time: String?, unit: String?, identifier: String?, message: String, location: String? = nil) {
        self.time = time; self.unit = unit; self.identifier = identifier; self.message = message; self.location = location
    }

    public init(_ entry: JournalEntry) {
        self.init(time: entry.time, unit: entry["UNIT"] ?? entry["_SYSTEMD_UNIT"],
                  identifier: entry["SYSLOG_IDENTIFIER"] ?? (entry["_TRANSPORT"] == "kernel" ? "kernel" : nil),
                  message: entry.message)
    }

    /// "identifier: message", the form `journalctl` users recognise, and
    /// for a text log the file and line it came from.
    public var quoted: String {
        (identifier.map { "\($0): \(message)" } ?? message) + (location.map { " (\($0))" } ?? "")
    }
}

/// A person's request to restart, halt, power off or kexec the machine, as
/// sudo or pkexec logged it (journal) or sudo's USER_CMD (audit log).
public struct UserCommand: Equatable, Sendable {
    public var time: String
    /// RESTART, POWER_OFF, HALT or KEXEC.
    public var action: RebootAction
    public var command: String
    /// The person behind it (the login user), and the account sudo ran as.
    public var user: String
    public var runAs: String?
    public var tty: String?
    /// The audit session (login session) it ran in, where known.
    public var session: UInt32?
    /// "address:port" of the ssh client that opened that session, where found.
    public var sshPeer: String?
    /// journal (sudo, pkexec) or audit (USER_CMD).
    public var source: String
    /// The program that ran it for the person (sudo, pkexec) and its pid.
    public var tool: String
    public var pid: UInt32?
    /// Where a text log said it ("/var/log/secure:1234"), and where the
    /// login that gave `sshPeer` was (text logs keep no writer: the place is
    /// what a reader checks).
    public var location: String?
    public var sshLocation: String?

    public init(time: String, action: RebootAction, command: String, user: String, runAs: String? = nil, tty: String? = nil,
                session: UInt32? = nil, sshPeer: String? = nil, source: String, tool: String = "sudo", pid: UInt32? = nil) {
        self.time = time; self.action = action; self.command = command; self.user = user; self.runAs = runAs
        self.tty = tty; self.session = session; self.sshPeer = sshPeer; self.source = source; self.tool = tool; self.pid = pid
    }
}

/// A unit whose automatic restarts systemd counted in one boot.
public struct RestartCount: Equatable, Sendable {
    public var unit: String
    /// The highest "restart counter is at N" of that boot.
    public var count: UInt64
    public var time: String?

    public init(unit: String, count: UInt64, time: String?) {
        self.unit = unit; self.count = count; self.time = time
    }
}
