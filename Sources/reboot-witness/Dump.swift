import ArgumentParser
import RebootWitness
import WitnessStore

extension BootSelection: ExpressibleByArgument {}

struct Dump: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the captured callers, newest last.",
        discussion: """
            EXAMPLES:
              reboot-witness dump --boot previous
              reboot-witness dump --json --boot all | jq -r '[.time, .probe, .cmd, .comm, .pid] | @tsv'
            """
    )

    @Option(help: ArgumentHelp("Store directory.", valueName: "DIR"))
    var store: String = StoreDirectory.defaultPath

    @Flag(help: "One JSON object per line: caller records, and watchdog hunt findings (objects with \"type\": \"watchdog\").")
    var json = false

    @Option(help: "Which boot: current, previous or all.")
    var boot: BootSelection = .current

    @Flag(help: "With --json, also print the harvested pstore records (objects with \"type\": \"pstore\").")
    var pstore = false

    func run() throws {
        do {
            try StoreDirectory.prepare(store, create: false)
            let contents = try SlotStore(directory: store, create: false).load()
            let report = DumpReport(contents: contents, selection: boot, currentBoot: BootIdentity.current())
            for boot in report.boots {
                if !json {
                    print("boot \(boot): \(report.witness[boot]?.summary ?? "")")
                    for record in report.pstore[boot] ?? [] {
                        print("  pstore \(record.file): \(record.header)\(record.time.map { " (\($0))" } ?? "")")
                        for line in record.excerpt.suffix(8) { print("    \(line)") }
                    }
                } else if pstore {
                    for record in report.pstore[boot] ?? [] { print(RecordFormatter.json(StoreEntry.pstore(record))) }
                }
                for record in report.watchdog[boot] ?? [] {
                    if json {
                        print(RecordFormatter.json(StoreEntry.watchdog(record)))
                    } else {
                        print("  \(record.time)  \(record.summary)")
                        for frame in record.pinger.kernelStack.prefix(12) { print("      \(frame)") }
                    }
                }
                for item in report.items where item.record.bootID == boot {
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
