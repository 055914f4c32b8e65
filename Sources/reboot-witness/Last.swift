import ArgumentParser
import RebootWitness
import WitnessStore

struct Last: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "One verdict on how the previous boot ended, with the evidence for and against it.",
        discussion: """
            Reads the witness store (records, intents, watchdog findings, armed / alive / \
            clean-stop markers), pstore, the journal of that boot where it is persistent \
            (journalctl), wtmp, and this boot's kernel log (filesystem recovery means the \
            previous boot did not stop cleanly). Prints the verdict, its confidence, who did it \
            when known, a bootstat-style reason,subreason,detail string, and every piece of \
            evidence: + supports it, - contradicts it.

            EXAMPLES:
              reboot-witness last
              reboot-witness last --json | jq -r .bootstat
              reboot-witness last --boot 3            # three boots ago
            """
    )

    @Option(help: ArgumentHelp("Store directory.", valueName: "DIR"))
    var store: String = StoreDirectory.defaultPath

    @Option(help: ArgumentHelp("Which boot: 1 is the previous one, 2 the one before it, and so on.", valueName: "N"))
    var boot: Int = 1

    @Flag(help: "One JSON object.")
    var json = false

    @Flag(help: "Do not run journalctl.")
    var noJournal = false

    func validate() throws {
        guard boot >= 1 else { throw ValidationError("--boot counts back from the current boot: 1 or more") }
    }

    func run() throws {
        do {
            try StoreDirectory.prepare(store, create: false)
            let contents = try SlotStore(directory: store, create: false).load()
            let current = BootIdentity.current()
            let chosen = try FactGathering.chooseBoot(in: contents, back: boot, current: current).get()
            let facts = FactGathering.gather(boot: chosen, from: contents, nextIsCurrent: boot == 1, journal: !noJournal)
            let verdict = VerdictEngine.decide(facts)
            if json {
                print(RecordFormatter.json(verdict))
                return
            }
            print("boot \(chosen): \(verdict.summary)")
            print("  verdict     \(verdict.reason) / \(verdict.subreason), confidence \(verdict.confidence)")
            print("  bootstat    \(verdict.bootstat)")
            if let loop = verdict.crashLoop { print("  crash loop  \(loop.what) ×\(loop.count) (\(loop.source))") }
            print("  evidence")
            for item in verdict.evidence {
                print("    \(item.supports ? "+" : "-") \(item.source.padding(10)) \(item.time ?? "")  \(item.excerpt)")
            }
            if contents.skipped > 0 { printError("reboot-witness: skipped \(contents.skipped) unreadable entries in \(store)") }
        } catch {
            throw CommandFailure(error)
        }
    }
}
