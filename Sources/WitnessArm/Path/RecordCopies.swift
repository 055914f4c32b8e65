import Glibc
import WitnessModel
import WitnessReport
import WitnessStore
import WitnessSystem

/// The copies of durable records that may lag or fail without losing
/// anything (the store has them): structured journal entries, the NDJSON
/// export file, standard output. A copy that fails is said once.
final class RecordCopies {
    private let json: Bool
    let journal: Bool
    private let export: ExportFile?
    private var problems = Set<String>()

    init(json: Bool, journal: Bool, export: ExportFile?) {
        self.json = json
        self.journal = journal
        self.export = export
    }

    /// A durable entry's copies; boot markers and pstore records have none.
    func publish(_ entry: StoreEntry) {
        switch entry {
        case .caller(let record):
            send(JournalFields.of(record))
            let object = RecordFormatter.json(record)
            exportLine(object)
            print(json ? object : RecordFormatter.human(record))
        case .watchdog(let finding):
            send(JournalFields.of(finding))
            let object = RecordFormatter.json(entry)
            exportLine(object)
            print(json ? object : TerminalText.escape("watchdog: \(finding.summary)"))
        case .preflight(let result):
            send(JournalFields.of(result))
            let object = RecordFormatter.json(entry)
            exportLine(object)
            print(json ? object : TerminalText.escape(result.summary))
        case .start, .alive, .stop, .pstore:
            return
        }
    }

    /// More calls of a caller already published (a crash loop, a storm): its
    /// new total on standard output and in the export file, as a "repeat"
    /// object; no journal entry (a loop would flood the journal).
    func publishRepeat(_ entry: StoreEntry, total: UInt64) {
        guard case .caller(let growth) = entry else { return }
        var record = growth
        record.count = total
        exportLine(RecordFormatter.json(RepeatLine(record)))
        print(json ? RecordFormatter.json(record)
              : TerminalText.escape("repeated: +\(growth.count), \(total) in all: \(RecordFormatter.oneLine(record))"))
    }

    /// How the previous boot ended: the journal and the export file.
    func announce(_ verdict: Verdict) {
        send(JournalFields.of(verdict))
        exportLine(RecordFormatter.json(verdict))
    }

    func flush() { fflush(stdout) }

    private func send(_ fields: [(String, String)]) {
        guard journal else { return }
        if let error = JournalFields.send(fields) { once("journal: sd_journal_sendv: \(error)") }
    }

    private func exportLine(_ line: String) {
        guard let export else { return }
        do { try export.write(line) } catch { once("export \(export.path): \(error)") }
    }

    private func once(_ problem: String) {
        guard problems.insert(problem).inserted else { return }
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
