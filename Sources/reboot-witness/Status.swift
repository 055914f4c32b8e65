import ArgumentParser
import WitnessArm
import WitnessReport
import WitnessCapture
import WitnessStore

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Report what this kernel allows: BTF, probe points and how they attach, hold, pstore, store.",
        discussion: """
            Without a running `arm`, shows how each probe point would attach (fentry, kprobe or \
            tracepoint) or why it cannot. With one, shows how it did attach and lost records.

            EXAMPLES:
              reboot-witness status
              reboot-witness status --json | jq '.probes[] | select(.state != "unavailable")'
              reboot-witness status --ready      readiness probe: exit 0 only when armed
              reboot-witness status --json | jq .capture.counters   what the kernel dropped, spilled, aggregated
            """
    )

    @Option(help: ArgumentHelp("Store directory to describe.", valueName: "DIR"))
    var store: String = StoreDirectory.defaultPath

    @Flag(help: "Print one JSON object.")
    var json = false

    @Option(help: ArgumentHelp("Where arm pins its capture (for its counters when no arm runs).", valueName: "DIR"))
    var pinDir: String = CapturePins.defaultDirectory

    @Flag(help: "Readiness: exit 0 when an arm is running on the store in this boot, else 1; one line either way.")
    var ready = false

    func validate() throws {
        if ready && json { throw ValidationError("--ready prints one line; it does not go with --json") }
    }

    func run() throws {
        if ready {
            let (armed, line) = Readiness.check(store: store)
            emit(line)
            if !armed { throw ExitCode(1) }
            return
        }
        let report = StatusReport(storePath: store, pins: CapturePins(directory: pinDir))
        print(json ? RecordFormatter.json(report) : report.human())
    }
}
