import ArgumentParser
import Glibc
import WitnessArm
import WitnessReport
import WitnessCapture
import WitnessStore
import WitnessSystem

struct Disarm: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disarm",
        abstract: "Stop a running arm, remove its pinned capture, restore every setting --reboot2panic changed.",
        discussion: """
            Sends SIGTERM to the arm recorded in the store (it writes its clean-stop marker and \
            restores its settings itself), unpins the capture (its programs detach: nothing is \
            recorded any more), then restores whatever DIR/reboot2panic.json still lists, which \
            covers an arm that was killed. --keep-capture leaves the pinned capture running for \
            the next arm (the packaged unit's ExecStopPost: a restart loses no call).

            EXAMPLES:
              reboot-witness disarm
              reboot-witness disarm --store /srv/witness
              reboot-witness disarm --keep-capture
            """
    )

    @Option(help: ArgumentHelp("Store directory.", valueName: "DIR"))
    var store: String = StoreDirectory.defaultPath

    @Option(help: ArgumentHelp("Where arm pinned its capture.", valueName: "DIR"))
    var pinDir: String = CapturePins.defaultDirectory

    @Flag(help: "Leave the pinned capture running (for the next arm); only stop arm and restore settings.")
    var keepCapture = false

    func run() throws {
        do {
            // No store (never armed on it): nothing to stop or restore there, but the capture may still be pinned.
            let hasStore = Files.exists(store)
            if hasStore { try StoreDirectory.prepare(store, create: false) }
            if hasStore, let state = ArmState.live(in: store) {
                kill(state.pid, SIGTERM)
                var waited = 0
                while kill(state.pid, 0) == 0 && waited < 100 {
                    usleep(50_000)
                    waited += 1
                }
                emit(kill(state.pid, 0) == 0 ? "arm (pid \(state.pid)) did not stop within 5 s" : "stopped arm (pid \(state.pid))")
            }
            if !keepCapture { try unpin() }
            guard hasStore else {
                emit("no store at \(store): no reboot2panic settings to restore")
                return
            }
            let saved: PanicSettings?
            do {
                saved = try PanicSettings.load(from: store)
            } catch {
                throw CommandFailure(description: "could not restore the reboot2panic settings: \(error)")
            }
            guard let settings = saved else {
                emit("no reboot2panic settings to restore")
                return
            }
            let failed = settings.restore()
            for change in settings.changes where !failed.contains(where: { $0.hasPrefix(change.path + ":") }) {
                emit("restored \(change.path) = \(change.original)")
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

    /// Unpins the capture unless another arm (of another store) still drains it.
    private func unpin() throws {
        let pins = CapturePins(directory: pinDir)
        guard Files.exists(pinDir) else { return }
        if let pinned = PinnedCapture.read(pins), pinned.ownerAlive {
            throw CommandFailure(description: "the capture at \(pinDir) is drained by arm pid \(pinned.ownerPid) "
                                 + "(another store?): stop that arm, or disarm its store")
        }
        pins.removeAll()
        guard !Files.exists(pinDir) else {
            throw CommandFailure(description: "could not remove everything pinned in \(pinDir)")
        }
        emit("unpinned the capture in \(pinDir): its programs detach")
    }
}
