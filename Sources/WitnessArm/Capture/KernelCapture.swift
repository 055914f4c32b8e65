import CWitness
import Dispatch
import Glibc
import WitnessCapture
import WitnessModel
import WitnessSystem

/// arm's kernel side: the probes (pinned or not), the hold and the
/// heartbeat that keeps it alive, and how well the loop kept that beat.
final class KernelCapture {
    /// The controller's nice value: a flood of callers at the default
    /// priority must not starve the loop that stores records and beats for the hold.
    static let loopNice: Int32 = -10

    let probes: WitnessProbes
    let options: ArmOptions.Capture
    private(set) var hold: Capability = .unavailable("off (--no-hold)")
    private var heartbeat: HoldHeartbeat?
    /// The longest the loop went between two heartbeats (ns): past
    /// RW_HOLD_HEARTBEAT_NS a held call would have been let through unrecorded.
    private(set) var longestBeatGap: Int64 = 0
    private var lastBeat: Int64 = 0
    private(set) var loopPriority = LoopPriority(nice: 0, wanted: KernelCapture.loopNice, error: nil)
    /// The kernel's types CO-RE needs, kept in the store for the next cold arms.
    private let coreBTFCache: CoreBTFCache
    private(set) var coreBTF: Capability = .unknown("not armed yet")
    /// The subset is written into the store from another thread: never once
    /// the final stage has closed the store for the read-only remount.
    private let storeWrites = StoreWriteGate()

    init(features: KernelFeatures, options: ArmOptions.Capture, store: String) {
        self.options = options
        probes = WitnessProbes(features: features, policy: options.attach, pins: options.pinDirectory.map(CapturePins.init))
        coreBTFCache = CoreBTFCache(store: store, release: features.release)
    }

    /// "14 of 31 probe points attached (tracepoint 3, kprobe 11)".
    var attachedSummary: String {
        let points = ProbeCatalog.all.filter { !$0.isControl }
        var byMode: [AttachMode: Int] = [:]
        for point in points {
            if let mode = probes.states[point.id]?.attachMode { byMode[mode, default: 0] += 1 }
        }
        let modes = AttachMode.allCases.compactMap { mode in byMode[mode].map { "\(mode.rawValue) \($0)" } }
        return "\(byMode.values.reduce(0, +)) of \(points.count) probe points attached (\(modes.joined(separator: ", ")))"
    }

    /// Raises the loop's priority, then loads and attaches (a fresh capture:
    /// its first light; else every point that can attach now, adopting a
    /// pinned capture of this build).
    func arm() throws {
        let (nice, error) = SystemCalls.setNice(Self.loopNice)
        loopPriority = LoopPriority(nice: nice, wanted: Self.loopNice, error: error?.symbolicName)
        probes.coreBTF = coreBTFCache.usable
        try probes.arm(replacePrograms: options.replacePrograms)
        lastBeat = SystemCalls.clocks().boottime
    }

    /// Once armed: where no subset of this kernel's BTF was kept, makes one
    /// on another thread (the loop and its heartbeat never wait for it).
    func keepCoreBTF() {
        if let used = probes.coreBTF {
            coreBTF = .available(via: used, active: true)
            return
        }
        guard coreBTFCache.path != nil else {
            coreBTF = .unavailable("no kernel BTF to take it from")
            return
        }
        coreBTF = .available(via: coreBTFCache.path, active: false, "made now, for the next cold arm")
        let cache = coreBTFCache, gate = storeWrites
        DispatchQueue.global().async {
            do {
                if let subset = try cache.make() { try gate.write { try cache.keep(subset) } }
            } catch {
                StandardError.write("reboot-witness: the CO-RE BTF subset for the next arm could not be kept: \(error)\n")
            }
            // The 5 MB kernel BTF it parsed is freed: give the pages back.
            cw_release_free_memory()
        }
    }

    /// The final stage: nothing more is written into the store's directory
    /// from another thread; a write under way (milliseconds) is finished first.
    func stopWritingToTheStore() {
        storeWrites.close()
    }

    /// Arms the hold; throws for a bad allowlist (the operator asked for
    /// something impossible), says in `hold` why there is none otherwise.
    func armHold(_ options: ArmOptions.Hold) throws {
        guard options.enabled else { return }
        switch try probes.armHold(allowing: options.allowlist, via: options.via) {
        case .success(let (mechanism, beat)):
            heartbeat = beat
            beat.beat()
            hold = .available(via: mechanism.rawValue, active: true)
        case .failure(let refusal):
            hold = .unavailable(refusal.reason)
        }
    }

    /// Tells the kernel the loop is alive (the hold lasts only while it
    /// beats, RW_HOLD_HEARTBEAT_NS), and keeps the longest gap.
    func beat() {
        heartbeat?.beat()
        let now = SystemCalls.clocks().boottime
        longestBeatGap = max(longestBeatGap, now - lastBeat)
        lastBeat = now
    }

    /// A clean stop: the hold ends at once.
    func stopHold() {
        heartbeat?.stop()
    }

    /// Points newly attached because `module` loaded.
    func moduleLoaded(_ module: String) -> [String] {
        probes.moduleLoaded(module)
    }
}

/// The loop's scheduling priority: what arm asked for and got.
public struct LoopPriority: Codable, Equatable, Sendable {
    public var nice: Int32
    public var wanted: Int32
    /// Why the wanted value could not be set (errno name), if it could not.
    public var error: String?

    public var line: String {
        "nice \(nice)" + (error.map { " (could not set \(wanted): \($0))" } ?? "")
    }
}

/// Writes into the store's directory from other threads, one at a time,
/// until the final stage closes the gate (a file open for writing would
/// fail systemd-shutdown's read-only remount).
final class StoreWriteGate: @unchecked Sendable {
    private let queue = DispatchQueue(label: "reboot-witness.store-writes")
    private var closed = false

    /// Runs `body` unless the gate is closed; returns whether it ran.
    @discardableResult
    func write(_ body: () throws -> Void) throws -> Bool {
        try queue.sync {
            guard !closed else { return false }
            try body()
            return true
        }
    }

    /// Closes the gate, once a write under way is done.
    func close() {
        queue.sync { closed = true }
    }
}
