import ArgumentParser
import WitnessSystem
import WitnessArm
import WitnessReport
import WitnessStore
import WitnessModel

extension BootSelection: ExpressibleByArgument {}

struct Dump: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Show the captured callers, newest last.",
        discussion: """
            EXAMPLES:
              reboot-witness dump --boot previous
              reboot-witness dump --json --boot all | jq -r '[.time, .probe, .cmd, .comm, .pid] | @tsv'
            """
    )

    @Option(help: ArgumentHelp("Store directory.", valueName: "DIR"))
    var store: String = StoreDirectory.defaultPath

    @Flag(help: "One JSON object per line: caller records, watchdog hunt findings (\"type\": \"watchdog\") and preflight results (\"type\": \"preflight\").")
    var json = false

    @Option(help: "Which boot: current, previous or all.")
    var boot: BootSelection = .current

    @Flag(help: "With --json, also print the harvested pstore records (objects with \"type\": \"pstore\").")
    var pstore = false

    func run() throws {
        do {
            // The previous boot is the one before this in every source's list, as `last` chooses it.
            var locations = HostEvidence.Locations()
            locations.store = store
            locations.readJournal = boot == .previous
            let host = HostEvidence(locations)
            guard let contents = try host.store.get() else {
                throw StoreError("no store at \(store) (run `reboot-witness arm --store \(store)` first)")
            }
            let report = DumpReport(timeline: host.timeline, skipped: contents.skipped, selection: boot)
            for boot in report.boots {
                if !json {
                    emit("boot \(boot): \((report.witness[boot] ?? WitnessBoot(bootID: boot)).summary)")
                    for record in report.witness[boot]?.pstore ?? [] {
                        emit("  pstore \(record.file): \(record.header)\(record.time.map { " (\($0))" } ?? "")")
                        for line in record.excerpt.suffix(8) { emit("    \(line)") }
                    }
                } else if pstore {
                    for record in report.witness[boot]?.pstore ?? [] { print(RecordFormatter.json(StoreEntry.pstore(record))) }
                }
                for record in report.witness[boot]?.watchdog ?? [] {
                    if json {
                        print(RecordFormatter.json(StoreEntry.watchdog(record)))
                    } else {
                        emit("  \(record.time)  \(record.summary)")
                        for frame in record.pinger.kernelStack.prefix(12) { emit("      \(frame)") }
                    }
                }
                for record in report.witness[boot]?.preflight ?? [] {
                    print(json ? RecordFormatter.json(StoreEntry.preflight(record)) : TerminalText.escape("  \(record.time)  \(record.summary)"))
                }
                for item in report.witness[boot]?.items ?? [] {
                    print(json ? RecordFormatter.json(item.record) : RecordFormatter.human(item.record, outcome: item.outcome))
                }
            }
            if report.skipped > 0 {
                printError("reboot-witness: skipped \(report.skipped) unreadable entr\(report.skipped == 1 ? "y" : "ies") in \(store)")
            }
            if !json && report.items.isEmpty {
                printError("reboot-witness: no records for boot selection '\(boot.rawValue)' in \(store)")
            }
        } catch {
            throw CommandFailure(error)
        }
    }
}
