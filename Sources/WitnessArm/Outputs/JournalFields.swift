import WitnessReport
import CSystemd
import Glibc
import WitnessSystem
import SystemPackage
import WitnessStore
import WitnessModel

/// The message ids of reboot-witness's journal entries; their catalog text is
/// scripts/packaging/reboot-witness.catalog (installed in
/// /usr/lib/systemd/catalog, shown by `journalctl -x`).
public enum WitnessMessageID {
    /// A caller the witness recorded (reboot(2), a kernel restart path, an intent, a watchdog finding).
    public static let record = "b1f7528de1a645298eb16b5baa51deea"
    /// How a boot ended: `last`'s verdict, logged by `arm` once at start for the previous boot.
    public static let verdict = "5e049ba2966c447d96ffa8689a1f09d3"
    /// What preflight said about the next boot (error priority when it would likely fail).
    public static let preflight = "3a4768f21a934afba9590e8819224ebd"
}

/// Records and verdicts as structured journal entries: MESSAGE_ID from the
/// catalog, REBOOT_WITNESS_* fields a fleet's journald input (Fluent Bit,
/// Vector, the OpenTelemetry collector) ships unchanged.
public enum JournalFields {
    /// journald's native protocol socket, which sd_journal_sendv writes to.
    public static let socket = "/run/systemd/journal/socket"

    public static func of(_ r: CallerRecord) -> [(String, String)] {
        var fields: [(String, String)] = [
            ("MESSAGE_ID", WitnessMessageID.record), ("PRIORITY", "5"), ("SYSLOG_IDENTIFIER", "reboot-witness"),
            ("MESSAGE", "reboot-witness: " + RecordFormatter.oneLine(r)),
            ("REBOOT_WITNESS_PROBE", r.probe.rawValue), ("REBOOT_WITNESS_PID", String(r.pid)), ("REBOOT_WITNESS_COMM", r.comm),
            ("REBOOT_WITNESS_UID", String(r.uid)), ("REBOOT_WITNESS_COUNT", String(r.count)),
            ("REBOOT_WITNESS_HELD", r.held ? "1" : "0"), ("REBOOT_WITNESS_RECORD_BOOT_ID", r.bootID),
        ]
        let optional: [(String, String?)] = [
            ("REBOOT_WITNESS_CMD", r.cmd?.rawValue), ("REBOOT_WITNESS_CMD_ARG", r.cmdArg), ("REBOOT_WITNESS_EXE", r.exe),
            ("REBOOT_WITNESS_CGROUP", r.cgroup), ("REBOOT_WITNESS_CONTAINER_RUNTIME", r.container?.runtime),
            ("REBOOT_WITNESS_CONTAINER_ID", r.container?.id), ("REBOOT_WITNESS_POD_UID", r.podUID),
            ("REBOOT_WITNESS_POD_NAMESPACE", r.pod?.namespace), ("REBOOT_WITNESS_POD_NAME", r.pod?.name),
            ("REBOOT_WITNESS_CONTAINER_NAME", r.pod?.container),
            ("REBOOT_WITNESS_LOGIN_USER", r.loginUser), ("REBOOT_WITNESS_TTY", r.tty), ("REBOOT_WITNESS_SSH_PEER", r.sshPeer),
            ("REBOOT_WITNESS_INITIATOR", r.initiator.map(describe)),
        ]
        fields += optional.compactMap { name, value in value.map { (name, $0) } }
        return fields
    }

    public static func of(_ finding: WatchdogRecord) -> [(String, String)] {
        [("MESSAGE_ID", WitnessMessageID.record), ("PRIORITY", "4"), ("SYSLOG_IDENTIFIER", "reboot-witness"),
         ("MESSAGE", "reboot-witness: " + finding.summary), ("REBOOT_WITNESS_PROBE", "watchdog_hunt"),
         ("REBOOT_WITNESS_PID", String(finding.pinger.pid)), ("REBOOT_WITNESS_COMM", finding.pinger.comm),
         ("REBOOT_WITNESS_EXE", finding.pinger.exe ?? ""), ("REBOOT_WITNESS_RECORD_BOOT_ID", finding.bootID)]
    }

    /// A preflight result: error when the next boot would likely fail, notice otherwise.
    public static func of(_ preflight: PreflightRecord) -> [(String, String)] {
        [("MESSAGE_ID", WitnessMessageID.preflight), ("PRIORITY", preflight.failing ? "3" : "5"),
         ("SYSLOG_IDENTIFIER", "reboot-witness"), ("MESSAGE", "reboot-witness: " + preflight.summary),
         ("REBOOT_WITNESS_PREFLIGHT", preflight.outcome), ("REBOOT_WITNESS_TRIGGER", preflight.trigger),
         ("REBOOT_WITNESS_NEXT_KERNEL", preflight.kernel ?? ""), ("REBOOT_WITNESS_NEXT_INITRD", preflight.initrds.joined(separator: " ")),
         ("REBOOT_WITNESS_PROBLEMS", preflight.problems.joined(separator: "; ")), ("REBOOT_WITNESS_RECORD_BOOT_ID", preflight.bootID)]
    }

    /// A verdict on how `verdict.bootID` ended: notice when someone asked
    /// for it, warning otherwise (a reset, a panic, a watchdog, unknown).
    public static func of(_ verdict: Verdict) -> [(String, String)] {
        var fields: [(String, String)] = [
            ("MESSAGE_ID", WitnessMessageID.verdict), ("PRIORITY", verdict.endedAsIntended ? "5" : "4"),
            ("SYSLOG_IDENTIFIER", "reboot-witness"),
            ("MESSAGE", "reboot-witness: boot \(verdict.bootID) ended: \(verdict.summary)"),
            ("REBOOT_WITNESS_BOOT_ID_ENDED", verdict.bootID), ("REBOOT_WITNESS_BOOTSTAT", verdict.bootstat),
            ("REBOOT_WITNESS_REASON", verdict.reason.rawValue), ("REBOOT_WITNESS_SUBREASON", verdict.subreason.rawValue),
            ("REBOOT_WITNESS_DETAIL", verdict.detail), ("REBOOT_WITNESS_CONFIDENCE", verdict.confidence.rawValue),
            ("REBOOT_WITNESS_SUMMARY", verdict.summary),
        ]
        if let initiator = verdict.initiator { fields.append(("REBOOT_WITNESS_INITIATOR", describe(initiator))) }
        if let seen = verdict.lastSeen { fields.append(("REBOOT_WITNESS_LAST_SEEN", seen)) }
        if let loop = verdict.crashLoop { fields.append(("REBOOT_WITNESS_CRASH_LOOP", "\(loop.what) ×\(loop.count)")) }
        return fields
    }

    static func describe(_ i: CallerRecord.Initiator) -> String {
        var text = "\(i.comm)[\(i.pid)]"
        if let argv = i.argv { text += " \"\(argv)\"" }
        if let user = i.loginUser ?? i.user { text += " user \(user)" }
        if let peer = i.sshPeer { text += " ssh \(peer)" }
        if let container = i.container { text += " container \(container.runtime):\(container.id.prefix(12))" }
        return text
    }

    /// One entry through sd_journal_sendv (libsystemd, loaded on first use);
    /// the errno on failure. MESSAGE is what journalctl shows people: its
    /// text from outside is escaped (TerminalText); the REBOOT_WITNESS_*
    /// fields keep the exact values for machines (journald stores bytes).
    @discardableResult
    public static func send(_ fields: [(String, String)]) -> Errno? {
        let items = fields.map { name, value in Array("\(name)=\(name == "MESSAGE" ? TerminalText.escape(value) : value)".utf8) }
        var pointers: [UnsafeMutablePointer<CChar>?] = items.map { bytes in
            let copy = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
            for (index, byte) in bytes.enumerated() { copy[index] = CChar(bitPattern: byte) }
            copy[bytes.count] = 0
            return copy
        }
        defer { pointers.forEach { $0?.deallocate() } }
        let lengths = items.map(\.count)
        let rc = pointers.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) { base in
                cw_journal_send(base, lengths, Int32(lengths.count))
            }
        }
        return rc < 0 ? Errno(rawValue: -rc) : nil
    }
}
