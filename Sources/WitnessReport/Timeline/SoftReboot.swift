import WitnessEvidence
import WitnessModel
import WitnessSystem

/// One soft reboot inside a boot (systemd 254+): PID 1 stopped every unit,
/// killed what was left and re-executed itself; the kernel and the boot id
/// stayed. It ends one userspace session of the boot and begins the next.
public struct SoftReboot: Equatable, Sendable {
    /// systemd's SoftRebootsCount once it was done (1: the boot's first).
    public var number: Int
    /// When PID 1 re-executed itself; nil for one only a later count tells
    /// of (it happened while the witness was not armed).
    public var time: String?
    /// PID 1's exec of itself with --switched-root.
    public var reexec: CallerRecord?
    /// Who asked for it: `systemctl soft-reboot`, or the D-Bus call.
    public var intent: CallerRecord?
    /// PID 1's "Soft-reboot finished …, counter is now at N." in the journal.
    public var journal: JournalSoftReboot?
    /// For one only a count tells of: the start marker that counted it (it
    /// happened before then).
    public var countedAt: String?

    public init(number: Int, time: String? = nil, reexec: CallerRecord? = nil, intent: CallerRecord? = nil, journal: JournalSoftReboot? = nil,
                countedAt: String? = nil) {
        self.number = number; self.time = time; self.reexec = reexec; self.intent = intent; self.journal = journal
        self.countedAt = countedAt
    }

    /// It happened by then, as far as anything says.
    var happenedBy: String? { time ?? countedAt }
}

extension HostEvidence {
    /// A boot's soft reboots, oldest first: the store's, each with PID 1's
    /// journal line where the journal has it, and the journal's alone where
    /// the witness was not armed.
    public func softReboots(of boot: BootTimeline.Boot) -> [SoftReboot] {
        softRebootEvidence(of: boot).found
    }

    /// The same, with the journal's lines posing as PID 1's (findings of their own).
    func softRebootEvidence(of boot: BootTimeline.Boot) -> (found: [SoftReboot], forgeries: [ForgedLine]) {
        var merged = boot.witness?.softReboots ?? []
        guard let id = boot.id, let reader = try? journal?.get() else { return (merged, []) }
        let (logs, forgeries) = JournalEvidence.softReboots(of: id, in: reader)
        for logged in logs {
            // The same soft reboot: PID 1's re-exec between the new userspace's start and its line (by
            // time, not by number: a lost exec record or a count the store lacks shifts the store's numbers).
            let window = (logged.began.microseconds - 5_000_000)...(Instant(iso8601: logged.line.time ?? "")?.microseconds ?? logged.began.microseconds)
            if let known = merged.firstIndex(where: { $0.journal == nil && $0.reexec.flatMap { Instant(iso8601: $0.time) }
                                                  .map { window.contains($0.microseconds) } == true })
                ?? merged.firstIndex(where: { $0.journal == nil && $0.reexec == nil && $0.number == logged.number }) {
                merged[known].journal = logged
                merged[known].number = logged.number  // systemd's own count
            } else {
                merged.append(SoftReboot(number: logged.number, time: logged.began.iso8601, journal: logged))
            }
        }
        return (merged.sorted { ($0.happenedBy ?? "", $0.number) < ($1.happenedBy ?? "", $1.number) }, forgeries)
    }
}

extension WitnessBoot {
    /// Folds one store entry of this boot into its soft reboots: a start
    /// marker's SoftRebootsCount accounts for those before it; PID 1's
    /// re-exec is the next one, asked for by the last soft-reboot request since
    /// the previous one.
    mutating func noteSoftReboots(_ entry: StoreEntry, intents: [CallerRecord]) {
        switch entry {
        case .start(let marker):
            guard let count = marker.softReboots else { return }
            let known = softReboots.last?.number ?? 0
            if count > known {
                softReboots += (known + 1...count).map { SoftReboot(number: $0, countedAt: marker.time) }
            }
        case .caller(let record) where record.isPidOneReexecForSoftReboot:
            let previous = softReboots.last
            let asked = CallerRecord.initiatingIntent(in: intents.filter { $0 != record }, before: record.time,
                                                      after: previous?.happenedBy, ending: .softReboot, asking: { $0 == .softReboot })
            softReboots.append(SoftReboot(number: (previous?.number ?? 0) + 1, time: record.time, reexec: record, intent: asked))
        default:
            return
        }
    }
}

extension CallerRecord {
    /// The machine's init re-executing itself for a soft reboot (the kernel
    /// reports only tgid 1 of the initial PID namespace; this checks again).
    public var isPidOneReexecForSoftReboot: Bool {
        probe == .execIntent && pid == 1 && inInitPidNs != false && cmd == .softReboot
    }
}
