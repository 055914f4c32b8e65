import CWitness

/// reboot(2)'s magic numbers and commands, from bpf/witness.h (the same
/// constants the hold decides with in the kernel), as `RebootAction`s.
public enum RebootCommand {
    public static let magic1 = UInt32(RW_REBOOT_MAGIC1.rawValue)
    public static let magic2s: Set<UInt32> = Set([RW_REBOOT_MAGIC2, RW_REBOOT_MAGIC2A, RW_REBOOT_MAGIC2B,
                                                  RW_REBOOT_MAGIC2C].map { UInt32($0.rawValue) })

    public static let actions: [UInt32: RebootAction] = Dictionary(uniqueKeysWithValues: [
        (RW_REBOOT_CMD_RESTART, RebootAction.restart), (RW_REBOOT_CMD_RESTART2, .restart2), (RW_REBOOT_CMD_HALT, .halt),
        (RW_REBOOT_CMD_CAD_ON, .cadOn), (RW_REBOOT_CMD_CAD_OFF, .cadOff), (RW_REBOOT_CMD_POWER_OFF, .powerOff),
        (RW_REBOOT_CMD_SW_SUSPEND, .suspend), (RW_REBOOT_CMD_KEXEC, .kexec),
    ].map { (UInt32($0.0.rawValue), $0.1) })

    /// What reboot(2) was asked to do; `.invalid` for bad magic or an unknown command.
    public static func action(magic1 m1: UInt32, magic2 m2: UInt32, command: UInt32) -> RebootAction {
        guard m1 == magic1, magic2s.contains(m2), let action = actions[command] else { return .invalid }
        return action
    }
}
