import CWitness

/// Where a record came from: one name per probe point of the kernel side,
/// plus the D-Bus monitor. Stored, printed and sent as the strings records
/// have always carried ("kernel_restart"), so stores and JSON stay
/// compatible; a name this version does not know (a newer store) is kept as
/// it is and has no traits.
public struct ProbeID: RawRepresentable, Hashable, Comparable, Codable, Sendable, CustomStringConvertible,
    ExpressibleByStringLiteral {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }
    public init(from decoder: Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { rawValue }
    public static func < (a: ProbeID, b: ProbeID) -> Bool { a.rawValue < b.rawValue }

    /// What this probe sees and what its records mean; nil for a name this version does not know.
    public var traits: ProbeTraits? { ProbeTraits.table[self] }
    public var kind: ProbeKind? { traits?.kind }

    /// The probe of a record number from the kernel (`enum rw_probe`).
    public init?(kernelNumber: UInt16) {
        guard let found = ProbeTraits.byNumber[kernelNumber] else { return nil }
        self = found
    }

    /// reboot(2)'s entry, by any hook (tracepoint, __x64_sys_reboot, __ia32_sys_reboot).
    public var isRebootSyscallEntry: Bool { kind == .syscallEntry }
    /// A request to restart, halt or power off (an exec of a reboot-family tool, a D-Bus call), not the act.
    public var isIntent: Bool { kind == .execIntent || kind == .busIntent }

    public static let sysEnterReboot: ProbeID = "sys_enter_reboot"
    public static let sysExitReboot: ProbeID = "sys_exit_reboot"
    public static let x64SysReboot: ProbeID = "__x64_sys_reboot"
    public static let ia32SysReboot: ProbeID = "__ia32_sys_reboot"
    public static let rebootPidNs: ProbeID = "reboot_pid_ns"
    public static let kernelRestart: ProbeID = "kernel_restart"
    public static let kernelHalt: ProbeID = "kernel_halt"
    public static let kernelPowerOff: ProbeID = "kernel_power_off"
    public static let kernelKexec: ProbeID = "kernel_kexec"
    public static let emergencyRestart: ProbeID = "emergency_restart"
    public static let machineRestart: ProbeID = "machine_restart"
    public static let nativeMachineEmergencyRestart: ProbeID = "native_machine_emergency_restart"
    public static let orderlyReboot: ProbeID = "orderly_reboot"
    public static let orderlyPoweroff: ProbeID = "orderly_poweroff"
    public static let hwProtectionShutdown: ProbeID = "hw_protection_shutdown"
    public static let hwProtectionShutdown612: ProbeID = "__hw_protection_shutdown"
    public static let hwProtectionTrigger: ProbeID = "__hw_protection_trigger"
    public static let ctrlAltDel: ProbeID = "ctrl_alt_del"
    public static let deferredCad: ProbeID = "deferred_cad"
    public static let writeSysrqTrigger: ProbeID = "write_sysrq_trigger"
    public static let sysrqHandleReboot: ProbeID = "sysrq_handle_reboot"
    public static let panic: ProbeID = "panic"
    public static let vpanic: ProbeID = "vpanic"
    public static let softdogFire: ProbeID = "softdog_fire"
    public static let watchdogNotifyPretimeout: ProbeID = "watchdog_notify_pretimeout"
    public static let watchdogOpen: ProbeID = "watchdog_open"
    public static let watchdogRelease: ProbeID = "watchdog_release"
    public static let watchdogStart: ProbeID = "watchdog_start"
    public static let watchdogPing: ProbeID = "watchdog_ping"
    public static let moduleLoad: ProbeID = "module_load"
    public static let execIntent: ProbeID = "sched_process_exec"
    /// Not a kernel probe: the sd-bus monitor of calls to logind and systemd.
    public static let dbus: ProbeID = "dbus"
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
    /// A D-Bus call to logind or systemd that restarts, halts or powers off.
    case busIntent
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
    /// The sysrq key written (see `SysrqKey`).
    case sysrqKey
    /// __hw_protection_shutdown's `shutdown` flag: set powers off, clear restarts.
    case shutdownFlag
    /// __hw_protection_trigger's enum hw_protection_action: HWPROT_ACT_REBOOT
    /// (2) restarts; HWPROT_ACT_SHUTDOWN (1) and the default (0, shutdown
    /// unless the kernel was booted with hw_protection=reboot) power off.
    case hwProtectionAction

    /// The action for a record's string and integer arguments.
    public func action(argument: String?, argumentInt: UInt32) -> RebootAction? {
        switch self {
        case .none: return nil
        case .always(let action): return action
        case .restartWithCommandString: return argument == nil ? .restart : .restart2
        case .commandArgument: return RebootCommand.actions[argumentInt] ?? .invalid
        case .sysrqKey: return argument?.first.flatMap(SysrqKey.init(key:))?.action
        case .shutdownFlag: return argumentInt != 0 ? .powerOff : .restart
        case .hwProtectionAction: return argumentInt == 2 ? .restart : .powerOff
        }
    }
}

/// The sysrq keys that end the machine, as bpf/witness.h declares them for
/// the kernel side (`enum rw_sysrq_key`).
public enum SysrqKey: Sendable, Equatable {
    case reboot, powerOff, crash

    public init?(key: Character) {
        guard let ascii = key.asciiValue else { return nil }
        switch UInt32(ascii) {
        case RW_SYSRQ_REBOOT.rawValue: self = .reboot
        case RW_SYSRQ_POWEROFF.rawValue: self = .powerOff
        case RW_SYSRQ_CRASH.rawValue: self = .crash
        default: return nil
        }
    }

    /// What the key does to the machine (a crash is a panic, not an action).
    public var action: RebootAction? {
        switch self {
        case .reboot: return .restart
        case .powerOff: return .powerOff
        case .crash: return nil
        }
    }
}

/// One probe's meaning: its kernel number, kind, implied action, and
/// whether it runs where the current task is not the caller.
public struct ProbeTraits: Sendable, Equatable {
    public let id: ProbeID
    /// `enum rw_probe`; nil for the D-Bus monitor.
    public let number: UInt16?
    public let kind: ProbeKind
    public let implies: ImpliedAction
    /// Runs in timer/IRQ context: the current task is not the culprit.
    public let interruptContext: Bool

    init(_ id: ProbeID, _ number: rw_probe?, _ kind: ProbeKind, _ implies: ImpliedAction = .none, irq: Bool = false) {
        self.id = id
        self.number = number.map { UInt16($0.rawValue) }
        self.kind = kind
        self.implies = implies
        interruptContext = irq
    }

    /// Every probe, in the order reports list them.
    public static let all: [ProbeTraits] = [
        ProbeTraits(.sysEnterReboot, RW_PROBE_SYS_ENTER_REBOOT, .syscallEntry),
        ProbeTraits(.sysExitReboot, RW_PROBE_SYS_EXIT_REBOOT, .syscallExit),
        ProbeTraits(.x64SysReboot, RW_PROBE_X64_SYS_REBOOT, .syscallEntry),
        ProbeTraits(.ia32SysReboot, RW_PROBE_IA32_SYS_REBOOT, .syscallEntry),
        ProbeTraits(.rebootPidNs, RW_PROBE_REBOOT_PID_NS, .kernelPath, .commandArgument),
        ProbeTraits(.kernelRestart, RW_PROBE_KERNEL_RESTART, .kernelPath, .restartWithCommandString),
        ProbeTraits(.kernelHalt, RW_PROBE_KERNEL_HALT, .kernelPath, .always(.halt)),
        ProbeTraits(.kernelPowerOff, RW_PROBE_KERNEL_POWER_OFF, .kernelPath, .always(.powerOff)),
        ProbeTraits(.kernelKexec, RW_PROBE_KERNEL_KEXEC, .kernelPath, .always(.kexec)),
        ProbeTraits(.emergencyRestart, RW_PROBE_EMERGENCY_RESTART, .kernelPath, .always(.restart)),
        ProbeTraits(.machineRestart, RW_PROBE_MACHINE_RESTART, .kernelPath, .restartWithCommandString),
        ProbeTraits(.nativeMachineEmergencyRestart, RW_PROBE_NATIVE_MACHINE_EMERGENCY_RESTART, .kernelPath, .always(.restart)),
        ProbeTraits(.orderlyReboot, RW_PROBE_ORDERLY_REBOOT, .kernelPath, .always(.restart)),
        ProbeTraits(.orderlyPoweroff, RW_PROBE_ORDERLY_POWEROFF, .kernelPath, .always(.powerOff)),
        ProbeTraits(.hwProtectionShutdown, RW_PROBE_HW_PROTECTION_SHUTDOWN, .kernelPath, .always(.powerOff)),
        ProbeTraits(.hwProtectionShutdown612, RW_PROBE_HW_PROTECTION_SHUTDOWN_612, .kernelPath, .shutdownFlag),
        ProbeTraits(.hwProtectionTrigger, RW_PROBE_HW_PROTECTION_TRIGGER, .kernelPath, .hwProtectionAction),
        ProbeTraits(.ctrlAltDel, RW_PROBE_CTRL_ALT_DEL, .kernelPath, .always(.restart), irq: true),
        ProbeTraits(.deferredCad, RW_PROBE_DEFERRED_CAD, .kernelPath, .always(.restart)),
        ProbeTraits(.writeSysrqTrigger, RW_PROBE_WRITE_SYSRQ_TRIGGER, .sysrqWrite, .sysrqKey),
        ProbeTraits(.sysrqHandleReboot, RW_PROBE_SYSRQ_HANDLE_REBOOT, .kernelPath, .always(.restart)),
        ProbeTraits(.panic, RW_PROBE_PANIC, .panic),
        ProbeTraits(.vpanic, RW_PROBE_VPANIC, .panic),
        ProbeTraits(.softdogFire, RW_PROBE_SOFTDOG_FIRE, .watchdogFire, .always(.restart), irq: true),
        ProbeTraits(.watchdogNotifyPretimeout, RW_PROBE_WATCHDOG_NOTIFY_PRETIMEOUT, .watchdogFire, irq: true),
        ProbeTraits(.watchdogOpen, RW_PROBE_WATCHDOG_OPEN, .watchdogHunt),
        ProbeTraits(.watchdogRelease, RW_PROBE_WATCHDOG_RELEASE, .watchdogHunt),
        ProbeTraits(.watchdogStart, RW_PROBE_WATCHDOG_START, .watchdogHunt),
        ProbeTraits(.watchdogPing, RW_PROBE_WATCHDOG_PING, .watchdogHunt),
        ProbeTraits(.moduleLoad, RW_PROBE_MODULE_LOAD, .control),
        ProbeTraits(.execIntent, RW_PROBE_EXEC_INTENT, .execIntent),
        ProbeTraits(.dbus, nil, .busIntent),
    ]

    static let table: [ProbeID: ProbeTraits] = Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0) })
    static let byNumber: [UInt16: ProbeID] = Dictionary(uniqueKeysWithValues: all.compactMap { t in t.number.map { ($0, t.id) } })
}
