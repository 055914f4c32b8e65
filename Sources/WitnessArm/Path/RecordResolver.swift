import WitnessReport
import Glibc
import WitnessAttribution
import WitnessCapture
import WitnessStore
import WitnessSystem
import WitnessModel

/// Turns what the kernel captured into a `CallerRecord`: names for uids,
/// container and pod from the cgroup path, symbols for the stack, wall time.
/// Runs in the boot that captured the record (kallsyms and boot id change).
public final class RecordResolver {
    public let bootID: String
    /// Pod names from the kubelet's log directories, refreshed off the record path.
    public let pods: PodIndex?
    private let users = UserNames()
    private let symbols: KernelSymbols
    /// SSH peers by caller pid and parent: a storm of distinct calls from one
    /// process reads /proc once.
    private var sshPeers: [UInt64: String?] = [:]

    public init(bootID: String = BootIdentity.current(), symbols: KernelSymbols = KernelSymbols(), pods: PodIndex? = nil) {
        self.bootID = bootID
        self.symbols = symbols
        self.pods = pods
    }

    public func resolve(_ r: CapturedRecord) -> CallerRecord {
        let point = r.probePoint
        let isSyscall = point?.isRebootSyscallEntry ?? false
        let isExit = point?.id == .sysExitReboot
        let argv = r.argv
        let cmd: RebootAction? = isSyscall ? RebootCommand.action(magic1: r.magic1, magic2: r.magic2, command: r.command)
            : argv.map(IntentFilter.action) ?? point?.traits.implies.action(argument: r.argument, argumentInt: r.argumentInt)
        let attribution = CgroupAttribution(cgroupPath: r.cgroupPath)
        let interrupt = point?.interruptContext ?? false
        var record = CallerRecord(
            bootID: bootID,
            time: WallClock.iso8601(bootNanoseconds: r.bootNanoseconds),
            probe: point?.id ?? ProbeID(rawValue: "probe#\(r.probe)"),
            attach: r.attach?.rawValue,
            cmd: isExit ? nil : cmd,
            cmdArg: argv.map { $0.joined(separator: " ") + (r.argumentTruncated ? " …" : "") } ?? r.argument,
            magic1: isSyscall ? r.magic1 : nil,
            magic2: isSyscall ? r.magic2 : nil,
            retval: r.returnValue,
            held: r.held,
            pid: r.pid, tid: r.tid, ppid: r.ppid,
            comm: r.comm,
            exe: isExit ? nil : r.exe,
            uid: r.uid, user: users.name(r.uid), gid: r.gid, euid: r.euid,
            loginuid: r.loginuid, loginUser: r.loginuid.flatMap { users.name($0) },
            sessionid: r.sessionid,
            tty: r.tty,
            cgroup: isExit ? nil : r.cgroupPath,
            cgroupID: isExit ? nil : (r.cgroupV1ID ?? r.cgroupID),
            cgroupV1: r.cgroupIsV1,
            container: attribution.container,
            podUID: attribution.podUID,
            pidNs: isExit ? nil : r.pidNamespace,
            inInitPidNs: isExit ? nil : r.inInitPidNamespace,
            ancestry: r.ancestry.map { CallerRecord.Ancestor(pid: $0.pid, comm: $0.comm) },
            kernelStack: symbols.symbolize(r.kernelStack),
            context: interrupt ? "interrupt" : "process",
            count: 1)
        record.finalStage = r.finalWait
        if !isExit, attribution.container != nil || attribution.podUID != nil {
            record.pod = pods?.lookup(container: attribution.container, podUID: attribution.podUID)
        }
        record.bootNs = r.bootNanoseconds
        // The ssh session behind a request: only while it is alive, so now.
        if !interrupt && !isExit && (isSyscall || point?.id == .execIntent) {
            let key = UInt64(r.pid) << 32 | UInt64(r.ppid)
            if let known = sshPeers[key] {
                record.sshPeer = known
            } else {
                if sshPeers.count >= 512 { sshPeers.removeAll(keepingCapacity: true) }
                record.sshPeer = SSHPeer.find(pids: [r.pid] + r.ancestry.map(\.pid), comms: [r.comm] + r.ancestry.map(\.comm))
                sshPeers[key] = record.sshPeer
            }
        }
        return record
    }
}
