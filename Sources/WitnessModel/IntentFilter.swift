/// Which executions of reboot-family tools are intents to restart, halt,
/// power off or kexec the machine, from their argv. The kernel matches only
/// the tool's name (map rw_intent_names); this decides on the arguments:
/// `systemctl reboot` is an intent, `systemctl reboot --help`,
/// `systemctl status` and `shutdown -c` are not.
public enum IntentFilter {
    /// Tool names the kernel filter matches (the comm after exec).
    public static let toolNames = ["reboot", "poweroff", "halt", "shutdown", "systemctl", "init", "telinit",
                                   "kexec", "busctl", "dbus-send", "gdbus", "systemd-shutdown"]
    /// Names whose exec counts only when the machine's init runs it: systemd
    /// re-executing itself (every user manager is a "systemd" too).
    public static let pidOneToolNames = ["systemd"]

    /// What the command line asks the machine to do, or nil (no intent).
    public static func action(argv: [String]) -> RebootAction? {
        guard let first = argv.first else { return nil }
        let tool = String(first.split(separator: "/").last ?? Substring(first))
        let args = Array(argv.dropFirst())
        if args.contains(where: { ["--help", "-h", "--version", "-V"].contains($0) }) && tool != "shutdown" && tool != "halt" {
            return nil
        }
        switch tool {
        case "reboot", "poweroff", "halt":
            if args.contains(where: { ["-w", "--wtmp-only", "--help"].contains($0) }) { return nil }
            if args.contains("-p") || args.contains("--poweroff") || tool == "poweroff" { return .powerOff }
            if args.contains("--reboot") || tool == "reboot" { return .restart }
            return .halt
        case "shutdown":
            if args.contains(where: { ["-c", "-k", "--help", "--show"].contains($0) }) { return nil }
            if args.contains(where: { $0 == "-r" || $0 == "--reboot" }) { return .restart }
            if args.contains(where: { $0 == "-H" || $0 == "--halt" }) { return .halt }
            return .powerOff  // systemd's and sysvinit's default (-h, -P, or nothing)
        case "systemctl":
            let words = args.filter { !$0.hasPrefix("-") }
            guard let verb = words.first else { return nil }
            switch verb {
            case "reboot": return .restart
            case "poweroff": return .powerOff
            case "halt": return .halt
            case "kexec": return .kexec
            case "soft-reboot": return .softReboot
            case "start", "isolate", "restart":
                return words.dropFirst().lazy.compactMap(targetAction).first
            default: return nil
            }
        case "init", "telinit":
            switch args.first {
            case "6": return .restart
            case "0": return .powerOff
            default: return nil
            }
        case "kexec":
            if args.contains(where: { ["-e", "--exec", "-f", "--force"].contains($0) }) { return .kexec }
            // Loading the image a later kexec boots (not a crash kernel: -p is kdump's).
            let loads = args.contains(where: { ["-l", "--load", "-s", "--kexec-file-syscall"].contains($0) })
            return loads && !args.contains(where: { ["-p", "--load-panic", "-u", "--unload"].contains($0) }) ? .kexecLoad : nil
        case "busctl", "dbus-send", "gdbus":
            return busCallAction(args)
        case "systemd-shutdown":  // PID 1's last phase: `systemd-shutdown reboot --log-level …`
            return shutdownVerbs[args.first ?? ""]
        case "systemd":
            // PID 1 re-executing itself: `--switched-root --system --deserialize=N` is a soft
            // reboot's (PID 1 is never in the initrd while arm runs); without --switched-root,
            // a daemon-reexec, which ends nothing.
            return args.contains("--switched-root") ? .softReboot : nil
        default:
            return nil
        }
    }

    /// A method call seen on the bus: logind's Reboot, PowerOff, Halt,
    /// KExec (and their *WithFlags), ScheduleShutdown; systemd's Reboot,
    /// PowerOff, Halt, KExec, SoftReboot and StartUnit of the matching
    /// targets. `flags`: the *WithFlags methods' first argument, where
    /// logind's RebootWithFlags carries `systemctl kexec` and `systemctl
    /// soft-reboot` (systemd 254+) as flags, not as methods of their own.
    public static func busAction(interface: String, member: String, arg0: String, flags: UInt64? = nil) -> RebootAction? {
        guard interface == "org.freedesktop.login1.Manager" || interface == "org.freedesktop.systemd1.Manager" else {
            return nil
        }
        let base = member.hasSuffix("WithFlags") ? String(member.dropLast("WithFlags".count)) : member
        switch base {
        case "Reboot":
            if let flags, flags & (LogindFlags.softReboot | LogindFlags.softRebootIfNextRootSetUp) != 0 { return .softReboot }
            if let flags, flags & LogindFlags.rebootViaKexec != 0 { return .kexec }
            return .restart
        case "SoftReboot": return .softReboot
        case "PowerOff": return .powerOff
        case "Halt": return .halt
        case "KExec": return .kexec
        case "ScheduleShutdown":
            return shutdownVerbs[arg0]
        case "StartUnit", "StartUnitReplace", "StartUnitWithFlags": return targetAction(arg0)
        default: return nil
        }
    }

    /// systemd-shutdown's verb and logind's ScheduleShutdown type.
    static let shutdownVerbs: [String: RebootAction] = ["reboot": .restart, "poweroff": .powerOff, "halt": .halt, "kexec": .kexec]

    static func targetAction(_ unit: String) -> RebootAction? {
        switch unit {
        case "reboot.target", "ctrl-alt-del.target": return .restart
        case "poweroff.target": return .powerOff
        case "halt.target": return .halt
        case "kexec.target": return .kexec
        case "soft-reboot.target": return .softReboot
        default: return nil
        }
    }

    /// logind's SD_LOGIND_* flags (systemd's login-util.h).
    enum LogindFlags {
        static let rebootViaKexec: UInt64 = 1 << 1
        static let softReboot: UInt64 = 1 << 2
        static let softRebootIfNextRootSetUp: UInt64 = 1 << 3
    }

    /// A D-Bus call to logind or systemd made from the command line.
    static func busCallAction(_ args: [String]) -> RebootAction? {
        let text = args.joined(separator: " ")
        guard text.contains("login1") || text.contains("systemd1") else { return nil }
        for (method, action) in [("Reboot", RebootAction.restart), ("PowerOff", .powerOff), ("Halt", .halt), ("KExec", .kexec),
                                 ("SoftReboot", .softReboot)]
        where args.contains(where: { $0 == method || $0.hasSuffix("." + method) }) {
            return action
        }
        if args.contains(where: { $0.hasSuffix("StartUnit") }) {
            return args.lazy.compactMap { targetAction($0.trimmingQuotes) }.first
        }
        return nil
    }
}

extension String {
    var trimmingQuotes: String {
        var s = Substring(self)
        while let c = s.first, c == "\"" || c == "'" { s = s.dropFirst() }
        while let c = s.last, c == "\"" || c == "'" { s = s.dropLast() }
        return String(s)
    }
}
