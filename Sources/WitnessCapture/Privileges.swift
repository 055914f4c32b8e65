import Glibc
import WitnessSystem

/// Can this process load and attach BPF tracing programs?
public enum Privileges {
    static let capSysAdmin = 21, capPerfmon = 38, capBPF = 39

    /// nil when allowed, else one line saying what is missing.
    public static func bpfTracingRefusal(statusFile: String = "/proc/self/status") -> String? {
        guard let mask = Files.readText(statusFile).flatMap({ ProcStatus($0).capabilities("CapEff") }) else {
            return geteuid() == 0 ? nil : "needs root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN)"
        }
        func has(_ bit: Int) -> Bool { mask & (1 << UInt64(bit)) != 0 }
        if has(capSysAdmin) || (has(capBPF) && has(capPerfmon)) { return nil }
        return "needs root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN); running as uid \(geteuid())"
    }
}
