import WitnessSystem
import WitnessModel

/// The lines sudo and pkexec log for each command they run, read for the
/// reboot-family commands among them.
public enum UserCommandLine {
    /// sudo: "alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/sbin/reboot"
    /// pkexec: "alice: Executing command [USER=root] [TTY=/dev/pts/0] [CWD=/home/alice] [COMMAND=/usr/sbin/reboot]"
    /// Refusals ("command not allowed", wrong passwords) are not commands that ran.
    public static func parse(_ message: String, identifier: String, time: String) -> UserCommand? {
        let refusals = ["not allowed", "incorrect password", "NOT in sudoers", "password is required", "authentication failure"]
        guard !message.includesAny(refusals) else { return nil }
        var fields: [String: String] = [:]
        let user: Substring
        if identifier == "pkexec" {
            guard let colon = message.firstIndex(of: ":"), message.includes("Executing command") else { return nil }
            user = message[..<colon]
            var rest = message[colon...]
            while let open = rest.firstIndex(of: "["), let close = rest[open...].firstIndex(of: "]") {
                let item = rest[rest.index(after: open)..<close]
                if let equals = item.firstIndex(of: "=") { fields[String(item[..<equals])] = String(item[item.index(after: equals)...]) }
                rest = rest[rest.index(after: close)...]
            }
        } else {
            guard let separator = message.locate(" : ") else { return nil }
            user = message[..<separator.lowerBound]
            var rest = message[separator.upperBound...]
            // COMMAND= comes last and may itself contain " ; ": take the rest of the line.
            if let command = rest.locate("COMMAND=") {
                fields["COMMAND"] = String(rest[command.upperBound...])
                rest = rest[..<command.lowerBound]
            }
            for item in rest.split(separator: ";") {
                let pair = item.trimming([" "])
                if let equals = pair.firstIndex(of: "=") { fields[String(pair[..<equals])] = String(pair[pair.index(after: equals)...]) }
            }
        }
        guard let command = fields["COMMAND"], let action = IntentFilter.action(argv: command.split(separator: " ").map(String.init))
        else { return nil }
        let tty = fields["TTY"].map { $0.hasPrefix("/dev/") ? String($0.dropFirst(5)) : $0 }
        return UserCommand(time: time, action: action, command: command, user: String(user.trimming([" "])),
                           runAs: fields["USER"], tty: tty == "unknown" ? nil : tty, source: "journal", tool: identifier)
    }
}
