import WitnessReport
import WitnessAttribution
import WitnessStore
import WitnessSystem
import WitnessModel

/// A record of a live process from /proc (for callers BPF did not see, such
/// as D-Bus senders): the same fields a BPF record carries, as far as /proc
/// still tells them.
enum ProcessAttribution {
    static func record(pid: UInt32, bootID: String, time: String, probe: ProbeID, cmd: RebootAction?, cmdArg: String?,
                       senderOwnsLogin1: Bool? = nil, proc: String = "/proc") -> CallerRecord {
        let base = "\(proc)/\(pid)"
        let status = ProcStatus(Files.readText("\(base)/status") ?? "")
        let uids = status.ids("Uid"), gids = status.ids("Gid")
        let loginuid = ProcText.auditID(Files.readLine("\(base)/loginuid"))
        let sessionid = ProcText.auditID(Files.readLine("\(base)/sessionid"))
        let placed = ProcText.systemdCgroup(Files.readText("\(base)/cgroup") ?? ""), cgroup = placed?.path
        let attribution = CgroupAttribution(cgroupPath: cgroup ?? "")
        var ancestry: [CallerRecord.Ancestor] = []
        var parent = parentPID(of: pid, proc: proc)
        while let p = parent, p > 0, ancestry.count < 10 {
            ancestry.append(.init(pid: p, comm: Files.readLine("\(proc)/\(p)/comm") ?? "?"))
            parent = p == 1 ? nil : parentPID(of: p, proc: proc)
        }
        let pidNs = SystemCalls.readLink("\(base)/ns/pid").flatMap { ProcText.namespaceInode(link: $0) }
        // The initial PID namespace as arm sees it (its PID 1's): a sender in another one is in a container
        // whatever its cgroup says. nil where either link cannot be read.
        let initPidNs = SystemCalls.readLink("\(proc)/1/ns/pid").flatMap { ProcText.namespaceInode(link: $0) }
        let users = UserNames()
        var record = CallerRecord(
            bootID: bootID, time: time, probe: probe, attach: nil, cmd: cmd, cmdArg: cmdArg, magic1: nil, magic2: nil,
            retval: nil, pid: pid, tid: pid, ppid: ancestry.first?.pid ?? 0,
            comm: pid == 0 ? "(sender gone)" : Files.readLine("\(base)/comm") ?? "(exited)",
            exe: SystemCalls.readLink("\(base)/exe"), uid: uids.first ?? 0, user: uids.first.flatMap { users.name($0) },
            gid: gids.first ?? 0, euid: uids.dropFirst().first ?? 0, loginuid: loginuid,
            loginUser: loginuid.flatMap { users.name($0) }, sessionid: sessionid, tty: nil, cgroup: cgroup,
            cgroupID: nil, cgroupV1: placed?.v1 ?? false, container: attribution.container, podUID: attribution.podUID,
            pidNs: pidNs, inInitPidNs: pidNs.flatMap { own in initPidNs.map { $0 == own } }, ancestry: ancestry, kernelStack: [], context: "process", count: 1)
        record.senderOwnsLogin1 = senderOwnsLogin1
        record.sshPeer = SSHPeer.find(pids: [pid] + ancestry.map(\.pid), proc: proc)
        return record
    }

    static func parentPID(of pid: UInt32, proc: String) -> UInt32? {
        Files.readText("\(proc)/\(pid)/stat").flatMap(ProcTaskStat.init)?.parentPID
    }
}
