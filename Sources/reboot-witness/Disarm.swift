import ArgumentParser
import Glibc
import RebootWitness
import WitnessStore

struct Disarm: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stop a running arm and restore every setting --reboot2panic changed.",
        discussion: """
            Sends SIGTERM to the arm recorded in the store (it writes its clean-stop marker and \
            restores its settings itself), then restores whatever DIR/reboot2panic.json still \
            lists, which covers an arm that was killed.

            EXAMPLES:
              reboot-witness disarm
              reboot-witness disarm --store /srv/witness
            """
    )

    @Option(help: ArgumentHelp("Store directory.", valueName: "DIR"))
    var store: String = StoreDirectory.defaultPath

    func run() throws {
        do {
            try StoreDirectory.prepare(store, create: false)
            if let state = ArmState.live(in: store) {
                kill(state.pid, SIGTERM)
                var waited = 0
                while kill(state.pid, 0) == 0 && waited < 100 {
                    usleep(50_000)
                    waited += 1
                }
                print(kill(state.pid, 0) == 0 ? "arm (pid \(state.pid)) did not stop within 5 s" : "stopped arm (pid \(state.pid))")
            }
            guard let settings = PanicSettings.load(from: store) else {
                print("no reboot2panic settings to restore")
                return
            }
            let failed = settings.restore()
            for change in settings.changes where !failed.contains(where: { $0.hasPrefix(change.path + ":") }) {
                print("restored \(change.path) = \(change.original)")
            }
            guard failed.isEmpty else {
                throw CommandFailure(description: "could not restore: " + failed.joined(separator: "; "))
            }
            PanicSettings.forget(in: store)
        } catch let error as CommandFailure {
            throw error
        } catch {
            throw CommandFailure(error)
        }
    }
}
