import WitnessModel
import BPFObjects
import CLibbpf
import CWitness
import Glibc
import SystemPackage
import WitnessSystem

/// How reboot(2) calls are held until their record is durable.
public enum HoldMechanism: String, Sendable, CaseIterable {
    /// BPF LSM `capable` hook (the bpf LSM is active).
    case bpfLSM = "bpf-lsm"
    /// fmod_ret on security_capable: a trampoline on every capability check.
    case fmodRet = "fmod_ret"
}

extension WitnessProbes {
    /// Which hold mechanism this kernel allows, or why none.
    public func holdPlan() -> Result<HoldMechanism, PlanRefusal> {
        if features.activeLSMs?.contains("bpf") == true { return .success(.bpfLSM) }
        if features.fentryUnavailableReason == nil { return .success(.fmodRet) }
        let lsm = features.activeLSMs == nil ? "no securityfs LSM list" : "bpf is not an active LSM"
        return .failure(PlanRefusal("\(lsm), and \(features.fentryUnavailableReason ?? "fmod_ret unavailable")"))
    }

    /// Loads and attaches the hold, trying the BPF LSM then fmod_ret. Needs
    /// `arm` first (it shares the capture's maps).
    func loadHold(only: HoldMechanism?) -> Result<HoldMechanism, PlanRefusal> {
        var candidates: [HoldMechanism] = []
        switch holdPlan() {
        case .success(let first):
            candidates = first == .bpfLSM && features.fentryUnavailableReason == nil ? [.bpfLSM, .fmodRet] : [first]
        case .failure(let refusal):
            return .failure(refusal)
        }
        if let only {
            guard candidates.contains(only) else {
                return .failure(PlanRefusal("\(only.rawValue) is not available on this kernel"))
            }
            candidates = [only]
        }
        var reasons: [String] = []
        for mechanism in candidates {
            let program: BPFProgramName = mechanism == .bpfLSM ? .lsmCapable : .fmodRetSecurityCapable
            do {
                let handle = try open(object: .hold)
                handle.loadOnly([program])
                try handle.load()
                if let unpinned = try handle.attach(program: program, pinAt: holdPinPaths(mechanism, program: program)) {
                    unpinnable["hold"] = unpinned
                }
                retain(handle)
                return .success(mechanism)
            } catch let error as SystemError {
                reasons.append("\(mechanism.rawValue): \(error.operation) \(error.errno.symbolicName)")
            } catch {
                reasons.append("\(mechanism.rawValue): \(error)")
            }
        }
        return .failure(PlanRefusal(reasons.joined(separator: "; ")))
    }
}

/// The controller's side of the hold: the heartbeat the kernel checks.
public final class HoldHeartbeat {
    private let state: BPFMap

    init(state: BPFMap) {
        self.state = state
    }

    /// Tells the kernel the controller is alive (CLOCK_BOOTTIME, the clock of
    /// bpf_ktime_get_boot_ns). Call well within RW_HOLD_HEARTBEAT_NS.
    public func beat() {
        write(enabled: true)
    }

    /// Stops holding immediately (clean stop).
    public func stop() {
        write(enabled: false)
    }

    private func write(enabled: Bool) {
        var beat = rw_hold_state()
        beat.heartbeat_ns = UInt64(SystemCalls.clocks().boottime)
        beat.controller_tgid = UInt32(getpid())
        beat.enabled = enabled ? 1 : 0
        // A failed write leaves the last beat to go stale: the hold fails open.
        try? state.update(UInt32(0), beat)
    }
}

/// What the hold never applies to (fencing agents and the like).
public struct HoldAllowlist: Sendable {
    public var executables: [String] = []
    /// cgroup v2 directories (absolute, under the cgroup2 mount).
    public var cgroups: [String] = []

    public init(executables: [String] = [], cgroups: [String] = []) {
        self.executables = executables
        self.cgroups = cgroups
    }

    /// The kernel's dev_t (MKDEV) for a userspace st_dev (glibc's encoding).
    static func kernelDevice(_ dev: UInt64) -> UInt32 {
        let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfff)
        let minor = (dev & 0xff) | ((dev >> 12) & ~0xff)
        return UInt32(truncatingIfNeeded: (major << 20) | minor)
    }

    /// Fills the kernel's allowlist maps. Paths are resolved now: an
    /// executable replaced later (new inode) is no longer allowed.
    func install(exe exeMap: BPFMap, cgroup cgroupMap: BPFMap) throws {
        for path in executables {
            guard let st = SystemCalls.fileStatus(path), (st.st_mode & S_IFMT) == S_IFREG else {
                throw SystemError("--allow-exe", path, errno: .noSuchFileOrDirectory)
            }
            var key = rw_exe_id()
            key.ino = UInt64(st.st_ino)
            key.dev = Self.kernelDevice(UInt64(st.st_dev))
            try exeMap.update(key, UInt8(1))
        }
        for path in cgroups {
            guard let st = SystemCalls.fileStatus(path), (st.st_mode & S_IFMT) == S_IFDIR,
                  Files.exists(path + "/cgroup.procs") else {
                throw SystemError("--allow-cgroup (not a cgroup directory)", path, errno: .noSuchFileOrDirectory)
            }
            // A cgroup v2 id is its kernfs inode number.
            try cgroupMap.update(UInt64(st.st_ino), UInt8(1))
        }
    }
}
