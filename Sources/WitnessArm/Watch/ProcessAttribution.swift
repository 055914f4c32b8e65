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
                       proc: String = "/proc") -> CallerRecord {
        let base = "\(proc)/\(pid)"
        let status = Files.readText("\(base)/status") ?? ""
        func ids(_ key: String) -> [UInt32] {
            status.split(separator: "\n").first { $0.hasPrefix(key + ":") }?
                .split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().compactMap { UInt32($0) } ?? []
        }
        let uids = ids("Uid"), gids = ids("Gid")
        let loginuid = Files.readLine("\(base)/loginuid").flatMap(UInt32.init).flatMap { $0 == UInt32.max ? nil : $0 }
        let sessionid = Files.readLine("\(base)/sessionid").flatMap(UInt32.init).flatMap { $0 == UInt32.max ? nil : $0 }
        let cgroup = (Files.readText("\(base)/cgroup") ?? "").split(separator: "\n")
            .first { $0.hasPrefix("0::") }.map { String($0.dropFirst(3)) }
        let attribution = CgroupAttribution(cgroupPath: cgroup ?? "")
        var ancestry: [CallerRecord.Ancestor] = []
        var parent = parentPID(of: pid, proc: proc)
        while let p = parent, p > 0, ancestry.count < 10 {
            ancestry.append(.init(pid: p, comm: Files.readLine("\(proc)/\(p)/comm") ?? "?"))
            parent = p == 1 ? nil : parentPID(of: p, proc: proc)
        }
        let pidNs = SystemCalls.readLink("\(base)/ns/pid").flatMap { UInt32($0.dropFirst(5).dropLast()) }
        let users = UserNames()
        var record = CallerRecord(
            bootID: bootID, time: time, probe: probe, attach: nil, cmd: cmd, cmdArg: cmdArg, magic1: nil, magic2: nil,
            retval: nil, pid: pid, tid: pid, ppid: ancestry.first?.pid ?? 0,
            comm: pid == 0 ? "(sender gone)" : Files.readLine("\(base)/comm") ?? "(exited)",
            exe: SystemCalls.readLink("\(base)/exe"), uid: uids.first ?? 0, user: uids.first.flatMap { users.name($0) },
            gid: gids.first ?? 0, euid: uids.dropFirst().first ?? 0, loginuid: loginuid,
            loginUser: loginuid.flatMap { users.name($0) }, sessionid: sessionid, tty: nil, cgroup: cgroup,
            cgroupID: nil, cgroupV1: false, container: attribution.container, podUID: attribution.podUID,
            pidNs: pidNs, inInitPidNs: nil, ancestry: ancestry, kernelStack: [], context: "process", count: 1)
        record.sshPeer = SSHPeer.find(pids: [pid] + ancestry.map(\.pid), proc: proc)
        return record
    }

    static func parentPID(of pid: UInt32, proc: String) -> UInt32? {
        guard let stat = Files.readText("\(proc)/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? UInt32(fields[1]) : nil
    }
}
