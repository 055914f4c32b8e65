import BPFObjects
import CWitness
import WitnessSystem
import WitnessModel

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

/// One place in the kernel where reboot-witness listens: a probe of the
/// model's vocabulary (`ProbeID`, its traits) and where it attaches.
public struct ProbePoint: Sendable, Equatable {
    public enum Site: Sendable, Equatable {
        case tracepoint(category: String, event: String)
        /// A kernel function; `fentry` is false where the kernel refuses it
        /// (variadic `panic`).
        case function(symbol: String, fentry: Bool)
    }

    public let id: ProbeID
    public let traits: ProbeTraits
    public let site: Site
    /// BPF object holding its programs.
    public let object: BPFObjectName
    /// Kernel module that must be loaded for the symbol to exist.
    public let module: String?
    /// Attached only when this other point is unavailable (a fallback).
    public let fallbackFor: ProbeID?

    /// Stable name used in records, `status` and `dump` ("kernel_restart").
    public var name: String { id.rawValue }
    public var kind: ProbeKind { traits.kind }
    public var probe: UInt16 { traits.number ?? 0 }
    public var interruptContext: Bool { traits.interruptContext }

    /// Entry of reboot(2) itself: its magic and command are the caller's, and
    /// the kernel counts repeats of it (`struct rw_caller_key`).
    public var isRebootSyscallEntry: Bool { kind == .syscallEntry }

    /// Internal control events, not reboot paths.
    public var isControl: Bool { kind == .control }

    /// The ELF section of its program for `mode` (as libbpf names them).
    public func section(_ mode: AttachMode) -> String {
        switch site {
        case .tracepoint(let category, let event): return "tracepoint/\(category)/\(event)"
        case .function(let symbol, _): return "\(mode.rawValue)/\(symbol)"
        }
    }
}

/// Every probe point reboot-witness attaches, in the order reports list them.
public enum ProbeCatalog {
    public static let all: [ProbePoint] = {
        func tp(_ id: ProbeID, _ category: String) -> ProbePoint {
            ProbePoint(id: id, traits: id.traits!, site: .tracepoint(category: category, event: id.rawValue),
                       object: .witness, module: nil, fallbackFor: nil)
        }
        func fn(_ id: ProbeID, fentry: Bool = true, object: BPFObjectName = .witness, module: String? = nil,
                fallbackFor: ProbeID? = nil) -> ProbePoint {
            ProbePoint(id: id, traits: id.traits!, site: .function(symbol: id.rawValue, fentry: fentry), object: object,
                       module: module, fallbackFor: fallbackFor)
        }
        return [
            tp(.sysEnterReboot, "syscalls"),
            tp(.sysExitReboot, "syscalls"),
            fn(.x64SysReboot, fallbackFor: .sysEnterReboot),
            fn(.ia32SysReboot),
            fn(.rebootPidNs),
            fn(.kernelRestart),
            fn(.kernelHalt),
            fn(.kernelPowerOff),
            fn(.kernelKexec),
            fn(.emergencyRestart),
            fn(.machineRestart),
            fn(.nativeMachineEmergencyRestart),
            fn(.orderlyReboot),
            fn(.orderlyPoweroff),
            fn(.hwProtectionShutdown),
            fn(.hwProtectionShutdown612),
            fn(.hwProtectionTrigger),
            fn(.ctrlAltDel),
            fn(.deferredCad),
            fn(.writeSysrqTrigger),
            fn(.sysrqHandleReboot),
            fn(.panic, fentry: false),
            fn(.vpanic),
            fn(.softdogFire, object: .watchdog, module: "softdog"),
            fn(.watchdogNotifyPretimeout, object: .watchdog, module: "watchdog"),
            // The watchdog hunt: who holds and feeds each watchdog device.
            fn(.watchdogOpen, object: .watchdog, module: "watchdog"),
            fn(.watchdogRelease, object: .watchdog, module: "watchdog"),
            fn(.watchdogStart, object: .watchdog, module: "watchdog"),
            fn(.watchdogPing, object: .watchdog, module: "watchdog"),
            tp(.moduleLoad, "module"),
            // Intents: the exec of `reboot`, `systemctl reboot`, `shutdown`… (graceful reboots).
            tp(.execIntent, "sched"),
        ]
    }()

    private static let byNumber: [UInt16: ProbePoint] = Dictionary(uniqueKeysWithValues: all.map { ($0.probe, $0) })
    private static let byID: [ProbeID: ProbePoint] = Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0) })

    public static func point(probe: UInt16) -> ProbePoint? { byNumber[probe] }
    public static func point(_ id: ProbeID) -> ProbePoint? { byID[id] }
}
