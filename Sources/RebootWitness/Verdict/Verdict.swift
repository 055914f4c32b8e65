import WitnessStore

/// How a boot ended, as `last` answers it: one verdict, how sure it is, who
/// did it when known, and every piece of evidence for or against it.
public struct Verdict: Codable, Equatable, Sendable {
    /// reboot, poweroff, halt, kexec, panic, watchdog, hard_reset, unknown
    public var reason: String
    /// user, service, container, acpi, sysrq, softdog, no_shutdown_path,
    /// oom_then_reset, graceful, ... (what kind of `reason`)
    public var subreason: String
    public var summary: String
    /// high (a direct record names it), medium (inferred from several
    /// sources), low (inferred from an absence, or nothing to go on)
    public var confidence: String
    public var bootID: String
    public var initiator: CallerRecord.Initiator?
    public var crashLoop: CrashLoop?
    public var evidence: [Evidence]

    /// Android bootstat style, for fleet aggregation: "reboot,container,3f2a9c1b4d5e".
    public var bootstat: String {
        [reason, subreason, detail].joined(separator: ",")
    }

    /// The short third field of `bootstat`: container id, unit, culprit comm.
    public var detail: String = ""

    public struct CrashLoop: Codable, Equatable, Sendable {
        public var what: String
        public var count: UInt64
        public var source: String
    }

    enum CodingKeys: String, CodingKey {
        case reason, subreason, summary, confidence, bootID = "boot_id", initiator, crashLoop = "crash_loop"
        case evidence, bootstat, detail
    }

    public init(reason: String, subreason: String, summary: String, confidence: String, bootID: String,
                initiator: CallerRecord.Initiator? = nil, crashLoop: CrashLoop? = nil, evidence: [Evidence] = [],
                detail: String = "") {
        self.reason = reason; self.subreason = subreason; self.summary = summary; self.confidence = confidence
        self.bootID = bootID; self.initiator = initiator; self.crashLoop = crashLoop; self.evidence = evidence
        self.detail = detail
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        reason = try c.decode(String.self, forKey: .reason)
        subreason = try c.decode(String.self, forKey: .subreason)
        summary = try c.decode(String.self, forKey: .summary)
        confidence = try c.decode(String.self, forKey: .confidence)
        bootID = try c.decode(String.self, forKey: .bootID)
        initiator = try c.decodeIfPresent(CallerRecord.Initiator.self, forKey: .initiator)
        crashLoop = try c.decodeIfPresent(CrashLoop.self, forKey: .crashLoop)
        evidence = try c.decode([Evidence].self, forKey: .evidence)
        detail = try c.decodeIfPresent(String.self, forKey: .detail) ?? ""
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(reason, forKey: .reason); try c.encode(subreason, forKey: .subreason)
        try c.encode(summary, forKey: .summary); try c.encode(confidence, forKey: .confidence)
        try c.encode(bootID, forKey: .bootID); try c.encode(initiator, forKey: .initiator)
        try c.encode(crashLoop, forKey: .crashLoop); try c.encode(evidence, forKey: .evidence)
        try c.encode(bootstat, forKey: .bootstat); try c.encode(detail, forKey: .detail)
    }
}

/// One fact from one source, and whether it supports the verdict.
public struct Evidence: Codable, Equatable, Sendable {
    /// witness, pstore, journal, wtmp, kernel-log
    public var source: String
    public var time: String?
    public var excerpt: String
    public var supports: Bool

    public init(source: String, time: String?, excerpt: String, supports: Bool = true) {
        self.source = source; self.time = time; self.excerpt = excerpt; self.supports = supports
    }
}
