import WitnessCapture

/// reboot(2)'s magic numbers and commands (include/uapi/linux/reboot.h).
public enum RebootCommand {
    public static let magic1: UInt32 = 0xFEE1_DEAD
    public static let magic2s: Set<UInt32> = [672_274_793, 85_072_278, 369_367_448, 537_993_216]

    public static let names: [UInt32: String] = [
        0x0123_4567: "RESTART", 0xA1B2_C3D4: "RESTART2", 0xCDEF_0123: "HALT", 0x89AB_CDEF: "CAD_ON",
        0x0000_0000: "CAD_OFF", 0x4321_FEDC: "POWER_OFF", 0xD000_FCE2: "SW_SUSPEND", 0x4558_4543: "KEXEC",
    ]

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
