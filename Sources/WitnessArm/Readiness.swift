import WitnessModel
import WitnessReport
import Glibc
import SystemPackage
import WitnessCapture
import WitnessStore
import WitnessSystem

/// `status --ready`: is an `arm` running on this store in this boot, and if
/// not, the most likely reason, in one line (a readiness probe's message).
public enum Readiness {
    public static func check(store: String) -> (ready: Bool, line: String) {
        if let live = ArmState.live(in: store) {
            let attached = live.probes.filter(\.attached).count
            return (true, "armed: pid \(live.pid) since \(live.started), \(attached) probe point(s) attached, hold \(live.hold.line)")
        }
        if let refusal = Privileges.bpfTracingRefusal() {
            return (false, "not armed: arm \(refusal)")
        }
        if !KernelFeatures().hasBTF {
            return (false, "not armed: " + ArmRefusal.noBTF.description)
        }
        if Files.exists(store) && access(store, W_OK) != 0 {
            return (false, "not armed: store \(store) is not writable (\(Errno(rawValue: Glibc.errno).description))")
        }
        return (false, "not armed: no arm is running on \(store) in this boot")
    }
}
