
/// One captured caller, resolved and ready to store and print. Its JSON form
/// is the `dump --json` contract: every key is always present (null when
/// unknown), names are snake_case.
public struct CallerRecord: Codable, Equatable, Sendable {
    public struct Ancestor: Codable, Equatable, Sendable {
        public var pid: UInt32
        public var comm: String
        public init(pid: UInt32, comm: String) {
            self.pid = pid
            self.comm = comm
        }
    }

    public var bootID: String
    /// ISO 8601 UTC with milliseconds.
    public var time: String
    /// The kernel's CLOCK_BOOTTIME of the call (nil for records not from a
    /// probe): with `tid`, how a restarted arm finds the record of a caller
    /// whose repeats the kernel kept counting.
    public var bootNs: UInt64?
    public var probe: ProbeID
    public var attach: String?
    /// What the call or request does (RESTART, POWER_OFF… in JSON), INVALID
    /// for a refused reboot(2), nil where no action applies.
    public var cmd: RebootAction?
    public var cmdArg: String?
    public var magic1: UInt32?
    public var magic2: UInt32?
    /// sys_exit_reboot's value (only on those records; `dump` joins it to the entry).
    public var retval: Int64?
    /// Denied by the hold and replayed by the witness once this was durable
    /// (the original caller saw EPERM).
    public var held: Bool
    /// PID 1's last call, written through the block device after the store
    /// was closed for systemd-shutdown; the call waited in the kernel for it.
    public var finalStage = false
    public var pid: UInt32
    public var tid: UInt32
    public var ppid: UInt32
    public var comm: String
    public var exe: String?
    public var uid: UInt32
    public var user: String?
    public var gid: UInt32
    public var euid: UInt32
    public var loginuid: UInt32?
    public var loginUser: String?
    public var sessionid: UInt32?
    public var tty: String?
    public var cgroup: String?
    public var cgroupID: UInt64?
    public var cgroupV1: Bool
    public var container: ContainerID?
    public var podUID: String?
    /// The pod by name, resolved while it existed (from the kubelet's log directories).
    public var pod: PodIdentity?
    public var pidNs: UInt32?
    public var inInitPidNs: Bool?
    /// D-Bus records: whether the sender owned org.freedesktop.login1
    /// (logind's bus name) when its call was seen, as the bus daemon said;
    /// nil for other records, those of earlier builds, or when the bus would not say.
    public var senderOwnsLogin1: Bool?
    public var ancestry: [Ancestor]
    public var kernelStack: [String]
    /// "process", or "interrupt" where the current task is not the caller
    /// (softdog's timer, Ctrl-Alt-Del's IRQ): then only the stack tells.
    public var context: String
    /// Identical calls in one boot share a record: how many, and the last one.
    public var count: UInt64
    public var lastTime: String?
    /// "address:port" of the ssh client the caller's session came from.
    public var sshPeer: String?
    /// `dump` only: for a reboot(2) by PID 1 (a graceful reboot), the intent
    /// that asked for it (the exec of `reboot`, `systemctl reboot`…).
    public var initiator: Initiator?

    enum CodingKeys: String, CodingKey {
        case bootID = "boot_id", time, bootNs = "boot_ns", probe, attach, cmd, cmdArg = "cmd_arg", magic1, magic2, retval, held, finalStage = "final_stage"
        case pid, tid, ppid, comm, exe, uid, user, gid, euid, loginuid, loginUser = "login_user", sessionid, tty
        case cgroup, cgroupID = "cgroup_id", cgroupV1 = "cgroup_v1", container, podUID = "pod_uid", pod
        case pidNs = "pid_ns", inInitPidNs = "in_init_pid_ns", senderOwnsLogin1 = "sender_owns_login1", ancestry
        case kernelStack = "kernel_stack"
        case context, count, lastTime = "last_time", sshPeer = "ssh_peer", initiator
    }

    public init(bootID: String, time: String, probe: ProbeID, attach: String?, cmd: RebootAction?, cmdArg: String?,
                magic1: UInt32?, magic2: UInt32?, retval: Int64?, held: Bool = false, pid: UInt32, tid: UInt32, ppid: UInt32,
                comm: String, exe: String?, uid: UInt32, user: String?, gid: UInt32, euid: UInt32,
                loginuid: UInt32?, loginUser: String?, sessionid: UInt32?, tty: String?, cgroup: String?,
                cgroupID: UInt64?, cgroupV1: Bool, container: ContainerID?, podUID: String?, pidNs: UInt32?,
                inInitPidNs: Bool?, ancestry: [Ancestor], kernelStack: [String], context: String, count: UInt64) {
        self.bootID = bootID; self.time = time; self.probe = probe; self.attach = attach; self.cmd = cmd
        self.cmdArg = cmdArg; self.magic1 = magic1; self.magic2 = magic2; self.retval = retval; self.held = held; self.pid = pid
        self.tid = tid; self.ppid = ppid; self.comm = comm; self.exe = exe; self.uid = uid; self.user = user
        self.gid = gid; self.euid = euid; self.loginuid = loginuid; self.loginUser = loginUser
        self.sessionid = sessionid; self.tty = tty; self.cgroup = cgroup; self.cgroupID = cgroupID
        self.cgroupV1 = cgroupV1; self.container = container; self.podUID = podUID; self.pidNs = pidNs
        self.inInitPidNs = inInitPidNs; self.ancestry = ancestry; self.kernelStack = kernelStack
        self.context = context; self.count = count
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        bootID = try c.decode(String.self, forKey: .bootID)
        time = try c.decode(String.self, forKey: .time)
        bootNs = try c.decodeIfPresent(UInt64.self, forKey: .bootNs)
        probe = try c.decode(ProbeID.self, forKey: .probe)
        attach = try c.decodeIfPresent(String.self, forKey: .attach)
        // A command this version does not know reads as none rather than failing the record.
        cmd = try c.decodeIfPresent(String.self, forKey: .cmd).flatMap(RebootAction.init(rawValue:))
        cmdArg = try c.decodeIfPresent(String.self, forKey: .cmdArg)
        magic1 = try c.decodeIfPresent(UInt32.self, forKey: .magic1)
        magic2 = try c.decodeIfPresent(UInt32.self, forKey: .magic2)
        retval = try c.decodeIfPresent(Int64.self, forKey: .retval)
        held = try c.decodeIfPresent(Bool.self, forKey: .held) ?? false
        finalStage = try c.decodeIfPresent(Bool.self, forKey: .finalStage) ?? false
        pid = try c.decode(UInt32.self, forKey: .pid)
        tid = try c.decode(UInt32.self, forKey: .tid)
        ppid = try c.decode(UInt32.self, forKey: .ppid)
        comm = try c.decode(String.self, forKey: .comm)
        exe = try c.decodeIfPresent(String.self, forKey: .exe)
        uid = try c.decode(UInt32.self, forKey: .uid)
        user = try c.decodeIfPresent(String.self, forKey: .user)
        gid = try c.decode(UInt32.self, forKey: .gid)
        euid = try c.decode(UInt32.self, forKey: .euid)
        loginuid = try c.decodeIfPresent(UInt32.self, forKey: .loginuid)
        loginUser = try c.decodeIfPresent(String.self, forKey: .loginUser)
        sessionid = try c.decodeIfPresent(UInt32.self, forKey: .sessionid)
        tty = try c.decodeIfPresent(String.self, forKey: .tty)
        cgroup = try c.decodeIfPresent(String.self, forKey: .cgroup)
        cgroupID = try c.decodeIfPresent(UInt64.self, forKey: .cgroupID)
        cgroupV1 = try c.decode(Bool.self, forKey: .cgroupV1)
        container = try c.decodeIfPresent(ContainerID.self, forKey: .container)
        podUID = try c.decodeIfPresent(String.self, forKey: .podUID)
        pod = try c.decodeIfPresent(PodIdentity.self, forKey: .pod)
        pidNs = try c.decodeIfPresent(UInt32.self, forKey: .pidNs)
        inInitPidNs = try c.decodeIfPresent(Bool.self, forKey: .inInitPidNs)
        senderOwnsLogin1 = try c.decodeIfPresent(Bool.self, forKey: .senderOwnsLogin1)
        ancestry = try c.decode([Ancestor].self, forKey: .ancestry)
        kernelStack = try c.decode([String].self, forKey: .kernelStack)
        context = try c.decode(String.self, forKey: .context)
        count = try c.decode(UInt64.self, forKey: .count)
        lastTime = try c.decodeIfPresent(String.self, forKey: .lastTime)
        sshPeer = try c.decodeIfPresent(String.self, forKey: .sshPeer)
        initiator = try c.decodeIfPresent(Initiator.self, forKey: .initiator)
    }

    /// Explicit so that absent values are written as null, never omitted.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(bootID, forKey: .bootID); try c.encode(time, forKey: .time); try c.encode(bootNs, forKey: .bootNs)
        try c.encode(probe, forKey: .probe); try c.encode(attach, forKey: .attach)
        try c.encode(cmd, forKey: .cmd); try c.encode(cmdArg, forKey: .cmdArg)
        try c.encode(magic1, forKey: .magic1); try c.encode(magic2, forKey: .magic2)
        try c.encode(retval, forKey: .retval); try c.encode(held, forKey: .held)
        try c.encode(finalStage, forKey: .finalStage)
        try c.encode(pid, forKey: .pid)
        try c.encode(tid, forKey: .tid); try c.encode(ppid, forKey: .ppid)
        try c.encode(comm, forKey: .comm); try c.encode(exe, forKey: .exe)
        try c.encode(uid, forKey: .uid); try c.encode(user, forKey: .user)
        try c.encode(gid, forKey: .gid); try c.encode(euid, forKey: .euid)
        try c.encode(loginuid, forKey: .loginuid); try c.encode(loginUser, forKey: .loginUser)
        try c.encode(sessionid, forKey: .sessionid); try c.encode(tty, forKey: .tty)
        try c.encode(cgroup, forKey: .cgroup); try c.encode(cgroupID, forKey: .cgroupID)
        try c.encode(cgroupV1, forKey: .cgroupV1); try c.encode(container, forKey: .container)
        try c.encode(podUID, forKey: .podUID); try c.encode(pod, forKey: .pod); try c.encode(pidNs, forKey: .pidNs)
        try c.encode(inInitPidNs, forKey: .inInitPidNs); try c.encode(senderOwnsLogin1, forKey: .senderOwnsLogin1)
        try c.encode(ancestry, forKey: .ancestry)
        try c.encode(kernelStack, forKey: .kernelStack); try c.encode(context, forKey: .context)
        try c.encode(count, forKey: .count); try c.encode(lastTime, forKey: .lastTime)
        try c.encode(sshPeer, forKey: .sshPeer); try c.encode(initiator, forKey: .initiator)
    }

    /// A request to restart, halt or power off (an exec of a reboot-family
    /// tool, or a D-Bus call to logind/systemd), not the act itself.
    public var isIntent: Bool { probe.isIntent }

    /// An intent passed on by the system on someone's behalf (logind asking
    /// systemd to start reboot.target): not who asked.
    public var isRelayedIntent: Bool {
        isIntent && (isLogind || isPidOnesOwnStep || (isSystemService && ppid == 1 && Self.shutdownUnits.contains(systemUnit ?? "")))
    }

    /// PID 1's own last step: PID 1 itself (systemd-shutdown), or the
    /// `kexec -e` that systemd-shutdown forks for a kexec (it runs
    /// kexec-tools rather than doing that work itself).
    public var isPidOnesOwnStep: Bool {
        pid == 1 || (isHostsOwn && ppid == 1 && ancestry.first?.comm.hasPrefix("systemd-shutdow") == true)
    }

    /// systemd's units that carry out a shutdown target for PID 1
    /// (systemd-kexec.service runs `systemctl --force kexec`): not who asked.
    static let shutdownUnits: Set<String> = ["systemd-kexec.service", "systemd-reboot.service", "systemd-poweroff.service",
                                             "systemd-halt.service", "systemd-soft-reboot.service"]

    /// systemd-logind itself. Never by its comm: any process may call itself
    /// "systemd-logind" (prctl) to pass its own request off as logind's relay.
    /// A system service (below) in system.slice/systemd-logind.service; where
    /// no cgroup is known (D-Bus senders stored by earlier builds on cgroup v1
    /// hosts, which kept only the unified line), running logind's binary, as
    /// the sender's own mount namespace names it. Where the bus said who owned
    /// org.freedesktop.login1, that connection only: root can move itself into
    /// logind's cgroup and drop its login uid, not take logind's name while
    /// logind holds it.
    var isLogind: Bool {
        // logind relays over the bus only: a command run from its cgroup (busctl, systemctl) is someone's own.
        guard probe == .dbus, isSystemService, senderOwnsLogin1 != false else { return false }
        if cgroup != nil { return systemUnit == "systemd-logind.service" }
        return Self.logindBinaries.contains(exe ?? "")
    }

    /// Where distributions install logind (/lib: before the /usr merge).
    static let logindBinaries: Set<String> = ["/usr/lib/systemd/systemd-logind", "/lib/systemd/systemd-logind"]

    /// A process PID 1 started as a system service, as far as what no
    /// unprivileged user can set says: real and effective root, no login uid
    /// (a session's processes, sudo's included, keep their user's), on the
    /// host (in no container, and not in another PID namespace where that is
    /// known: D-Bus senders stored by earlier builds do not say), alive when
    /// attributed (its executable known: a sender gone before /proc was read
    /// is no one's service). Root can still pose as one (reset its loginuid
    /// with CAP_AUDIT_CONTROL, move itself into a service's cgroup, be
    /// orphaned to PID 1): logind is told apart by its bus name (`isLogind`),
    /// a shutdown unit's systemctl is not.
    var isSystemService: Bool {
        uid == 0 && euid == 0 && loginuid == nil && exe != nil && inInitPidNs != false && container == nil && podUID == nil
    }

    /// The host's own process: in the initial PID namespace, in no container.
    var isHostsOwn: Bool { inInitPidNs == true && container == nil && podUID == nil }

    /// The unit of its cgroup when that is a unit of system.slice itself
    /// ("/system.slice/NAME.service"): a user may make a cgroup of any name
    /// in their own user@.service, never there. Paths read inside a cgroup
    /// namespace begin with "/.." components.
    var systemUnit: String? {
        var parts = (cgroup ?? "").split(separator: "/")
        while parts.first == ".." { parts.removeFirst() }
        guard parts.count == 2, parts[0] == "system.slice", parts[1].hasSuffix(".service") else { return nil }
        return String(parts[1])
    }

    /// A D-Bus call whose sender left before it could be named (pid 0).
    public var isAnonymousIntent: Bool { isIntent && pid == 0 }

    /// The one rule for who asked for what a boot's records end with, used
    /// by `dump` and `last` alike: among the intents up to `time`, the last
    /// one someone made directly and could be named; else the last one made
    /// directly whose sender was gone (someone asked, unnamed: truer than
    /// naming the system that relayed it); else the last relayed one.
    /// Where the boot ended in `ending` and logind passed a request for that
    /// on (its last such relay, the bus vouching for logind), the job was
    /// queued then: a request made after it did not cause it (someone's
    /// refused `systemctl reboot` while the units stop is not named for it).
    /// `ending` nil: the end is unknown (the witness stopped before PID 1's
    /// last call), so logind's last vouched relay of any action bounds.
    /// `asking`: which requests count (by default those that end the boot:
    /// a soft reboot before it asked for something else); `after`: only
    /// requests made after it (the previous soft reboot's).
    public static func initiatingIntent(in records: [CallerRecord], before time: String, after: String? = nil,
                                        ending: RebootAction? = nil,
                                        asking: (RebootAction) -> Bool = { $0.stops }) -> CallerRecord? {
        var intents = records.filter { r in
            r.isIntent && r.time <= time && after.map { r.time > $0 } != false && r.cmd.map(asking) == true
        }
        let endsAlike = { (cmd: RebootAction?) in ending.map { end in cmd.map { $0.endsAlike(end) } == true } ?? true }
        if let accepted = intents.filter({ $0.isLogind && $0.senderOwnsLogin1 == true && endsAlike($0.cmd) })
            .max(by: { $0.time < $1.time }) {
            intents.removeAll { $0.time > accepted.time }
        }
        return intents.last { !$0.isRelayedIntent && !$0.isAnonymousIntent }
            ?? intents.last { !$0.isRelayedIntent } ?? intents.last
    }

    /// What makes two calls "the same caller" for deduplication within a
    /// boot: a crash loop costs one record whose count grows.
    public var dedupKey: String {
        [bootID, probe.rawValue, attach ?? "", cmd?.rawValue ?? "", cmdArg ?? "", exe ?? comm, cgroup ?? "", context,
         ancestry.map(\.comm).joined(separator: "<")].joined(separator: "\u{1f}")
    }
}
