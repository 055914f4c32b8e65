import WitnessPreflight
import WitnessSystem

/// `preflight`'s human form: one line per finding, worst first, then the answer.
public enum PreflightText {
    static let marks: [Finding.Severity: String] = [.ok: "ok     ", .info: "info   ", .warning: "WARNING", .unknown: "UNKNOWN", .error: "ERROR  "]

    public static func human(_ report: PreflightReport) -> String {
        var lines: [String] = []
        for finding in report.findings.sorted(by: { $0.severity > $1.severity }) {
            lines.append("\(marks[finding.severity] ?? "?")  \(finding.check): \(finding.message)")
            if let hint = finding.hint, finding.severity >= .warning { lines.append("         fix: \(hint)") }
        }
        switch report.outcome {
        case .bootable: lines.append("the next boot should come up (\(report.milliseconds) ms)")
        case .likelyFails: lines.append("the next boot would likely FAIL to mount root (\(report.milliseconds) ms)")
        case .unknown: lines.append("preflight could not tell whether the next boot comes up (\(report.milliseconds) ms)")
        }
        // File names, titles and grubenv values come from the inspected tree: escaped.
        return TerminalText.lines(lines)
    }
}
