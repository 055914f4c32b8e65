/// What `preflight` said about the next boot, stored by `arm` when it ran
/// it: at start, when the boot files changed, and with each reboot intent.
/// After a reboot that never came back, this is what names the broken image.
public struct PreflightRecord: Codable, Equatable, Sendable {
    public var bootID: String
    public var time: String
    /// Why it ran: "arm started", "boot files changed", "intent: systemctl reboot by alice[812]".
    public var trigger: String
    /// "bootable", "likely_fails" or "unknown" (preflight's exit 0, 1, 2).
    public var outcome: String
    /// The next boot as resolved, and by which rule.
    public var kernel: String?
    public var version: String?
    public var initrds: [String]
    public var rule: String?
    /// The errors and unknowns, one line each.
    public var problems: [String]

    enum CodingKeys: String, CodingKey { case bootID = "boot_id", time, trigger, outcome, kernel, version, initrds, rule, problems }

    public init(bootID: String, time: String, trigger: String, outcome: String, kernel: String?, version: String?,
                initrds: [String], rule: String?, problems: [String]) {
        self.bootID = bootID; self.time = time; self.trigger = trigger; self.outcome = outcome; self.kernel = kernel
        self.version = version; self.initrds = initrds; self.rule = rule; self.problems = problems
    }

    /// The next boot would likely fail to mount root.
    public var failing: Bool { outcome == "likely_fails" }

    public var summary: String {
        "preflight (\(trigger)): \(outcome)" + (kernel.map { " for \($0)" } ?? "")
            + (problems.isEmpty ? "" : ": " + problems.joined(separator: "; "))
    }
}
