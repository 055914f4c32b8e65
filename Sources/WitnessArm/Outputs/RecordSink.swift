import WitnessReport
import Glibc
import WitnessStore
import WitnessSystem
import WitnessModel

/// Where `arm` puts what it finds, always in this order: the store, the
/// record of truth, durable before anything else happens; then the copies
/// that may lag or fail without losing anything: the kernel log (once per
/// caller, so that the journal and pstore's dmesg carry it), a structured
/// journal entry, the NDJSON export file, standard output. Callers, D-Bus
/// intents, repeat counts and watchdog findings all take this one path.
final class RecordSink {
    /// Swapped for the reserved slots in the final stage (see ArmSession+FinalStage).
    var store: RecordStore
    let kmsg = KernelLog()
    /// pstore's message log, where the kernel has one (not Debian's).
    private let pmsg = KernelLog(path: "/dev/pmsg0", priorityPrefix: false)
    /// Callers already mirrored to the kernel log: a crash loop logs once.
    private var mirrored = Set<String>()
    private let json: Bool
    private let journal: Bool
    /// Structured journal entries are written (journald listens).
    var journalEntries: Bool { journal }
    private let export: ExportFile?
    /// Caller records made durable by this arm, by probe (the metrics' records_total).
    private(set) var storedByProbe: [String: UInt64] = [:]
    private var outputProblems = Set<String>()

    init(store: RecordStore, json: Bool, journal: Bool, export: ExportFile?) {
        self.store = store
        self.json = json
        self.journal = journal
        self.export = export
    }

    var stored: UInt64 { storedByProbe.values.reduce(0, +) }

    /// Makes `entries` durable (one fdatasync); nothing else happens before it
    /// returns. `newRecords`: false for updates of records already counted (repeat counts).
    func keep(_ entries: [StoreEntry], newRecords: Bool = true) throws {
        guard !entries.isEmpty else { return }
        try store.append(entries)
        guard newRecords else { return }
        for case .caller(let record) in entries { storedByProbe[record.probe.rawValue, default: 0] += 1 }
    }

    /// The kernel-log line of a durable caller, once per caller: first of the
    /// copies, because pstore keeps it if the machine goes down right after.
    func mirror(_ record: CallerRecord) {
        guard mirrored.count < 4096, mirrored.insert(record.dedupKey).inserted else { return }
        let line = "reboot-witness: " + RecordFormatter.oneLine(record)
        kmsg.write(line)
        pmsg.write(line)
    }

    /// The other copies of a durable caller: a journal entry, an export line, standard output.
    func publish(_ record: CallerRecord) {
        if journal { send(JournalFields.of(record)) }
        let object = RecordFormatter.json(record)
        exportLine(object)
        print(json ? object : RecordFormatter.human(record))
    }

    /// More calls of a caller already published (a crash loop, a storm): its
    /// new total on standard output and in the export file, as a "repeat"
    /// object; no journal entry (a loop would flood the journal).
    func publishRepeat(_ record: CallerRecord, added: UInt64) {
        exportLine(RecordFormatter.json(RepeatLine(record)))
        print(json ? RecordFormatter.json(record)
              : "repeated: +\(added), \(record.count) in all: \(RecordFormatter.oneLine(record))")
    }

    /// A durable watchdog finding: the kernel log, the journal, the export file, standard output.
    func publish(_ finding: WatchdogRecord) {
        kmsg.write("reboot-witness: \(finding.summary)")
        if journal { send(JournalFields.of(finding)) }
        let object = RecordFormatter.json(StoreEntry.watchdog(finding))
        exportLine(object)
        print(json ? object : "watchdog: \(finding.summary)")
    }

    /// A durable preflight result: a failing one loudly (kernel log at error
    /// priority, the journal, standard error), every one to the export file and standard output.
    func publish(_ preflight: PreflightRecord) {
        if preflight.failing {
            kmsg.write("reboot-witness: PREFLIGHT: the next boot would likely fail to mount root: " + preflight.summary, priority: 3)
            StandardError.write("reboot-witness: PREFLIGHT FAILED: \(preflight.summary)\n")
        }
        if journal { send(JournalFields.of(preflight)) }
        let object = RecordFormatter.json(StoreEntry.preflight(preflight))
        exportLine(object)
        print(json ? object : preflight.summary)
    }

    /// How the previous boot ended, logged once when arm starts.
    func publish(_ verdict: Verdict) {
        if journal { send(JournalFields.of(verdict)) }
        exportLine(RecordFormatter.json(verdict))
    }

    func flushOutput() { fflush(stdout) }

    private func send(_ fields: [(String, String)]) {
        if let error = JournalFields.send(fields) { once("journal: sd_journal_sendv: \(error)") }
    }

    private func exportLine(_ line: String) {
        guard let export else { return }
        do { try export.write(line) } catch { once("export \(export.path): \(error)") }
    }

    /// A copy that fails is said once on standard error; the store has the record.
    private func once(_ problem: String) {
        guard outputProblems.insert(problem).inserted else { return }
        StandardError.write("reboot-witness: \(problem) (the store keeps the records)\n")
    }
}

/// The export file's line for more calls of a known caller.
struct RepeatLine: Encodable {
    let type = "repeat"
    let bootID: String, probe: String, pid: UInt32, tid: UInt32, time: String, count: UInt64, lastTime: String?

    init(_ r: CallerRecord) {
        bootID = r.bootID; probe = r.probe.rawValue; pid = r.pid; tid = r.tid; time = r.time; count = r.count; lastTime = r.lastTime
    }

    enum CodingKeys: String, CodingKey {
        case type, bootID = "boot_id", probe, pid, tid, time, count, lastTime = "last_time"
    }
}
