import WitnessReport
import FoundationEssentials
import CSystemd
import Dispatch
import Glibc
import Synchronization
import WitnessPreflight
import WitnessStore
import WitnessSystem
import WitnessModel

/// `arm`'s preflight: at start, when the boot files change, and with every
/// reboot intent, `reboot-witness preflight --json` runs in a child process
/// (off the loop: the hold's heartbeat never waits for it; bounded in time:
/// killed after `timeoutSeconds`). Each result is stored; a failing one is
/// logged loudly, and with `--block-bad-reboot` held as a logind "block"
/// inhibitor for shutdown until a later preflight passes.
public final class PreflightWatch {
    public struct Options {
        /// While preflight fails, hold a logind "block" inhibitor for shutdown.
        public var blockBadReboot = false
        public init() {}
    }

    enum Trigger: Sendable {
        case started, bootFilesChanged
        case intent(String)

        var text: String {
            switch self {
            case .started: return "arm started"
            case .bootFilesChanged: return "boot files changed"
            case .intent(let who): return "intent: \(who)"
            }
        }
    }

    struct Result: Sendable {
        var trigger: Trigger
        var report: PreflightReport?
        var failure: String?
    }

    static let timeoutSeconds = 20.0
    /// What changes the next boot: its kernels, images and boot loader configuration.
    static let watchedPaths = ["/boot", "/boot/grub", "/boot/grub2", "/boot/loader/entries", "/boot/efi/loader/entries",
                               "/efi/loader/entries", "/etc/fstab"]

    /// Results from the background runs, for the loop (a class: a Mutex cannot be captured by value).
    final class Inbox: Sendable {
        let results = Mutex<[Result]>([])
    }

    let block: Bool
    private let inbox = Inbox()
    private var running = false
    private var queued: Trigger?
    private var stamp: [String: Int64]
    /// The last result, by which intents made shortly after it are answered without a new run.
    private(set) var latest: (report: PreflightReport, at: Int64)?
    /// The logind inhibitor held while the latest preflight fails (--block-bad-reboot).
    private var inhibitor: CInt?
    /// What `--block-bad-reboot` holds: nil before it was ever needed.
    private(set) var inhibitorState: Capability?

    init(_ options: Options) {
        block = options.blockBadReboot
        stamp = Self.bootFilesStamp()
    }

    deinit {
        if let inhibitor { close(inhibitor) }
    }

    /// Modification times of the watched paths (a directory's changes when a file in it is added, replaced or removed).
    static func bootFilesStamp() -> [String: Int64] {
        var stamp: [String: Int64] = [:]
        for path in watchedPaths {
            if let st = SystemCalls.fileStatus(path) { stamp[path] = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec) }
        }
        return stamp
    }

    /// Runs preflight for `trigger` in the background (once at a time; a
    /// trigger that comes meanwhile runs right after).
    func request(_ trigger: Trigger) {
        guard !running else {
            queued = trigger
            return
        }
        running = true
        let inbox = self.inbox
        DispatchQueue.global().async {
            let result = Self.runPreflight(trigger)
            inbox.results.withLock { $0.append(result) }
        }
    }

    /// From the loop: a run for the boot files if they changed (checked now).
    func checkBootFiles() {
        let now = Self.bootFilesStamp()
        guard now != stamp else { return }
        stamp = now
        request(.bootFilesChanged)
    }

    /// A reboot intent: answered by a fresh run (the files may have changed a moment ago).
    func intent(_ record: CallerRecord) {
        request(.intent("\(record.cmdArg ?? record.comm) by \(record.loginUser ?? record.user ?? "uid \(record.uid)")[\(record.pid)]"))
    }

    /// Results that came in since the last call; starts the queued run.
    func collect() -> [Result] {
        let done = inbox.results.withLock { taken -> [Result] in
            let out = taken
            taken.removeAll()
            return out
        }
        guard !done.isEmpty else { return [] }
        running = false
        for result in done {
            if let report = result.report { latest = (report, SystemCalls.clocks().boottime) }
        }
        if let next = queued {
            queued = nil
            request(next)
        }
        if block, let report = latest?.report { updateInhibitor(report) }
        return done
    }

    private static func runPreflight(_ trigger: Trigger) -> Result {
        let exe = SystemCalls.realPath("/proc/self/exe") ?? CommandLine.arguments[0]
        let run = Subprocess.run([exe, "preflight", "--json"], timeoutSeconds: timeoutSeconds)
        if run.timedOut { return Result(trigger: trigger, report: nil, failure: "preflight did not finish in \(Int(timeoutSeconds)) s (killed)") }
        do {
            return Result(trigger: trigger, report: try JSONDecoder().decode(PreflightReport.self, from: Data(run.output)), failure: nil)
        } catch {
            return Result(trigger: trigger, report: nil, failure: "preflight exited \(run.status) without a report (\(error))")
        }
    }

    /// Holds the inhibitor while the next boot would fail, releases it once it would not.
    private func updateInhibitor(_ report: PreflightReport) {
        if report.outcome == .likelyFails, inhibitor == nil {
            var message = [CChar](repeating: 0, count: 512)
            let why = "the next boot would likely fail to mount root: " + report.headline
            let fd = cw_logind_inhibit("shutdown", "reboot-witness", why, "block", &message, CInt(message.count))
            if fd >= 0 {
                inhibitor = fd
                inhibitorState = .available(via: "logind block inhibitor for shutdown", active: true, why)
            } else {
                inhibitorState = .failed("could not take a logind inhibitor: \(String(cString: message))")
            }
        } else if report.outcome != .likelyFails, let fd = inhibitor {
            close(fd)
            inhibitor = nil
            inhibitorState = .available(via: "logind block inhibitor for shutdown", active: false, "released: the next boot should come up")
        }
    }

    /// What `status` says of preflight.
    var state: ArmState.Preflight {
        ArmState.Preflight(state: .available(via: "reboot-witness preflight --json", active: true,
                                             latest == nil ? "not run yet" : nil),
                           outcome: latest?.report.outcome.rawValue, headline: latest?.report.headline,
                           inhibitor: block ? inhibitorState ?? .available(via: "logind block inhibitor for shutdown", active: false,
                                                                            "not needed so far") : nil)
    }

    /// The stored form of a result.
    static func record(_ result: Result, bootID: String) -> PreflightRecord {
        let report = result.report
        let problems = report?.findings.filter { $0.severity >= .unknown }.map { "\($0.check): \($0.message)" }
            ?? [result.failure ?? "no report"]
        return PreflightRecord(bootID: bootID, time: WallClock.now(), trigger: result.trigger.text,
                               outcome: report?.outcome.rawValue ?? "unknown", kernel: report?.nextBoot?.kernel,
                               version: report?.nextBoot?.version, initrds: report?.nextBoot?.initrds ?? [],
                               rule: report?.nextBoot?.rule, problems: problems)
    }
}
