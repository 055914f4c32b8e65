import WitnessSystem

/// The loop's timed chores, each at its own interval on CLOCK_BOOTTIME: the
/// last-alive marker, the metrics, the counters in arm-state.json, the boot
/// files preflight watches, reconnecting to D-Bus. One place that knows when
/// each is due, instead of a timestamp per chore kept by hand.
struct PeriodicTasks {
    private struct Task {
        let name: String
        let interval: Int64
        var due: Int64
        let run: () throws -> Void
    }

    private var tasks: [Task] = []

    /// Runs `run` every `interval` ns, first `interval` after `now`.
    mutating func every(_ interval: Int64, _ name: String, from now: Int64 = SystemCalls.clocks().boottime,
                        _ run: @escaping () throws -> Void) {
        tasks.append(Task(name: name, interval: interval, due: now + interval, run: run))
    }

    /// Runs every task that is due at `now`, each once however late it is.
    mutating func runDue(at now: Int64 = SystemCalls.clocks().boottime) throws {
        for index in tasks.indices where now >= tasks[index].due {
            tasks[index].due = now + tasks[index].interval
            try tasks[index].run()
        }
    }

    /// The names of the chores, in the order they run (status, tests).
    var names: [String] { tasks.map(\.name) }

    static let second: Int64 = 1_000_000_000
}
