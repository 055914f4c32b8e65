import Glibc
import SystemPackage
import WitnessCapture
import WitnessModel
import WitnessStore
import WitnessSystem

/// The final stage of a systemd shutdown. PID 1 becomes `systemd-shutdown`,
/// which kills every process not marked with argv[0] "@", remounts the file
/// systems read-only (an open store would make that fail) and calls reboot(2)
/// right away. Started as `@reboot-witness`, `arm` survives the kill: when
/// PID 1 becomes systemd-shutdown it writes its stop marker, reserves a few
/// slots, closes the store, and from then on writes records through the block
/// device. PID 1's reboot(2) waits in the kernel until its record is durable
/// (never denied: a failed reboot(2) freezes systemd-shutdown).
public final class FinalStage {
    public struct Options {
        /// Off (`--no-final-stage`): arm stops as on SIGTERM when PID 1 becomes systemd-shutdown.
        public var enabled = true
        /// Whose exec of systemd-shutdown starts it: PID 1, or a test's stand-in.
        public var pid: UInt32 = 1
        public init() {}
    }

    /// Slots reserved for the final stage: PID 1's last call and a few stragglers.
    static let slotCount = 8
    /// The longest PID 1's reboot(2) waits for its record.
    static let budgetMilliseconds: UInt64 = 2000
    /// The longest a kernel thread about to restart waits: its record and
    /// the interrupt's before it are symbolized (a read of /proc/kallsyms,
    /// over a second under emulation) and stored first.
    static let kernelPathBudgetMilliseconds: UInt64 = 5000

    let options: Options
    /// PID 1 became systemd-shutdown: the store is closed.
    private(set) var active = false

    init(_ options: Options) {
        self.options = options
    }

    var enabled: Bool { options.enabled }
    var pid: UInt32 { options.pid }

    /// Whether a process killer that spares argv[0] "@" processes spares us.
    static var survivesShutdownKill: Bool { CommandLine.arguments.first?.hasPrefix("@") == true }

    /// Is this record our PID becoming systemd-shutdown?
    func isTrigger(_ record: CallerRecord) -> Bool {
        !active && record.probe == .execIntent && record.pid == pid
            && record.comm.hasPrefix("systemd-shutdow") && record.cmd != nil
    }

    /// What `status` says about the final stage before it starts.
    func plan(finalWaitPossible: Bool) -> FinalStagePlan {
        guard enabled else { return FinalStagePlan(state: .unavailable("off (--no-final-stage)"), pid: pid, survivesKill: nil, kernelWait: nil) }
        let wait: Capability = finalWaitPossible ? .available(via: "bpf_loop")
            : .unavailable("no bpf_loop (kernel before 5.17): whether PID \(pid)'s record lands first is a race")
        let survives = Self.survivesShutdownKill
        let state: Capability = survives
            ? .available(via: "the store's reserved slots, written through its block device")
            : .unavailable("argv[0] has no @: systemd-shutdown's kill ends arm first (start it as @reboot-witness, see the unit)")
        return FinalStagePlan(state: state, pid: pid, survivesKill: survives, kernelWait: wait)
    }

    /// Closes the store for systemd-shutdown's read-only remount (after
    /// `closing` stored the stop marker) and switches `path` to reserved
    /// slots written through the block device. Returns the line to log.
    func enter(after trigger: CallerRecord, path: RecordPath, probes: WitnessProbes, closing: () throws -> Void) -> String {
        active = true
        do {
            try closing()
            guard let slotStore = path.store as? SlotStore else { throw StoreError("the store is not a slot store") }
            let slots: FinalSlots
            do {
                slots = try slotStore.reserveFinalSlots(count: Self.slotCount)
            } catch {
                slotStore.close()
                throw error
            }
            slotStore.close()
            path.store = FinalStageStore(slots: slots, pid: pid, kmsg: path.kmsg)
            return "final stage: store closed for `\(trigger.cmdArg ?? "systemd-shutdown")`; PID \(pid)'s "
                + "reboot(2) goes to \(slots.remaining) reserved slots through \(slots.device) (\(slots.fileSystem)), "
                + wait(probes)
        } catch {
            (path.store as? SlotStore)?.close()
            path.store = FinalStageStore(slots: nil, pid: pid, kmsg: path.kmsg, location: path.store.location)
            return "final stage: store closed for systemd-shutdown; PID \(pid)'s reboot(2) cannot be stored: \(error)"
        }
    }

    /// Why no caller can wait in the kernel for its record on this machine, or nil.
    private static func cannotWait(_ probes: WitnessProbes) -> String? {
        if SystemCalls.onlineCPUs() < 2 { return "one CPU online: a waiting caller would starve us" }
        if !probes.finalWaitPossible { return "no bpf_loop in this kernel, before 5.17: the reboot(2) program cannot wait" }
        return nil
    }

    /// Makes PID 1's reboot(2) wait in the kernel for its record, where it can.
    private func wait(_ probes: WitnessProbes) -> String {
        if let why = Self.cannotWait(probes) { return "without waiting (\(why))" }
        do {
            try probes.setFinalWait(tgid: pid, budgetMilliseconds: Self.budgetMilliseconds)
            return "waiting up to \(Self.budgetMilliseconds) ms in the kernel for them"
        } catch {
            return "without waiting (\(error))"
        }
    }

    /// Arms the kernel-path wait: a kernel thread about to restart the
    /// machine with no caller to hold (deferred_cad, Ctrl-Alt-Del with
    /// kernel.ctrl-alt-del = 1) waits for its record. Where it could not be
    /// armed for an error, the line to log (status's final_stage.kernel_wait
    /// says where the kernel or the machine cannot).
    func armKernelPathWait(_ probes: WitnessProbes) -> String? {
        guard Self.cannotWait(probes) == nil else { return nil }
        do {
            try probes.setFinalWait(tgid: 0, budgetMilliseconds: Self.kernelPathBudgetMilliseconds)
            return nil
        } catch {
            return "kernel paths with no caller to hold (deferred_cad): records without waiting (\(error))"
        }
    }

    /// Lets callers waiting in the kernel go on once their records are durable
    /// (or could not be made so: waiting longer would not help).
    func release(_ captured: [CapturedRecord], stored: Bool, probes: WitnessProbes, kmsg: KernelLog) {
        for record in captured where record.finalWait {
            // Logged before the release: the machine goes down right after it,
            // and pstore's shutdown dump (where there is one) keeps the line.
            let releasing = SystemCalls.clocks().boottime
            let waited = (Double(releasing - Int64(record.bootNanoseconds)) / 1e4).rounded() / 100
            let line = "\(active ? "final stage" : "kernel path"): \(record.comm)[\(record.pid)]'s \(active ? "reboot(2) " : "")record \(stored ? "durable" : "NOT stored"), "
                + "released after \(waited) ms"
            kmsg.write("reboot-witness: " + line)
            do {
                // Before the final stage the wait stays armed for kernel threads (tgid 0).
                try probes.acknowledgeFinal(tgid: active ? pid : 0,
                                            budgetMilliseconds: active ? Self.budgetMilliseconds : Self.kernelPathBudgetMilliseconds,
                                            bootNanoseconds: record.bootNanoseconds)
                StandardError.write(line + " (acknowledged at boottime \(releasing) ns or later)\n")
            } catch {
                StandardError.write("final stage: could not release \(record.comm)[\(record.pid)]: \(error)\n")
            }
        }
    }
}

/// What `status` says of the final stage.
public struct FinalStagePlan: Codable, Equatable, Sendable {
    /// Available when arm survives systemd-shutdown's kill and will follow PID `pid` into it.
    public var state: Capability
    public var pid: UInt32
    /// argv[0] starts with "@": systemd-shutdown's kill spares arm.
    public var survivesKill: Bool?
    /// PID 1's reboot(2) can wait in the kernel for its record.
    public var kernelWait: Capability?

    enum CodingKeys: String, CodingKey { case state, pid, survivesKill = "survives_kill", kernelWait = "kernel_wait" }

    public var line: String {
        guard let kernelWait else { return state.line }
        return "when PID \(pid) becomes systemd-shutdown: \(state.line); its reboot(2) waits in the kernel for the record: "
            + kernelWait.line
    }
}

/// The store in the final stage: the reserved slots, written through the
/// block device. PID 1's own reboot(2) goes first and the last slot stays
/// its own until it came: stragglers never take its place. A failure is said
/// in the kernel log and remembered, never thrown: arm must go on for the
/// records after it.
final class FinalStageStore: RecordStore {
    private let slots: FinalSlots?
    private let pid: UInt32
    private let kmsg: KernelLog
    let location: String
    private var ownCallStored = false
    private var warnedDropping = false
    /// Whether the last append made its entries durable.
    private(set) var lastAppendStored = false

    init(slots: FinalSlots?, pid: UInt32, kmsg: KernelLog, location: String? = nil) {
        self.slots = slots
        self.pid = pid
        self.kmsg = kmsg
        self.location = location ?? slots?.location ?? "final stage"
    }

    func append(_ entries: [StoreEntry]) throws {
        guard let slots else {
            lastAppendStored = false
            return
        }
        let own = entries.filter { if case .caller(let r) = $0 { return r.pid == pid } else { return false } }
        var others = entries.filter { if case .caller(let r) = $0 { return r.pid != pid } else { return true } }
        let kept = ownCallStored || !own.isEmpty ? 0 : 1
        let room = max(0, slots.remaining - own.count - kept)
        if others.count > room, !warnedDropping {
            warnedDropping = true
            say("records of other processes no longer stored: the last reserved slot is PID \(pid)'s")
        }
        others = Array(others.prefix(room))
        if own.contains(where: { if case .caller(let r) = $0 { return r.probe.isRebootSyscallEntry } else { return false } }) {
            ownCallStored = true
        }
        do {
            try slots.append(own + others)
            lastAppendStored = true
        } catch {
            lastAppendStored = false
            say("\(error)")
        }
    }

    func load() throws -> StoreContents { throw StoreError("the store is closed for the final stage") }

    private func say(_ line: String) {
        StandardError.write("final stage: \(line)\n")
        kmsg.write("reboot-witness: final stage: \(line)")
    }
}
