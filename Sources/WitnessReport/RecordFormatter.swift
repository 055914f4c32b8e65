import FoundationEssentials
import WitnessSystem
import WitnessStore
import WitnessModel

/// Human and JSON renderings of records, shared by `arm` (live) and `dump`.
public enum RecordFormatter {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// One JSON object on one line.
    public static func json<T: Encodable>(_ value: T) -> String {
        guard let data = try? encoder.encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// One line for the kernel log (and so the journal and pstore's dmesg).
    public static func oneLine(_ r: CallerRecord) -> String {
        var line = "\(r.probe)"
        if let cmd = r.cmd { line += " \(cmd)" }
        if let arg = r.cmdArg { line += " \"\(arg)\"" }
        line += " by \(r.comm)[\(r.pid)] exe=\(r.exe ?? "?") uid=\(r.uid) loginuid=\(r.loginuid.map(String.init) ?? "unset")"
        if let container = r.container { line += " container=\(container.runtime):\(container.id.prefix(12))" }
        if let pod = r.pod { line += " pod=\(pod.qualified)" }
        if let peer = r.sshPeer { line += " ssh=\(peer)" }
        if !r.ancestry.isEmpty { line += " ancestry=" + r.ancestry.prefix(6).map { "\($0.comm)[\($0.pid)]" }.joined(separator: "<") }
        if r.held { line += " held" }
        if r.finalStage { line += " final-stage" }
        return line
    }

    /// `outcome` is what happened after a reboot(2) entry, when known.
    /// Lines for a terminal: what the record carries from outside is escaped.
    public static func human(_ r: CallerRecord, outcome: String? = nil) -> String {
        if r.probe == .sysExitReboot {
            return TerminalText.escape("\(r.time)  sys_exit_reboot  \(r.comm)[\(r.pid)] tid \(r.tid) "
                + WitnessBoot.returned(r.retval ?? 0))
        }
        var head = "\(r.time)  \(r.probe)"
        if let cmd = r.cmd { head += " \(cmd)" }
        if let arg = r.cmdArg { head += " \"\(arg)\"" }
        if r.count > 1 { head += "  ×\(r.count)" }
        var lines = [head]
        if let i = r.initiator {
            var asked = "    initiated by \(i.comm)[\(i.pid)] \"\(i.argv ?? "?")\" at \(i.time)"
            asked += "  login \(i.loginUser ?? "unset") session \(i.sessionid.map(String.init) ?? "unset")"
            if let tty = i.tty { asked += " tty \(tty)" }
            if let peer = i.sshPeer { asked += "  ssh from \(peer)" }
            if let container = i.container { asked += "  container \(container.runtime):\(container.id.prefix(12))" }
            lines.append(asked)
        }
        if r.context == "interrupt" {
            lines.append("    context: timer/IRQ (interrupted task \(r.comm)[\(r.pid)] is not the caller; see stack)")
        } else {
            var who = "    by \(r.comm)[\(r.pid)]"
            if r.tid != r.pid { who += " tid \(r.tid)" }
            if let exe = r.exe { who += " \(exe)" }
            who += "  uid \(r.uid)\(r.user.map { "(\($0))" } ?? "")"
            if r.euid != r.uid { who += " euid \(r.euid)" }
            who += "  login \(r.loginuid.map { "\($0)\(r.loginUser.map { "(\($0))" } ?? "")" } ?? "unset")"
            who += "  session \(r.sessionid.map(String.init) ?? "unset")"
            if let tty = r.tty { who += "  tty \(tty)" }
            if let peer = r.sshPeer { who += "  ssh from \(peer)" }
            lines.append(who)
            var place = "    cgroup \(r.cgroup ?? "?")"
            if let container = r.container {
                place += "  container \(container.runtime):\(container.id)"
                if let role = container.role { place += " (\(role))" }
            }
            if let pod = r.pod {
                place += "  pod \(pod.qualified)" + (pod.container.map { " container \($0)" } ?? "") + (r.podUID.map { " (uid \($0))" } ?? "")
            } else if let pod = r.podUID {
                place += "  pod \(pod)"
            }
            if let inInit = r.inInitPidNs, !inInit { place += "  pid-ns \(r.pidNs ?? 0) (not the host's)" }
            lines.append(place)
            if r.senderOwnsLogin1 == true { lines.append("    bus name org.freedesktop.login1 (logind's, as the bus daemon said)") }
            if !r.ancestry.isEmpty {
                lines.append("    ancestry " + r.ancestry.map { "\($0.comm)[\($0.pid)]" }.joined(separator: " ← "))
            }
        }
        if r.held && outcome == nil { lines.append("    held: denied until durable, then replayed by the witness") }
        if r.finalStage {
            // A kernel path's record (deferred_cad) waited in its kernel thread; a syscall's is PID 1's final call.
            lines.append(r.probe.kind == .kernelPath
                ? "    waited: the kernel thread restarting the machine waited in the kernel until this record was durable"
                : "    final stage: written through the block device after systemd-shutdown closed the store; the call waited for it")
        }
        if let outcome { lines.append("    outcome \(outcome)") }
        if !r.kernelStack.isEmpty {
            lines.append("    stack " + r.kernelStack.prefix(8).joined(separator: " ← "))
        }
        return TerminalText.lines(lines)
    }
}
