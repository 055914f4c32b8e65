extension CallerRecord {
    /// Who asked for a graceful reboot, in short.
    public struct Initiator: Codable, Equatable, Sendable {
        public var time: String
        public var cmd: RebootAction?
        public var argv: String?
        public var pid: UInt32
        public var comm: String
        public var exe: String?
        public var user: String?
        public var loginUser: String?
        public var sessionid: UInt32?
        public var tty: String?
        public var sshPeer: String?
        public var cgroup: String?
        public var container: ContainerID?
        public var pod: PodIdentity?
        public var ancestry: [Ancestor]

        enum CodingKeys: String, CodingKey {
            case time, cmd, argv, pid, comm, exe, user, loginUser = "login_user", sessionid, tty, sshPeer = "ssh_peer"
            case cgroup, container, pod, ancestry
        }

        public init(time: String, cmd: RebootAction?, argv: String?, pid: UInt32, comm: String, exe: String?, user: String?,
                    loginUser: String?, sessionid: UInt32?, tty: String?, sshPeer: String?, cgroup: String? = nil,
                    container: ContainerID? = nil, ancestry: [Ancestor] = []) {
            self.time = time; self.cmd = cmd; self.argv = argv; self.pid = pid; self.comm = comm; self.exe = exe
            self.user = user; self.loginUser = loginUser; self.sessionid = sessionid; self.tty = tty
            self.sshPeer = sshPeer; self.cgroup = cgroup; self.container = container; self.ancestry = ancestry
        }

        public init(_ r: CallerRecord) {
            time = r.time; cmd = r.cmd; argv = r.cmdArg; pid = r.pid; comm = r.comm; exe = r.exe; user = r.user
            loginUser = r.loginUser; sessionid = r.sessionid; tty = r.tty; sshPeer = r.sshPeer; cgroup = r.cgroup
            container = r.container; pod = r.pod; ancestry = r.ancestry
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(time, forKey: .time); try c.encode(cmd, forKey: .cmd); try c.encode(argv, forKey: .argv)
            try c.encode(pid, forKey: .pid); try c.encode(comm, forKey: .comm); try c.encode(exe, forKey: .exe)
            try c.encode(user, forKey: .user); try c.encode(loginUser, forKey: .loginUser)
            try c.encode(sessionid, forKey: .sessionid); try c.encode(tty, forKey: .tty)
            try c.encode(sshPeer, forKey: .sshPeer); try c.encode(cgroup, forKey: .cgroup)
            try c.encode(container, forKey: .container); try c.encode(pod, forKey: .pod); try c.encode(ancestry, forKey: .ancestry)
        }
    }
}
