import WitnessAttribution
import WitnessModel
import WitnessSystem

/// Who wrote a journal entry, from the fields journald stamps itself from
/// the sender's credentials (`_UID`, `_PID`, `_COMM`, `_EXE`,
/// `_SYSTEMD_UNIT`, `_SYSTEMD_CGROUP`, `_TRANSPORT`; the kernel's `SYSLOG_FACILITY`): the only
/// part of an entry a client cannot choose. Every other field —
/// SYSLOG_IDENTIFIER, MESSAGE_ID, UNIT — is the writer's claim.
public struct JournalWriter: Equatable, Sendable {
    /// The trusted fields every evidence query fetches.
    public static let fields = ["_UID", "_PID", "_COMM", "_EXE", "_SYSTEMD_UNIT", "_SYSTEMD_CGROUP", "_TRANSPORT", "SYSLOG_FACILITY"]

    public var uid: UInt32?
    public var pid: UInt32?
    public var comm: String?
    public var exe: String?
    public var unit: String?
    /// The writer's cgroup as the host sees it: a container's root can run
    /// a program at /usr/bin/sudo as uid 0 and write to a journal socket
    /// bind-mounted into it, but it cannot leave its cgroup.
    public var cgroup: String?
    public var transport: String?
    /// syslog facility: 0 (kern) only for the kernel's own lines; the
    /// kernel gives userspace writes to /dev/kmsg LOG_USER at least.
    public var facility: Int?

    public init(uid: UInt32? = nil, pid: UInt32? = nil, comm: String? = nil, exe: String? = nil, unit: String? = nil,
                cgroup: String? = nil, transport: String? = nil, facility: Int? = nil) {
        self.uid = uid; self.pid = pid; self.comm = comm; self.exe = exe; self.unit = unit; self.cgroup = cgroup
        self.transport = transport; self.facility = facility
    }

    public init(_ entry: JournalEntry) {
        self.init(uid: entry["_UID"].flatMap { UInt32($0) }, pid: entry["_PID"].flatMap { UInt32($0) }, comm: entry["_COMM"],
                  exe: entry["_EXE"], unit: entry["_SYSTEMD_UNIT"], cgroup: entry["_SYSTEMD_CGROUP"], transport: entry["_TRANSPORT"],
                  facility: entry["SYSLOG_FACILITY"].flatMap { Int($0) })
    }

    /// The container the writer ran in, if its cgroup names one.
    public var container: ContainerID? { cgroup.flatMap { CgroupAttribution(cgroupPath: $0).container } }

    /// The executable's file name (sudo for /usr/bin/sudo), else the comm.
    var program: String? { exe.map { String($0.split(separator: "/").last ?? Substring($0)) } ?? comm }

    /// "uid 1000 (python3, /usr/bin/python3.11)", "the kernel", for findings.
    public var description: String {
        if transport == "kernel" { return facility == 0 ? "the kernel" : "a process writing to /dev/kmsg (facility \(facility ?? -1))" }
        let who = [comm, exe].compactMap { $0 }.joined(separator: ", ")
        let id = uid.map { "uid \($0)" } ?? "an unknown uid"
        let inside = container.map { " in \($0.runtime) container \($0.id.prefix(12))" } ?? ""
        return id + (who.isEmpty ? "" : " (\(who))") + (pid.map { " pid \($0)" } ?? "") + inside
    }
}

/// Which writers vouch for each kind of fact the verdicts use. An entry
/// that claims to be one of them (its SYSLOG_IDENTIFIER, its MESSAGE_ID)
/// without the matching trusted fields never supports a verdict: it is a
/// forgery, and shown as one.
public enum JournalVoucher: String, Sendable, CaseIterable {
    case sudo, pkexec
    case logind = "systemd-logind"
    case sshd
    /// PID 1 (its own lines, `_PID=1`).
    case systemd
    case kernel
    case journald = "systemd-journald"
    case fsck = "systemd-fsck"

    /// Does `writer` vouch for a line of this kind?
    public func vouches(for writer: JournalWriter) -> Bool {
        // The host's sudo, logind, sshd, PID 1, journald and fsck never run
        // inside a container; a container's root can pose as any of them.
        if self != .kernel && writer.container != nil { return false }
        switch self {
        case .kernel:
            return writer.transport == "kernel" && writer.facility == 0
        case .systemd:
            return writer.pid == 1 && writer.transport != "kernel"
        case .sudo, .pkexec:
            // journald stamps the sender's real uid: the invoking user's, for
            // the setuid-root sudo and pkexec. So a non-root writer vouches
            // only as the system's own binary (a copy elsewhere is the user's
            // program), and only for lines naming itself (`namesWriter`).
            guard writer.program == rawValue else { return false }
            return writer.uid == 0 || Self.systemPaths.contains(writer.exe ?? "")
        case .logind:
            return writer.uid == 0 && (writer.unit == "systemd-logind.service" || writer.program == "systemd-logind")
        case .sshd:
            return writer.uid == 0 && ["sshd", "sshd-session"].contains(writer.program ?? "")
        case .journald:
            return writer.uid == 0 && (writer.transport == "driver" || writer.program == "systemd-journald")
        case .fsck:
            return writer.uid == 0 && writer.program == "systemd-fsck"
        }
    }

    /// Where distributions install the setuid sudo and pkexec.
    static let systemPaths: Set<String> = ["/usr/bin/sudo", "/bin/sudo", "/usr/local/bin/sudo", "/usr/bin/pkexec", "/bin/pkexec"]

    /// A person named in a sudo or pkexec line run by a non-root writer must
    /// be that writer: otherwise anyone able to put a program where /usr/bin/sudo
    /// appears to be (a private mount namespace) could blame someone else.
    /// Root's lines, and names this host cannot resolve (a journal copied
    /// from elsewhere), are taken as written.
    public static func namesWriter(_ user: String, _ writer: JournalWriter, accounts: (UInt32) -> String?) -> Bool {
        guard let uid = writer.uid, uid != 0, let name = accounts(uid) else { return true }
        return name == user
    }

    /// The claim as a journal match: whom a line says it comes from.
    var identifiers: [String] {
        switch self {
        case .sshd: return ["sshd", "sshd-session"]
        default: return [rawValue]
        }
    }
}

/// An entry shaped like evidence of a kind its writer cannot vouch for.
public struct ForgedLine: Equatable, Sendable {
    public var line: JournalLine
    /// What it posed as.
    public var posingAs: JournalVoucher
    public var writer: JournalWriter

    public init(line: JournalLine, posingAs: JournalVoucher, writer: JournalWriter) {
        self.line = line; self.posingAs = posingAs; self.writer = writer
    }

    /// "a line posing as sudo, written by uid 1000 (python3, /usr/bin/python3.11): …"
    public var finding: String {
        "a line posing as \(posingAs.rawValue), written by \(writer.description): \(line.quoted)"
    }
}
