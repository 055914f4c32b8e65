import CSystemd

/// What systemd's manager (PID 1) says of itself.
public enum SystemdManager {
    /// SoftRebootsCount (systemd 256+): the soft reboots since the kernel
    /// booted, or why PID 1 did not say (no libsystemd, no systemd, an older
    /// systemd without the property).
    public static func softRebootsCount() -> Result<Int, ManagerUnanswered> {
        var count: CUnsignedInt = 0
        var message = [CChar](repeating: 0, count: 256)
        let rc = cw_systemd_soft_reboots(&count, &message, CInt(message.count))
        guard rc == 0 else { return .failure(ManagerUnanswered(description: String(cString: message))) }
        return .success(Int(count))
    }

    public struct ManagerUnanswered: Error, CustomStringConvertible {
        public let description: String
    }
}
