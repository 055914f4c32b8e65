/// What a reboot(2) call, a kernel path or a request does to the machine:
/// the vocabulary records, intents and verdicts share. Raw values are
/// reboot(2)'s command names, as records store them.
public enum RebootAction: String, Codable, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    case restart = "RESTART"
    /// RESTART with a command string for the firmware or boot loader.
    case restart2 = "RESTART2"
    case halt = "HALT"
    case powerOff = "POWER_OFF"
    case kexec = "KEXEC"
    case cadOn = "CAD_ON"
    case cadOff = "CAD_OFF"
    case suspend = "SW_SUSPEND"
    /// A reboot(2) the kernel refuses: bad magic or an unknown command.
    case invalid = "INVALID"
    /// systemd's soft reboot (254+): userspace restarts, the kernel and the
    /// boot id stay. An intent only: no reboot(2) command does it.
    case softReboot = "SOFT_REBOOT"
    /// A kernel loaded for a later kexec (`kexec -l`, `kexec -s`): what the
    /// kexec will boot and who chose it. An intent only: it ends nothing.
    case kexecLoad = "KEXEC_LOAD"

    /// Ends the machine (or, called in a child PID namespace, that namespace).
    public var stops: Bool {
        switch self {
        case .restart, .restart2, .halt, .powerOff, .kexec: return true
        case .cadOn, .cadOff, .suspend, .invalid, .softReboot, .kexecLoad: return false
        }
    }

    /// A restart of either form.
    public var restarts: Bool { self == .restart || self == .restart2 }

    /// The same end of a boot: RESTART2 is a RESTART with a string for the
    /// firmware (systemd-shutdown's where `systemctl reboot ARG` left one),
    /// which logind's relay of reboot.target cannot tell apart.
    public func endsAlike(_ other: RebootAction) -> Bool { self == other || (restarts && other.restarts) }

    /// The kernel's name, as in records, kernel log lines and the Panic record.
    public var description: String { rawValue }

    public static func < (a: RebootAction, b: RebootAction) -> Bool { a.rawValue < b.rawValue }
}
