import CWitness
import WitnessCapture

/// reboot(2)'s magic numbers and commands, from bpf/witness.h (the same
/// constants the hold decides with in the kernel).
public enum RebootCommand {
    public static let magic1 = UInt32(RW_REBOOT_MAGIC1.rawValue)
    public static let magic2s: Set<UInt32> = Set([RW_REBOOT_MAGIC2, RW_REBOOT_MAGIC2A, RW_REBOOT_MAGIC2B,
                                                  RW_REBOOT_MAGIC2C].map { UInt32($0.rawValue) })

    public static let names: [UInt32: String] = Dictionary(uniqueKeysWithValues: [
        (RW_REBOOT_CMD_RESTART, "RESTART"), (RW_REBOOT_CMD_RESTART2, "RESTART2"), (RW_REBOOT_CMD_HALT, "HALT"),
        (RW_REBOOT_CMD_CAD_ON, "CAD_ON"), (RW_REBOOT_CMD_CAD_OFF, "CAD_OFF"), (RW_REBOOT_CMD_POWER_OFF, "POWER_OFF"),
        (RW_REBOOT_CMD_SW_SUSPEND, "SW_SUSPEND"), (RW_REBOOT_CMD_KEXEC, "KEXEC"),
    ].map { (UInt32($0.0.rawValue), $0.1) })

    /// The command reboot(2) was asked for; INVALID for bad magic or an unknown command.
    public static func name(magic1 m1: UInt32, magic2 m2: UInt32, command: UInt32) -> String {
        guard m1 == magic1, magic2s.contains(m2), let name = names[command] else { return "INVALID" }
        return name
    }

    /// What a kernel path does, for records that did not come from reboot(2).
    static func implied(by record: CapturedRecord, point: ProbePoint?) -> String? {
        switch point?.name {
        case "kernel_restart", "machine_restart":
            return record.argument.map { _ in "RESTART2" } ?? "RESTART"
        case "emergency_restart", "native_machine_emergency_restart", "orderly_reboot",
             "sysrq_handle_reboot", "ctrl_alt_del", "deferred_cad", "softdog_fire":
            return "RESTART"
        case "kernel_halt": return "HALT"
        case "kernel_power_off", "orderly_poweroff", "hw_protection_shutdown", "__hw_protection_shutdown":
            return "POWER_OFF"
        case "kernel_kexec": return "KEXEC"
        case "reboot_pid_ns": return names[record.argumentInt] ?? "INVALID"
        case "write_sysrq_trigger":
            switch record.argument?.first {
            case "b": return "RESTART"
            case "o": return "POWER_OFF"
            default: return nil
            }
        default: return nil
        }
    }
}
