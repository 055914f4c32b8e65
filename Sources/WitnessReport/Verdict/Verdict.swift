import WitnessSystem
import WitnessStore
import WitnessModel

/// How a boot ended, as `last` answers it: one verdict, how sure it is, who
/// did it when known, and every piece of evidence for or against it.
public struct Verdict: Codable, Equatable, Sendable {
    public enum Reason: String, Codable, Sendable {
        case reboot, poweroff, halt, kexec
        /// An orderly shutdown whose kind (reboot or power-off) no source names.
        case shutdown
        case panic, watchdog
        case hardReset = "hard_reset"
        case unknown
        /// systemd's soft reboot: it ends a userspace session of a boot, never the boot.
        case softReboot = "soft_reboot"

        /// Ends someone or something asked for (as opposed to a crash or a reset).
        public var isOrderly: Bool { [.reboot, .poweroff, .halt, .kexec, .shutdown, .softReboot].contains(self) }

        /// reboot(2)'s command (RESTART, POWER_OFF…) → the verdict's reason.
        public init?(command: RebootAction) {
            switch command {
            case .restart, .restart2: self = .reboot
            case .powerOff: self = .poweroff
            case .halt: self = .halt
            case .kexec: self = .kexec
            // (a soft reboot ends no boot: the kernel and the boot id stay)
            case .cadOn, .cadOff, .suspend, .invalid, .softReboot, .kexecLoad: return nil
            }
        }
    }

    public enum Subreason: String, Codable, Sendable {
        // who asked for an orderly end
        case user, service, container, process, acpi, sysrq
        /// Begun inside the kernel: Ctrl-Alt-Del, a thermal or other hardware protection trip.
        case cad, thermal, hwProtection = "hw_protection"
        /// PID 1 or the journal show an orderly end whose requester no source names.
        case graceful
        // panics
        case oom, hungTask = "hung_task", kernel
        // watchdogs
        case softdog, hardware, watchdog
        // resets
        case noShutdownPath = "no_shutdown_path", oomThenReset = "oom_then_reset", hangThenReset = "hang_then_reset"
        /// Resets the BMC logged: its watchdog, a chassis control (IPMI power cycle/reset), a button, the power.
        case bmcWatchdog = "bmc_watchdog", chassisControl = "chassis_control", powerButton = "power_button",
             powerFailure = "power_failure"
        // unknown
        case noEvidence = "no_evidence", unclean, orderlyShutdown = "orderly_shutdown"

        /// Words for a summary ("container-initiated reboot").
        var words: String {
            switch self {
            case .service: return "service-initiated"
            case .container: return "container-initiated"
            case .process: return "process-initiated"
            case .acpi: return "hypervisor (ACPI power button)"
            case .cad: return "Ctrl-Alt-Del"
            case .thermal: return "thermal protection"
            case .hwProtection: return "hardware protection"
            default: return rawValue
            }
        }
    }

    /// How sure the verdict is: `high` only where a direct record names the
    /// cause (a witness record, or the kernel's own panic record in pstore).
    public enum Confidence: String, Codable, Comparable, Sendable {
        case low, medium, high

        public static func < (a: Confidence, b: Confidence) -> Bool {
            let order: [Confidence] = [.low, .medium, .high]
            return order.firstIndex(of: a)! < order.firstIndex(of: b)!
        }
    }

    public var reason: Reason
    public var subreason: Subreason
    public var summary: String
    public var confidence: Confidence
    public var bootID: String
    public var initiator: CallerRecord.Initiator?
    public var crashLoop: CrashLoop?
    /// Boot attempts after this boot that never came up (a root that did not
    /// mount, a boot loader's failed tries), with what says so.
    public var failedAttempts: [Evidence] = []
    public var evidence: [Evidence]
    /// The short third field of `bootstat`: container id, unit, user, culprit comm.
    public var detail: String = ""
    /// When the boot was last seen alive, by any source.
    public var lastSeen: String?

    /// A graceful end that someone asked for, and who is known: what
    /// `last --check` (node-problem-detector) calls expected. Resets,
    /// panics, watchdogs, unknown ends and orderly ends nobody is named for
    /// (the power key, a request no source names) are not.
    public var endedAsIntended: Bool {
        reason.isOrderly && [.user, .service, .container, .process].contains(subreason)
    }

    /// Android bootstat style, for fleet aggregation: "reboot,container,3f2a9c1b4d5e".
    public var bootstat: String {
        [reason.rawValue, subreason.rawValue, detail].joined(separator: ",")
    }

    /// Who ended it, in a few words, when a source names them.
    public var initiatorWords: String? {
        if let i = initiator {
            return "\(i.loginUser ?? i.user ?? i.comm)" + (i.sshPeer.map { " from \($0)" } ?? "") + " (\(i.comm)[\(i.pid)])"
                + (i.pod.map { " in pod \($0.qualified)" } ?? "")
        }
        return detail.isEmpty ? nil : detail
    }

    public struct CrashLoop: Codable, Equatable, Sendable {
        public var what: String
        public var count: UInt64
        public var source: Evidence.Source
    }

    enum CodingKeys: String, CodingKey {
        case reason, subreason, summary, confidence, bootID = "boot_id", initiator, crashLoop = "crash_loop"
        case evidence, bootstat, detail, lastSeen = "last_seen", failedAttempts = "failed_attempts"
    }

    public init(reason: Reason, subreason: Subreason, summary: String, confidence: Confidence, bootID: String,
                initiator: CallerRecord.Initiator? = nil, crashLoop: CrashLoop? = nil, evidence: [Evidence] = [],
                detail: String = "") {
        self.reason = reason; self.subreason = subreason; self.summary = summary; self.confidence = confidence
        self.bootID = bootID; self.initiator = initiator; self.crashLoop = crashLoop; self.evidence = evidence
        self.detail = detail
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        reason = try c.decode(Reason.self, forKey: .reason)
        subreason = try c.decode(Subreason.self, forKey: .subreason)
        summary = try c.decode(String.self, forKey: .summary)
        confidence = try c.decode(Confidence.self, forKey: .confidence)
        bootID = try c.decode(String.self, forKey: .bootID)
        initiator = try c.decodeIfPresent(CallerRecord.Initiator.self, forKey: .initiator)
        crashLoop = try c.decodeIfPresent(CrashLoop.self, forKey: .crashLoop)
        evidence = try c.decode([Evidence].self, forKey: .evidence)
        detail = try c.decodeIfPresent(String.self, forKey: .detail) ?? ""
        lastSeen = try c.decodeIfPresent(String.self, forKey: .lastSeen)
        failedAttempts = try c.decodeIfPresent([Evidence].self, forKey: .failedAttempts) ?? []
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(reason, forKey: .reason); try c.encode(subreason, forKey: .subreason)
        try c.encode(summary, forKey: .summary); try c.encode(confidence, forKey: .confidence)
        try c.encode(bootID, forKey: .bootID); try c.encode(initiator, forKey: .initiator)
        try c.encode(crashLoop, forKey: .crashLoop); try c.encode(evidence, forKey: .evidence)
        try c.encode(bootstat, forKey: .bootstat); try c.encode(detail, forKey: .detail)
        try c.encode(lastSeen, forKey: .lastSeen); try c.encode(failedAttempts, forKey: .failedAttempts)
    }
}

/// One fact from one source, and whether it supports the verdict.
public struct Evidence: Codable, Equatable, Sendable {
    public enum Source: String, Codable, Sendable {
        case witness, pstore, journal, audit, wtmp
        /// rsyslog's text files (no writer identity: claims).
        case syslog
        case kernelLog = "kernel-log"
        /// A watchdog driver's boot status (sysfs).
        case bootstatus
        /// The boot loader's own state (GRUB's grubenv, systemd-boot's boot counters).
        case bootLoader = "boot-loader"
        /// What `preflight` said before the reboot.
        case preflight
        /// The BMC (IPMI): its System Event Log, watchdog, restart cause.
        case bmc
    }

    /// How a piece of evidence bears on the verdict: `note` is context, such
    /// as a source that had nothing for this boot.
    public enum Stance: String, Codable, Sendable {
        case supports, contradicts, note

        public var mark: String {
            switch self {
            case .supports: return "+"
            case .contradicts: return "-"
            case .note: return "·"
            }
        }
    }

    public var source: Source
    public var time: String?
    public var excerpt: String
    public var stance: Stance

    public var supports: Bool { stance == .supports }

    public init(source: Source, time: String?, excerpt: String, stance: Stance = .supports) {
        self.source = source; self.time = time; self.excerpt = excerpt; self.stance = stance
    }

    enum CodingKeys: String, CodingKey { case source, time, excerpt, stance, supports }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        source = try c.decode(Source.self, forKey: .source)
        time = try c.decodeIfPresent(String.self, forKey: .time)
        excerpt = try c.decode(String.self, forKey: .excerpt)
        stance = try c.decodeIfPresent(Stance.self, forKey: .stance)
            ?? ((try c.decodeIfPresent(Bool.self, forKey: .supports)) == false ? .contradicts : .supports)
    }

    /// `supports` stays in the JSON for readers of earlier versions.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(source, forKey: .source); try c.encode(time, forKey: .time)
        try c.encode(excerpt, forKey: .excerpt); try c.encode(stance, forKey: .stance)
        try c.encode(supports, forKey: .supports)
    }
}
