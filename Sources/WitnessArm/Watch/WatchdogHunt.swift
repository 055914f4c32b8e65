import WitnessReport
import CWitness
import Glibc
import WitnessCapture
import WitnessStore
import WitnessSystem
import WitnessModel

/// Watches every watchdog device the kernel reports feeding (rw_watchdogs):
/// once one goes without a keepalive for half its timeout, finds where its
/// last feeder is stuck (/proc state, wchan, kernel stack) and makes that a
/// durable record, rewritten while the starvation lasts, so that a watchdog
/// reset leaves the culprit behind. The controller's view is the richer one;
/// the fire record from BPF (softdog_fire) names the feeder even if the
/// controller itself was stuck.
final class WatchdogHunt {
    /// Rewrites of an ongoing starvation record at most this often.
    static let refresh: Int64 = 1_000_000_000
    private var lastWritten: [UInt32: Int64] = [:]

    /// Records to store now (empty when every watchdog is fed).
    func findings(in states: [rw_watchdog_state], bootID: String, now: Int64) -> [WatchdogRecord] {
        var found: [WatchdogRecord] = []
        for var state in states where state.last_ping_ns > 0 && state.timeout_s > 0 {
            if state.flags & RW_WD_MAGIC_CLOSE.rawValue != 0 { continue }  // stopped on purpose
            let since = now - Int64(state.last_ping_ns)
            let threshold = max(Int64(state.timeout_s) * 500_000_000, 1_000_000_000)
            guard since >= threshold else {
                lastWritten[state.id] = nil
                continue
            }
            if let last = lastWritten[state.id], now - last < Self.refresh { continue }
            lastWritten[state.id] = now
            let comm = CString.decode(&state.pinger_comm)
            found.append(WatchdogRecord(
                bootID: bootID, time: WallClock.now(), device: "watchdog\(state.id)", timeoutSeconds: state.timeout_s,
                sinceKeepaliveSeconds: Double(since) / 1e9, keepalives: state.pings,
                lastKeepaliveBootNs: state.last_ping_ns,
                lastKeepaliveTime: WallClock.iso8601(bootNanoseconds: state.last_ping_ns),
                pinger: Self.inspect(pid: state.pinger_tgid, tid: state.pinger_tid, comm: comm)))
        }
        return found
    }

    /// What /proc says about the feeder now.
    static func inspect(pid: UInt32, tid: UInt32, comm: String) -> WatchdogRecord.Pinger {
        let task = "/proc/\(pid)/task/\(tid)"
        guard let stat = Files.readText("\(task)/stat").flatMap(ProcTaskStat.init) else {
            return .init(pid: pid, tid: tid, comm: comm, exe: nil, state: "gone", stateName: "exited",
                         wchan: nil, kernelStack: [])
        }
        let state = stat.state
        let wchan = Files.readText("\(task)/wchan").flatMap { $0.isEmpty || $0 == "0" ? nil : $0 }
        let stack = (Files.readText("\(task)/stack") ?? "").split(separator: "\n").map { line in
            // "[<0>] pipe_read+0x2f5/0x470": keep the symbol.
            String(line.split(separator: " ", maxSplits: 1).last ?? line)
        }
        return .init(pid: pid, tid: tid, comm: comm, exe: SystemCalls.readLink("/proc/\(pid)/exe"), state: state,
                     stateName: stateNames[state] ?? "unknown", wchan: wchan, kernelStack: stack)
    }

    static let stateNames = ["R": "running", "S": "sleeping", "D": "uninterruptible (disk sleep)", "T": "stopped",
                             "t": "traced", "Z": "zombie", "X": "dead", "I": "idle", "P": "parked"]
}
