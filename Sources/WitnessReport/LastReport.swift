import WitnessEvidence
import WitnessStore
import WitnessSystem

/// `last`: the verdict on one boot, or one line per boot (`--list`), from
/// the host's boot timeline and every source it has.
public enum LastReport {
    /// Which boot: N boots back from the running one, or a boot id (or a unique prefix of one).
    public enum Choice: Equatable, Sendable {
        case back(Int)
        case id(String)

        /// Fewer than 8 characters: a count; 8 hex digits or more: a boot id (prefix).
        public init?(_ text: String) {
            let hex = JournalReader.journalBootID(text)
            if hex.count >= 8 {
                guard hex.count <= 32, hex.allSatisfy(\.isHexDigit) else { return nil }
                self = .id(text)
            } else {
                // "-1", as `--list` and journalctl count, is 1.
                guard let n = Int(text.hasPrefix("-") ? String(text.dropFirst()) : text), n >= 0 else { return nil }
                self = .back(n)
            }
        }
    }

    /// A boot, or one userspace session of it: "N/S" or "ID/S" is the part
    /// of the boot that its soft reboot S+1 ended (S: systemd's SoftRebootsCount
    /// during that session; 0 is the boot's first).
    public struct Target: Equatable, Sendable {
        public var boot: Choice
        public var session: Int?

        public init(boot: Choice, session: Int? = nil) {
            self.boot = boot
            self.session = session
        }

        public init?(_ text: String) {
            let parts = text.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count <= 2, let boot = Choice(String(parts[0])) else { return nil }
            if parts.count == 2 {
                guard let session = Int(parts[1]), session >= 0, session < 1_000_000 else { return nil }
                self.session = session
            } else {
                // The running boot has not ended: only one of its sessions can be asked about.
                guard boot != .back(0) else { return nil }
            }
            self.boot = boot
        }
    }

    /// The chosen boot's (or session's) verdict, or why it is not known.
    public static func verdict(_ target: Target, host: HostEvidence) -> Result<Verdict, StoreError> {
        let choice = target.boot
        let timeline = host.timeline
        let index: Int?
        switch choice {
        case .back(0): index = timeline.currentIndex
        case .back(let n): index = timeline.index(back: n)
        case .id(let id): index = timeline.index(of: id)
        }
        if let index, let session = target.session { return sessionVerdict(session, of: timeline.boots[index], host: host) }
        if let index { return .success(VerdictEngine.decide(FactGathering.gather(index, in: host))) }
        if choice == .back(1), target.session == nil, host.thisHost, let current = timeline.currentIndex, current == 0 {
            // No source lists an earlier boot: what this boot's pstore and kernel log say of it is still worth a verdict.
            host.timeline.insertUnlistedBoot()
            var facts = FactGathering.gather(0, in: host)
            facts.sourceNotes.append(Evidence(source: .journal, time: nil,
                                              excerpt: "no source lists a boot before this one (volatile journal, no wtmp, no store; or this is the first boot)",
                                              stance: .note))
            return .success(VerdictEngine.decide(facts))
        }
        let counts = "store: \(timeline.boots.filter { $0.witness != nil }.count), journal: \(timeline.boots.filter { $0.journal != nil }.count), "
            + "wtmp: \(timeline.boots.filter { $0.wtmpBoot != nil }.count))" + host.journalDamageNote()
        switch choice {
        case .back(let n):
            return .failure(StoreError("this host knows \(timeline.earlier.count) boot(s) before this one (\(counts); --boot \(n) is not among them"))
        case .id(let id):
            return .failure(StoreError("no boot \(id) (or more than one starts so) among the \(timeline.boots.count) this host knows (\(counts)"))
        }
    }

    /// How session `session` of `boot` ended: its next soft reboot.
    static func sessionVerdict(_ session: Int, of boot: BootTimeline.Boot, host: HostEvidence) -> Result<Verdict, StoreError> {
        let softReboots = host.softReboots(of: boot)
        guard let soft = softReboots.first(where: { $0.number == session + 1 }) else {
            let known = softReboots.last.map { "the store and the journal know \(softReboots.count) (the last made the count \($0.number))" }
                ?? "neither the store nor the journal knows one"
            return .failure(StoreError("boot \(boot.name) has no soft reboot \(session + 1) to end session \(session): \(known)"))
        }
        return .success(VerdictEngine.softReboot(soft, bootID: boot.name, armed: boot.witness?.armed))
    }

    /// `last --check` (node-problem-detector's custom plugin protocol): the
    /// exit status (0 ended as intended, 1 not, 2 cannot tell) and one line.
    public static func check(_ result: Result<Verdict, StoreError>) -> (Int32, String) {
        switch result {
        case .failure(let error):
            return (2, "cannot tell: \(error)")
        case .success(let verdict) where verdict.bootID == BootTimeline.Boot(id: nil).name && verdict.reason == .unknown:
            return (2, "cannot tell: no source knows a boot before this one")
        case .success(let verdict):
            let line = "\(verdict.bootstat) (\(verdict.confidence.rawValue)): \(verdict.summary)"
            return verdict.endedAsIntended ? (0, "ended as intended: " + line) : (1, "unexpected end: " + line)
        }
    }

    /// One line of `last --list`.
    public struct Line: Encodable, Sendable {
        /// 0 for the running boot, -1 the one before, as `journalctl --list-boots` counts.
        public var index: Int
        public var bootID: String
        public var start: String?
        public var lastSeen: String?
        public var current: Bool
        public var verdict: Verdict?
        /// systemd's SoftRebootsCount during the part of the boot this line is
        /// about: a line of its own for each part a soft reboot ended, the
        /// boot's line for its last part.
        public var softReboots = 0
        /// This line is a part of the boot that a soft reboot ended.
        public var endedBySoftReboot = false

        enum CodingKeys: String, CodingKey {
            case index, bootID = "boot_id", softReboots = "soft_reboots_count", endedBySoftReboot = "ended_by_soft_reboot"
            case start, lastSeen = "last_seen", current
            case bootstat, confidence, initiator, summary, verdict
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index); try c.encode(bootID, forKey: .bootID)
            try c.encode(softReboots, forKey: .softReboots); try c.encode(endedBySoftReboot, forKey: .endedBySoftReboot)
            try c.encode(start, forKey: .start); try c.encode(lastSeen, forKey: .lastSeen)
            try c.encode(current, forKey: .current); try c.encode(verdict?.bootstat, forKey: .bootstat)
            try c.encode(verdict?.confidence, forKey: .confidence); try c.encode(initiator, forKey: .initiator)
            try c.encode(verdict?.summary, forKey: .summary); try c.encode(verdict, forKey: .verdict)
        }

        /// Who ended it, in a few words, when a source names them.
        public var initiator: String? { verdict?.initiatorWords }
    }

    /// The newest `count` boots (all when nil), newest first.
    public static func list(host: HostEvidence, count: Int?) -> [Line] {
        let boots = host.timeline.boots
        let newest = count.map { max(0, boots.count - $0) } ?? 0
        let current = host.timeline.currentIndex ?? boots.count
        return (newest..<boots.count).reversed().flatMap { index -> [Line] in
            let boot = boots[index]
            let facts = boot.isCurrent ? nil : FactGathering.gather(index, in: host)
            let verdict = facts.map(VerdictEngine.decide)
            let softReboots = facts?.softReboots ?? host.softReboots(of: boot)
            var line = Line(index: index - current, bootID: boot.name, start: boot.start?.iso8601,
                            lastSeen: boot.isCurrent ? nil : verdict?.lastSeen ?? boot.lastSeen?.iso8601,
                            current: boot.isCurrent, verdict: verdict)
            line.softReboots = softReboots.last?.number ?? 0
            // Each soft reboot ends a part of the boot: a line of its own, newest first as the list goes.
            let parts = softReboots.reversed().map { soft -> Line in
                let before = softReboots.last { $0.number < soft.number }
                // (after a soft reboot only a count tells of, when the part began is not known)
                let began = before.map { $0.time } ?? boot.start?.iso8601
                var part = Line(index: index - current, bootID: boot.name, start: began,
                                lastSeen: soft.time, current: false,
                                verdict: VerdictEngine.softReboot(soft, bootID: boot.name, armed: boot.witness?.armed))
                part.softReboots = soft.number - 1
                part.endedBySoftReboot = true
                return part
            }
            return [line] + parts
        }
    }

    // MARK: - Human output

    public static func human(_ verdict: Verdict) -> [String] {
        var lines = ["boot \(verdict.bootID): \(verdict.summary)",
                     "  verdict     \(verdict.reason.rawValue) / \(verdict.subreason.rawValue), confidence \(verdict.confidence.rawValue)",
                     "  bootstat    \(verdict.bootstat)"]
        if let seen = verdict.lastSeen { lines.append("  last seen   \(seen)") }
        if let loop = verdict.crashLoop { lines.append("  crash loop  \(loop.what) ×\(loop.count) (\(loop.source.rawValue))") }
        for attempt in verdict.failedAttempts {
            lines.append("  failed boot attempt after it: \(attempt.source.rawValue): \(attempt.excerpt)")
        }
        lines.append("  evidence")
        for item in verdict.evidence {
            lines.append("    \(item.stance.mark) \(item.source.rawValue.padding(10)) \((item.time ?? "").padding(24))  \(item.excerpt)")
        }
        return lines
    }

    public static func human(_ list: [Line]) -> [String] {
        let header = " IDX BOOT ID                          START                    LAST SEEN                ENDED AS (BOOTSTAT)                  CONF    INITIATOR"
        return [header] + list.flatMap { line -> [String] in
            let id = JournalReader.journalBootID(line.bootID)
            let ended = line.current ? "running" : line.verdict?.bootstat ?? "?"
            // Failed attempts came after this boot: listed above it, newest first as the list goes.
            let attempts = (line.verdict?.failedAttempts ?? []).map { attempt in
                "   ↳ " + "FAILED BOOT ATTEMPT (no boot id: it never reached userspace)".padding(89) + " "
                    + "failed_boot,\(attempt.source.rawValue),".padding(36) + " " + attempt.excerpt
            }
            let index = line.endedBySoftReboot ? "\(line.index)/\(line.softReboots)" : String(line.index)
            return attempts + [index.leftPadded(4) + " " + id.padding(32) + " " + (line.start ?? "?").padding(24) + " "
                + (line.current ? "-" : line.lastSeen ?? "?").padding(24) + " " + ended.padding(36) + " "
                + (line.verdict?.confidence.rawValue ?? "").padding(7) + " " + (line.initiator ?? "")]
        }
    }
}
