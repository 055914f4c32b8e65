import CWitness
import FoundationEssentials
import Glibc
import WitnessCapture
import WitnessModel
import WitnessReport
import WitnessStore
import WitnessSystem

/// The one path every record takes, in an order no caller can change: the
/// store, the record of truth, durable first; then the kernel-log line
/// (pstore's dmesg keeps it if the machine goes down right after); then
/// whatever the caller must do only once the record is durable (replay a
/// held reboot(2)); then the copies that may lag or fail without losing
/// anything: a structured journal entry, the NDJSON export, standard output.
/// Callers, D-Bus intents, repeat counts, watchdog findings and preflight
/// results all take it through `record`.
final class RecordPath {
    /// How entries arrive: new records, or more calls of callers already
    /// published (each store entry carries only the growth; `totals` are
    /// their counts once stored, in the same order).
    enum Arrival {
        case new
        case repeated(totals: [UInt64])
    }

    /// Swapped for the reserved slots in the final stage (see FinalStage).
    var store: RecordStore
    let kmsg = KernelLog()
    /// pstore's message log, where the kernel has one (not Debian's).
    private let pmsg = KernelLog(path: "/dev/pmsg0", priorityPrefix: false)
    private let copies: RecordCopies
    /// Callers already mirrored to the kernel log: a crash loop logs once.
    private var mirrored = Set<String>()
    /// Caller records made durable by this arm, by probe (the metrics' records_total).
    private(set) var storedByProbe: [String: UInt64] = [:]

    init(store: RecordStore, copies: RecordCopies) {
        self.store = store
        self.copies = copies
    }

    var stored: UInt64 { storedByProbe.values.reduce(0, +) }
    var journalEntries: Bool { copies.journal }

    /// Makes `entries` durable (one fdatasync), mirrors them to the kernel
    /// log, runs `afterDurable` with whether they are durable (false only in
    /// the final stage, where a failure must not stop arm), then publishes
    /// them. Throws, before anything else happens, when the store fails.
    func record(_ entries: [StoreEntry], as arrival: Arrival = .new, afterDurable: (Bool) -> Void = { _ in }) throws {
        guard !entries.isEmpty else { return }
        try store.append(entries)
        let durable = (store as? FinalStageStore)?.lastAppendStored ?? true
        switch arrival {
        case .new:
            for case .caller(let record) in entries { storedByProbe[record.probe.rawValue, default: 0] += 1 }
            entries.forEach(mirror)
            afterDurable(durable)
            entries.forEach(copies.publish)
        case .repeated(let totals):
            afterDurable(durable)
            for (entry, total) in zip(entries, totals) { copies.publishRepeat(entry, total: total) }
        }
        copies.flush()
    }

    /// Runs the path's formatting once on a dummy record (resolve, JSON,
    /// formats): Swift's first use of each Codable conformance and generic
    /// type costs milliseconds, which a held reboot(2) must not wait for.
    func warmUp(_ resolver: RecordResolver) {
        var raw = rw_record()
        raw.version = UInt16(RW_RECORD_VERSION)
        raw.probe = UInt16(RW_PROBE_SYS_ENTER_REBOOT.rawValue)
        raw.attach = UInt16(RW_ATTACH_TRACEPOINT.rawValue)
        let record = resolver.resolve(CapturedRecord(raw))
        let json = RecordFormatter.json(StoreEntry.caller(record))
        _ = try? JSONDecoder().decode(StoreEntry.self, from: Data(json.utf8))
        _ = RecordFormatter.oneLine(record) + RecordFormatter.human(record)
    }

    /// How the previous boot ended, logged once when arm starts (not stored: `last` works it out again).
    func announce(_ verdict: Verdict) {
        copies.announce(verdict)
    }

    /// The kernel-log line of a durable entry: once per caller, and for
    /// watchdog findings and failing preflights.
    private func mirror(_ entry: StoreEntry) {
        switch entry {
        case .caller(let record):
            guard mirrored.count < 4096, mirrored.insert(record.dedupKey).inserted else { return }
            let line = "reboot-witness: " + RecordFormatter.oneLine(record)
            kmsg.write(line)
            pmsg.write(line)
        case .watchdog(let finding):
            kmsg.write("reboot-witness: \(finding.summary)")
        case .preflight(let result) where result.failing:
            kmsg.write("reboot-witness: PREFLIGHT: the next boot would likely fail to mount root: " + result.summary, priority: 3)
            StandardError.write("reboot-witness: PREFLIGHT FAILED: \(result.summary)\n")
        case .preflight, .start, .alive, .stop, .pstore:
            return
        }
    }
}
