import CWitness

/// How a probe program is attached to the kernel.
public enum AttachMode: String, Codable, Sendable, CaseIterable {
    case tracepoint, fentry, kprobe

    init?(raw: UInt16) {
        switch Int(raw) {
        case Int(RW_ATTACH_TRACEPOINT.rawValue): self = .tracepoint
        case Int(RW_ATTACH_FENTRY.rawValue): self = .fentry
        case Int(RW_ATTACH_KPROBE.rawValue): self = .kprobe
        default: return nil
        }
    }
}

/// One place in the kernel where reboot-witness listens.
public struct ProbePoint: Sendable, Equatable {
    public enum Site: Sendable, Equatable {
        case tracepoint(category: String, event: String)
        /// A kernel function; `fentry` is false where the kernel refuses it
        /// (variadic `panic`).
        case function(symbol: String, fentry: Bool)
    }

    /// Stable name used in records, `status` and `dump` ("kernel_restart").
    public let name: String
    public let probe: UInt16
    public let site: Site
    /// BPF object holding its programs ("witness" or "watchdog").
    public let object: String
    /// Kernel module that must be loaded for the symbol to exist.
    public let module: String?
    /// Attached only when this other point is unavailable (a fallback).
    public let fallbackFor: String?
    /// Runs in timer/IRQ context: the current task is not the culprit.
    public let interruptContext: Bool
    /// Internal control events, not reboot paths.
    public let isControl: Bool

    /// Entry of reboot(2) itself: its magic and command are the caller's, and
    /// the kernel counts repeats of it (`struct rw_caller_key`).
    public var isRebootSyscallEntry: Bool {
        ["sys_enter_reboot", "__x64_sys_reboot", "__ia32_sys_reboot"].contains(name)
    }

    /// Program names inside the object, per attach mode.
    public func programName(_ mode: AttachMode) -> String {
        switch site {
        case .tracepoint(_, let event): return "tp_\(event)"
        case .function(let symbol, _): return "\(mode.rawValue)_\(symbol)"
        }
    }
}

/// Every probe point reboot-witness knows, in the order reports list them.
public enum ProbeCatalog {
    public static let all: [ProbePoint] = {
        func tp(_ category: String, _ event: String, _ probe: rw_probe, control: Bool = false) -> ProbePoint {
            ProbePoint(name: event, probe: UInt16(probe.rawValue), site: .tracepoint(category: category, event: event),
                       object: "witness", module: nil, fallbackFor: nil, interruptContext: false, isControl: control)
        }
        func fn(_ symbol: String, _ probe: rw_probe, fentry: Bool = true, object: String = "witness",
                module: String? = nil, fallbackFor: String? = nil, irq: Bool = false) -> ProbePoint {
            ProbePoint(name: symbol, probe: UInt16(probe.rawValue), site: .function(symbol: symbol, fentry: fentry),
                       object: object, module: module, fallbackFor: fallbackFor, interruptContext: irq, isControl: false)
        }
        return [
            tp("syscalls", "sys_enter_reboot", RW_PROBE_SYS_ENTER_REBOOT),
            tp("syscalls", "sys_exit_reboot", RW_PROBE_SYS_EXIT_REBOOT),
            fn("__x64_sys_reboot", RW_PROBE_X64_SYS_REBOOT, fallbackFor: "sys_enter_reboot"),
            fn("__ia32_sys_reboot", RW_PROBE_IA32_SYS_REBOOT),
            fn("reboot_pid_ns", RW_PROBE_REBOOT_PID_NS),
            fn("kernel_restart", RW_PROBE_KERNEL_RESTART),
            fn("kernel_halt", RW_PROBE_KERNEL_HALT),
            fn("kernel_power_off", RW_PROBE_KERNEL_POWER_OFF),
            fn("kernel_kexec", RW_PROBE_KERNEL_KEXEC),
            fn("emergency_restart", RW_PROBE_EMERGENCY_RESTART),
            fn("machine_restart", RW_PROBE_MACHINE_RESTART),
            fn("native_machine_emergency_restart", RW_PROBE_NATIVE_MACHINE_EMERGENCY_RESTART),
            fn("orderly_reboot", RW_PROBE_ORDERLY_REBOOT),
            fn("orderly_poweroff", RW_PROBE_ORDERLY_POWEROFF),
            fn("hw_protection_shutdown", RW_PROBE_HW_PROTECTION_SHUTDOWN),
            fn("__hw_protection_shutdown", RW_PROBE_HW_PROTECTION_SHUTDOWN_612),
            fn("__hw_protection_trigger", RW_PROBE_HW_PROTECTION_TRIGGER),
            fn("ctrl_alt_del", RW_PROBE_CTRL_ALT_DEL, irq: true),
            fn("deferred_cad", RW_PROBE_DEFERRED_CAD),
            fn("write_sysrq_trigger", RW_PROBE_WRITE_SYSRQ_TRIGGER),
            fn("sysrq_handle_reboot", RW_PROBE_SYSRQ_HANDLE_REBOOT),
            fn("panic", RW_PROBE_PANIC, fentry: false),
            fn("vpanic", RW_PROBE_VPANIC),
            fn("softdog_fire", RW_PROBE_SOFTDOG_FIRE, object: "watchdog", module: "softdog", irq: true),
            fn("watchdog_notify_pretimeout", RW_PROBE_WATCHDOG_NOTIFY_PRETIMEOUT, object: "watchdog",
               module: "watchdog", irq: true),
            // The watchdog hunt: who holds and feeds each watchdog device.
            fn("watchdog_open", RW_PROBE_WATCHDOG_OPEN, object: "watchdog", module: "watchdog"),
            fn("watchdog_release", RW_PROBE_WATCHDOG_RELEASE, object: "watchdog", module: "watchdog"),
            fn("watchdog_start", RW_PROBE_WATCHDOG_START, object: "watchdog", module: "watchdog"),
            fn("watchdog_ping", RW_PROBE_WATCHDOG_PING, object: "watchdog", module: "watchdog"),
            tp("module", "module_load", RW_PROBE_MODULE_LOAD, control: true),
            // Intents: the exec of `reboot`, `systemctl reboot`, `shutdown`… (graceful reboots).
            tp("sched", "sched_process_exec", RW_PROBE_EXEC_INTENT),
        ]
    }()

    public static func point(probe: UInt16) -> ProbePoint? {
        all.first { $0.probe == probe }
    }

    public static func point(named name: String) -> ProbePoint? {
        all.first { $0.name == name }
    }
}
