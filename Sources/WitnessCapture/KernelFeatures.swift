import CBPFShim
import BPFObjects
import WitnessModel
import CLibbpf
import CWitness
import Glibc
import SystemPackage
import WitnessSystem

/// BTF_KIND_FUNC from linux/btf.h; the imported name is ambiguous between
/// the uapi enum and libbpf's copy.
private let btfKindFunction: UInt32 = 12

/// What the running kernel lets BPF do, found by asking it, never assumed
/// from a version number. Expensive answers (BTF parsing) are computed once.
public final class KernelFeatures {
    public let release: String
    public let hasBTF: Bool
    /// Path of tracefs's events directory, mounting tracefs if needed.
    public let tracingEvents: String?
    public let kprobes: Bool
    /// Whether this process sits in cgroup v1 hierarchies (see
    /// ProcText.listsCgroupV1Hierarchy; unreadable counts as yes): records
    /// of processes in the v2 root then carry systemd's v1 path.
    /// Read when arm loads its programs (no other command needs it).
    public internal(set) lazy var cgroupV1: Bool =
        ProcText.listsCgroupV1Hierarchy(Files.read("/proc/self/cgroup", limit: 64 << 10).map { String(decoding: $0, as: UTF8.self) } ?? "")
    private var vmlinuxBTF: OpaquePointer?
    private var moduleBTF: [String: OpaquePointer] = [:]
    private var kallsymsByModule: [String: Set<String>] = [:]
    private lazy var fentryProbe: Result<Void, SystemError> = probeFentry()

    /// bpf_loop (5.17+), asked of the kernel with a probe program (needs
    /// privileges): what the final stage's in-kernel wait is made of.
    public private(set) lazy var boundedLoopsCapability: Capability =
        Self.probed(libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_loop, nil), via: "bpf_loop",
                    missing: "no bpf_loop helper (kernel before 5.17)")
    public var boundedLoops: Bool { boundedLoopsCapability.state == .available }

    /// BPF ring buffers (5.8+), asked of the kernel.
    public private(set) lazy var ringBuffer: Capability =
        Self.probed(libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nil), via: "BPF_MAP_TYPE_RINGBUF",
                    missing: "BPF_MAP_TYPE_RINGBUF refused (kernel before 5.8)")

    /// Whether this process may load BPF programs: without it, a feature
    /// probe's refusal says nothing about the kernel.
    public let privileged = Privileges.bpfTracingRefusal() == nil

    /// A libbpf feature probe's answer (1 yes, 0 no, negative: it could not
    /// tell) as a capability; never "unavailable" for a probe that failed.
    static func probed(_ rc: CInt, via: String, missing: String,
                       privileged: Bool = Privileges.bpfTracingRefusal() == nil) -> Capability {
        if rc == 1 { return .available(via: via) }
        if rc == 0 { return .unavailable(missing) }
        return .unknown(privileged ? "the probe failed (\(Errno(rawValue: -rc).symbolicName))" : "probing needs root")
    }

    /// `mountTracefs`: mount tracefs at /sys/kernel/tracing when it is not
    /// mounted (arm needs it; a read-only report should not mount things).
    public init(mountTracefs: Bool = false) {
        var name = utsname()
        uname(&name)
        release = withUnsafeBytes(of: name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        hasBTF = Files.exists("/sys/kernel/btf/vmlinux")
        tracingEvents = KernelFeatures.findTracingEvents(mount: mountTracefs)
        // The kprobe PMU exists exactly when CONFIG_KPROBES is on.
        kprobes = Files.exists("/sys/bus/event_source/devices/kprobe/type")
    }

    deinit {
        for btf in moduleBTF.values { btf__free(btf) }
        if let vmlinuxBTF { btf__free(vmlinuxBTF) }
    }

    /// nil when fentry works; otherwise why not (the kernel's errno).
    public var fentryUnavailableReason: String? {
        switch fentryProbe {
        case .success: return nil
        case .failure(let error): return "fentry refused by this kernel (\(error.errno.symbolicName))"
        }
    }

    /// fentry as a capability: unknown when the probe could not run for lack of privileges.
    public var fentry: Capability {
        switch fentryProbe {
        case .success: return .available(via: "BPF trampolines")
        case .failure where !privileged: return .unknown("probing needs root")
        case .failure(let error): return .unavailable("refused by this kernel (\(error.errno.symbolicName))")
        }
    }

    public func tracepointExists(category: String, event: String) -> Bool {
        guard let events = tracingEvents else { return false }
        return Files.exists("\(events)/\(category)/\(event)/id")
    }

    /// How a kernel function is known, which decides how it can be probed.
    public enum FunctionPresence: Equatable {
        /// In vmlinux's or its module's BTF: fentry and kprobes.
        case btf
        /// In a loaded module that has no BTF (kernels before 5.11, or built
        /// without CONFIG_DEBUG_INFO_BTF_MODULES): /proc/kallsyms has it, kprobes only.
        case symbolWithoutBTF
        case absent
    }

    public func functionPresence(_ symbol: String, module: String?) -> FunctionPresence {
        if let btf = vmlinux(), btf__find_by_name_kind(btf, symbol, btfKindFunction) > 0 {
            return .btf
        }
        guard let module else { return .absent }
        if let btf = moduleBTFHandle(module) {
            return btf__find_by_name_kind(btf, symbol, btfKindFunction) > 0 ? .btf : .absent
        }
        return moduleLoaded(module) && moduleSymbols(module).contains(symbol) ? .symbolWithoutBTF : .absent
    }

    /// Function names /proc/kallsyms lists for `module` (read once per module, only for modules without BTF).
    private func moduleSymbols(_ module: String) -> Set<String> {
        if let known = kallsymsByModule[module] { return known }
        var names = Set<String>()
        let tag = "[\(module)]"
        for line in (Files.readText("/proc/kallsyms") ?? "").split(separator: "\n") where line.hasSuffix(tag) {
            if let symbol = KallsymsLine(line), symbol.type == "t" || symbol.type == "T", symbol.module?.elementsEqual(module) == true {
                names.insert(String(symbol.name))
            }
        }
        kallsymsByModule[module] = names
        return names
    }

    public func moduleLoaded(_ module: String) -> Bool {
        Files.exists("/sys/module/\(module)")
    }

    /// Active LSMs in order ("lockdown,capability,…,bpf"), nil without securityfs.
    public var activeLSMs: [String]? {
        Files.readLine("/sys/kernel/security/lsm").map { $0.split(separator: ",").map(String.init) }
    }

    private func vmlinux() -> OpaquePointer? {
        if vmlinuxBTF == nil, hasBTF { vmlinuxBTF = btf__load_vmlinux_btf() }
        return vmlinuxBTF
    }

    private func moduleBTFHandle(_ module: String) -> OpaquePointer? {
        if let cached = moduleBTF[module] { return cached }
        guard Files.exists("/sys/kernel/btf/\(module)"), let base = vmlinux(),
              let btf = btf__load_module_btf(module, base) else { return nil }
        moduleBTF[module] = btf
        return btf
    }

    /// Loads a do-nothing fentry program on a function every kernel has.
    /// First without a target: a kernel that refuses tracing programs outright
    /// (EPERM, no trampolines) says so before the 20 ms vmlinux BTF parse;
    /// one that could accept them answers EINVAL for the missing target.
    private func probeFentry() -> Result<Void, SystemError> {
        let untargeted = cw_probe_fentry(0)
        if untargeted != 0 && untargeted != -EINVAL {
            return .failure(SystemError("load fentry test program", nil, errno: Errno(rawValue: CInt(-untargeted))))
        }
        guard let btf = vmlinux() else {
            return .failure(SystemError("load BTF", "/sys/kernel/btf/vmlinux", errno: .noSuchFileOrDirectory))
        }
        let id = btf__find_by_name_kind(btf, "kernel_restart", btfKindFunction)
        guard id > 0 else { return .failure(SystemError("find BTF id", "kernel_restart", errno: .noSuchFileOrDirectory)) }
        let rc = cw_probe_fentry(id)
        return rc == 0 ? .success(()) : .failure(SystemError("load fentry test program", nil, errno: Errno(rawValue: CInt(-rc))))
    }

    private static func findTracingEvents(mount shouldMount: Bool) -> String? {
        for root in ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"] where Files.isDirectory("\(root)/events") {
            return "\(root)/events"
        }
        // tracefs is not mounted on some hosts (no debugfs automount); libbpf
        // resolves tracepoint ids through it, so mount it where it belongs.
        if shouldMount, Files.isDirectory("/sys/kernel/tracing"), mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, nil) == 0,
           Files.isDirectory("/sys/kernel/tracing/events") {
            return "/sys/kernel/tracing/events"
        }
        return nil
    }
}
