import FoundationEssentials
import WitnessSystem

/// The previous boots' journal, through `journalctl -o json` (its export
/// format is the stable interface; the files' format is not).
public enum JournalFacts {
    /// Lines of `boot` (its boot id) that can matter for a verdict, or []
    /// where the journal is not persistent, absent, or has no such boot.
    public static func read(boot: String) -> [JournalLine] {
        let id = boot.filter { $0 != "-" }
        guard id.count == 32, let output = Subprocess.capture(
            ["journalctl", "-b", id, "-o", "json", "--no-pager", "-q"]) else { return [] }
        return parse(output)
    }

    /// Export lines (one JSON object each) → the lines worth keeping.
    public static func parse(_ text: String) -> [JournalLine] {
        var lines: [JournalLine] = []
        let decoder = JSONDecoder()
        for raw in text.split(separator: "\n") where raw.first == "{" {
            // MESSAGE is an array of bytes when it is not UTF-8: such lines are skipped.
            guard let entry = try? decoder.decode(ExportLine.self, from: Data(raw.utf8)),
                  let message = entry.MESSAGE, isTelling(message) else { continue }
            let micros = entry.__REALTIME_TIMESTAMP.flatMap { Int64($0) }
            lines.append(JournalLine(time: micros.map { WallClock.iso8601(realtimeNanoseconds: $0 * 1000) },
                                     unit: entry._SYSTEMD_UNIT ?? entry.UNIT, identifier: entry.SYSLOG_IDENTIFIER,
                                     message: message))
        }
        return lines
    }

    // swiftlint:disable:next identifier_name
    private struct ExportLine: Decodable {
        var MESSAGE: String?
        var __REALTIME_TIMESTAMP: String?
        var _SYSTEMD_UNIT: String?
        var UNIT: String?
        var SYSLOG_IDENTIFIER: String?
    }

    static let markers = ["System is rebooting", "System is powering down", "System is halting", "Power key pressed",
                          "Reached target reboot.target", "Reached target poweroff.target", "Reached target Reboot",
                          "Reached target System Reboot", "Reached target Power-Off", "Reached target System Power Off",
                          "Reached target Halt", "Reached target kexec", "Reached target halt.target", "Out of memory", "oom-kill", "Killed process",
                          "restart counter is at", "watchdog", "Watchdog", "reboot-witness", "Rebooting.", "Powering off.",
                          "machine-config-daemon", "blocked for more than"]

    static func isTelling(_ message: String) -> Bool {
        markers.contains { message.contains($0) }
    }
}
