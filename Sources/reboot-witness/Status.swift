import ArgumentParser
import RebootWitness
import WitnessStore

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Report what this kernel allows: BTF, probe points and how they attach, hold, pstore, store.",
        discussion: """
            Without a running `arm`, shows how each probe point would attach (fentry, kprobe or \
            tracepoint) or why it cannot. With one, shows how it did attach and lost records.

            EXAMPLES:
              reboot-witness status
              reboot-witness status --json | jq '.probes[] | select(.state != "unavailable")'
            """
    )

    @Option(help: ArgumentHelp("Store directory to describe.", valueName: "DIR"))
    var store: String = StoreDirectory.defaultPath

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let report = StatusReport(storePath: store)
        print(json ? RecordFormatter.json(report) : report.human())
    }
}
