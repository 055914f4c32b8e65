import BPFObjects
import CLibbpf
import CWitness
import Glibc
import SystemPackage
import WitnessSystem

/// How reboot(2) calls are held until their record is durable.
public enum HoldMechanism: String, Sendable {
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
    /// `arm` first (it shares the witness object's maps).
    func loadHold(mainObject: BPFObjectHandle) -> Result<HoldMechanism, PlanRefusal> {
        var candidates: [HoldMechanism] = []
        switch holdPlan() {
        case .success(let first):
            candidates = first == .bpfLSM && features.fentryUnavailableReason == nil ? [.bpfLSM, .fmodRet] : [first]
        case .failure(let refusal):
            return .failure(refusal)
        }
        var reasons: [String] = []
        for mechanism in candidates {
            let program = mechanism == .bpfLSM ? "lsm_capable" : "fmod_ret_security_capable"
            do {
                let handle = try BPFObjectHandle(BPFObject.named("hold")!)
                for map in ["rw_events", "rw_hold_state", "rw_held"] {
                    guard let fd = mainObject.mapFD(map) else { throw SystemError("find map", map, errno: .noSuchFileOrDirectory) }
                    try handle.reuseMap(map, fd: fd)
                }
                handle.loadOnly([program])
                try handle.load()
                try handle.attach(program: program)
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
    private let stateFD: CInt

    init(stateFD: CInt) {
        self.stateFD = stateFD
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
        var key: UInt32 = 0
        var state = rw_hold_state()
        state.heartbeat_ns = UInt64(SystemCalls.clocks().boottime)
        state.controller_tgid = UInt32(getpid())
        state.enabled = enabled ? 1 : 0
        _ = bpf_map_update_elem(stateFD, &key, &state, UInt64(BPF_ANY))
    }
}
