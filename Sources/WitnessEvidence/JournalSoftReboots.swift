import WitnessSystem

/// A soft reboot as PID 1 logged it once the new userspace was up (systemd
/// 256+): "Soft-reboot finished in 14.606s, counter is now at 1.", under
/// the startup-finished MESSAGE_ID, with USERSPACE_USEC.
public struct JournalSoftReboot: Equatable, Sendable {
    /// systemd's SoftRebootsCount after it.
    public var number: Int
    public var line: JournalLine
    /// When PID 1 re-executed itself: the line's time less USERSPACE_USEC.
    public var began: Instant

    /// The count in PID 1's message, or nil for any other startup line.
    public static func count(in message: String) -> Int? {
        guard message.hasPrefix("Soft-reboot finished in "), let at = message.locate(", counter is now at ") else { return nil }
        let tail = message[at.upperBound...]
        let digits = tail.prefix { $0.isNumber }
        guard !digits.isEmpty, digits.count <= 9, tail.dropFirst(digits.count) == "." else { return nil }
        return Int(digits)
    }
}

extension JournalEvidence {
    /// How many of PID 1's startup lines of a boot are read (one per soft reboot).
    static let softRebootWindow = 256

    /// The soft reboots of `boot` PID 1 logged, oldest first, and the lines
    /// shaped like them that PID 1 did not write (a user's sd_journal_send
    /// with the MESSAGE_ID): never counted, each a finding of its own.
    public static func softReboots(of boot: String, in journal: JournalReader) -> (found: [JournalSoftReboot], forgeries: [ForgedLine]) {
        let id = JournalMatch.boot(boot)
        let fields = lineFields + ["USERSPACE_USEC"]
        // PID 1's own lines only: anyone may log this MESSAGE_ID, and a flood of it must not push PID 1's out of the window.
        let pidOne = journal.entries(JournalMatch([id, "_PID=1", "MESSAGE_ID=" + MessageID.startupFinished]), .forward,
                                     limit: softRebootWindow, fields: fields)
        var vouching = Vouching()
        let found = vouching.keep(pidOne.filter { JournalSoftReboot.count(in: $0.message) != nil }, by: .systemd)
            .compactMap { entry -> JournalSoftReboot? in
                guard let number = JournalSoftReboot.count(in: entry.message) else { return nil }
                let userspace = entry["USERSPACE_USEC"].flatMap { Int64($0) }.map { min(max($0, 0), entry.realtime) } ?? 0
                return JournalSoftReboot(number: number, line: JournalLine(entry), began: Instant(microseconds: entry.realtime - userspace))
            }
        // The same line from anyone else: a finding, never a soft reboot.
        let posing = journal.entries(JournalMatch([id, "MESSAGE_ID=" + MessageID.startupFinished]), .backward,
                                     limit: softRebootWindow, fields: fields)
            .filter { JournalSoftReboot.count(in: $0.message) != nil && !JournalVoucher.systemd.vouches(for: JournalWriter($0)) }
        posing.forEach { vouching.refuse($0, posingAs: .systemd) }
        return (found, vouching.forgeries)
    }
}
