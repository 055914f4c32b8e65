import CWitness
import WitnessSystem

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

/// What a probe point sees.
public enum ProbeKind: String, Sendable, Equatable {
    /// reboot(2)'s entry: the caller's magic numbers and command.
    case syscallEntry
    /// reboot(2)'s return (never seen for a call that took the machine down).
    case syscallExit
    /// A kernel function that restarts, halts, powers off or kexecs.
    case kernelPath
    case panic
    /// A write to /proc/sysrq-trigger (the key decides).
    case sysrqWrite
    /// A watchdog firing or its pretimeout.
    case watchdogFire
    /// Who holds and feeds a watchdog device.
    case watchdogHunt
    /// The exec of a reboot-family tool (its argv decides).
    case execIntent
    /// Internal events (a module appeared).
    case control
}

/// What a record of a probe point means the machine is asked to do, when
/// the point is not reboot(2) itself (whose command says it).
public enum ImpliedAction: Sendable, Equatable {
    case none
    case always(RebootAction)
    /// RESTART2 when the kernel passed a command string, else RESTART.
    case restartWithCommandString
    /// The reboot(2) command in the record's integer argument (reboot_pid_ns).
    case commandArgument
    /// The sysrq key written: b restarts, o powers off (c panics: no action).
    case sysrqKey
    /// __hw_protection_shutdown's `shutdown` flag: set powers off, clear restarts.
    case shutdownFlag
    /// __hw_protection_trigger's enum hw_protection_action: HWPROT_ACT_REBOOT
    /// (2) restarts; HWPROT_ACT_SHUTDOWN (1) and the default (0, shutdown
    /// unless the kernel was booted with hw_protection=reboot) power off.
    case hwProtectionAction
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
    public let kind: ProbeKind
    public let implies: ImpliedAction
    /// BPF object holding its programs ("witness" or "watchdog").
    public let object: String
    /// Kernel module that must be loaded for the symbol to exist.
    public let module: String?
    /// Attached only when this other point is unavailable (a fallback).
    public let fallbackFor: String?
    /// Runs in timer/IRQ context: the current task is not the culprit.
    public let interruptContext: Bool

    /// Entry of reboot(2) itself: its magic and command are the caller's, and
    /// the kernel counts repeats of it (`struct rw_caller_key`).
    public var isRebootSyscallEntry: Bool { kind == .syscallEntry }

    /// Internal control events, not reboot paths.
    public var isControl: Bool { kind == .control }

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
        func tp(_ category: String, _ event: String, _ probe: rw_probe, _ kind: ProbeKind) -> ProbePoint {
            ProbePoint(name: event, probe: UInt16(probe.rawValue), site: .tracepoint(category: category, event: event),
                       kind: kind, implies: .none, object: "witness", module: nil, fallbackFor: nil, interruptContext: false)
        }
        func fn(_ symbol: String, _ probe: rw_probe, _ kind: ProbeKind, _ implies: ImpliedAction = .none, fentry: Bool = true,
                object: String = "witness", module: String? = nil, fallbackFor: String? = nil, irq: Bool = false) -> ProbePoint {
            ProbePoint(name: symbol, probe: UInt16(probe.rawValue), site: .function(symbol: symbol, fentry: fentry),
                       kind: kind, implies: implies, object: object, module: module, fallbackFor: fallbackFor, interruptContext: irq)
        }
        return [
            tp("syscalls", "sys_enter_reboot", RW_PROBE_SYS_ENTER_REBOOT, .syscallEntry),
            tp("syscalls", "sys_exit_reboot", RW_PROBE_SYS_EXIT_REBOOT, .syscallExit),
            fn("__x64_sys_reboot", RW_PROBE_X64_SYS_REBOOT, .syscallEntry, fallbackFor: "sys_enter_reboot"),
            fn("__ia32_sys_reboot", RW_PROBE_IA32_SYS_REBOOT, .syscallEntry),
            fn("reboot_pid_ns", RW_PROBE_REBOOT_PID_NS, .kernelPath, .commandArgument),
            fn("kernel_restart", RW_PROBE_KERNEL_RESTART, .kernelPath, .restartWithCommandString),
            fn("kernel_halt", RW_PROBE_KERNEL_HALT, .kernelPath, .always(.halt)),
            fn("kernel_power_off", RW_PROBE_KERNEL_POWER_OFF, .kernelPath, .always(.powerOff)),
            fn("kernel_kexec", RW_PROBE_KERNEL_KEXEC, .kernelPath, .always(.kexec)),
            fn("emergency_restart", RW_PROBE_EMERGENCY_RESTART, .kernelPath, .always(.restart)),
            fn("machine_restart", RW_PROBE_MACHINE_RESTART, .kernelPath, .restartWithCommandString),
            fn("native_machine_emergency_restart", RW_PROBE_NATIVE_MACHINE_EMERGENCY_RESTART, .kernelPath, .always(.restart)),
            fn("orderly_reboot", RW_PROBE_ORDERLY_REBOOT, .kernelPath, .always(.restart)),
            fn("orderly_poweroff", RW_PROBE_ORDERLY_POWEROFF, .kernelPath, .always(.powerOff)),
            fn("hw_protection_shutdown", RW_PROBE_HW_PROTECTION_SHUTDOWN, .kernelPath, .always(.powerOff)),
            fn("__hw_protection_shutdown", RW_PROBE_HW_PROTECTION_SHUTDOWN_612, .kernelPath, .shutdownFlag),
            fn("__hw_protection_trigger", RW_PROBE_HW_PROTECTION_TRIGGER, .kernelPath, .hwProtectionAction),
            fn("ctrl_alt_del", RW_PROBE_CTRL_ALT_DEL, .kernelPath, .always(.restart), irq: true),
            fn("deferred_cad", RW_PROBE_DEFERRED_CAD, .kernelPath, .always(.restart)),
            fn("write_sysrq_trigger", RW_PROBE_WRITE_SYSRQ_TRIGGER, .sysrqWrite, .sysrqKey),
            fn("sysrq_handle_reboot", RW_PROBE_SYSRQ_HANDLE_REBOOT, .kernelPath, .always(.restart)),
            fn("panic", RW_PROBE_PANIC, .panic, fentry: false),
            fn("vpanic", RW_PROBE_VPANIC, .panic),
            fn("softdog_fire", RW_PROBE_SOFTDOG_FIRE, .watchdogFire, .always(.restart), object: "watchdog", module: "softdog", irq: true),
            fn("watchdog_notify_pretimeout", RW_PROBE_WATCHDOG_NOTIFY_PRETIMEOUT, .watchdogFire, object: "watchdog",
               module: "watchdog", irq: true),
            // The watchdog hunt: who holds and feeds each watchdog device.
            fn("watchdog_open", RW_PROBE_WATCHDOG_OPEN, .watchdogHunt, object: "watchdog", module: "watchdog"),
            fn("watchdog_release", RW_PROBE_WATCHDOG_RELEASE, .watchdogHunt, object: "watchdog", module: "watchdog"),
            fn("watchdog_start", RW_PROBE_WATCHDOG_START, .watchdogHunt, object: "watchdog", module: "watchdog"),
            fn("watchdog_ping", RW_PROBE_WATCHDOG_PING, .watchdogHunt, object: "watchdog", module: "watchdog"),
            tp("module", "module_load", RW_PROBE_MODULE_LOAD, .control),
            // Intents: the exec of `reboot`, `systemctl reboot`, `shutdown`… (graceful reboots).
            tp("sched", "sched_process_exec", RW_PROBE_EXEC_INTENT, .execIntent),
        ]
    }()

    public static func point(probe: UInt16) -> ProbePoint? {
        all.first { $0.probe == probe }
    }

    public static func point(named name: String) -> ProbePoint? {
        all.first { $0.name == name }
    }
}
