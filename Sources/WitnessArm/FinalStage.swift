import WitnessReport
import Glibc
import SystemPackage
import WitnessCapture
import WitnessStore
import WitnessSystem
import WitnessModel

/// The final stage of a systemd shutdown. PID 1 becomes `systemd-shutdown`,
/// which kills every process not marked with argv[0] "@", remounts the file
/// systems read-only (an open store would make that fail) and calls reboot(2)
/// right away. Started as `@reboot-witness`, `arm` survives the kill: when
/// PID 1 becomes systemd-shutdown it writes its stop marker, reserves a few
/// slots, closes the store, and from then on writes records through the block
/// device. PID 1's reboot(2) waits in the kernel until its record is durable
/// (never denied: a failed reboot(2) freezes systemd-shutdown).
final class FinalStage {
    /// Slots reserved for the final stage: PID 1's last call and a few stragglers.
    static let slotCount = 8
    /// The longest PID 1's reboot(2) waits for its record.
    static let budgetMilliseconds: UInt64 = 2000

    /// Off (`--no-final-stage`): arm stops as on SIGTERM when PID 1 becomes systemd-shutdown.
    let enabled: Bool
    /// Whose exec of systemd-shutdown starts it: PID 1, or a test's stand-in.
    let pid: UInt32
    /// PID 1 became systemd-shutdown: the store is closed.
    private(set) var active = false
    /// PID 1's reboot(2) has its reserved slot.
    private var ownCallStored = false
    private var warnedDropping = false

    init(enabled: Bool, pid: UInt32) {
        self.enabled = enabled
        self.pid = pid
    }

    /// Whether a process killer that spares argv[0] "@" processes spares us.
    static var survivesShutdownKill: Bool { CommandLine.arguments.first?.hasPrefix("@") == true }

    /// Is this record our PID becoming systemd-shutdown?
    func isTrigger(_ record: CallerRecord) -> Bool {
        !active && record.probe == "sched_process_exec" && record.pid == pid
            && record.comm.hasPrefix("systemd-shutdow") && record.cmd != nil
    }

    /// What `status` says about the final stage before it starts.
    func plan(finalWaitPossible: Bool) -> String {
        guard enabled else { return "off (--no-final-stage)" }
        let survival = Self.survivesShutdownKill ? "argv[0] starts with @, so systemd-shutdown's kill spares arm"
            : "argv[0] has no @: systemd-shutdown's kill ends arm first (start it as @reboot-witness, see the unit)"
        let wait = finalWaitPossible ? "its reboot(2) waits in the kernel until the record is durable"
            : "its reboot(2) cannot wait for the record (no bpf_loop, kernel before 5.17): whether it lands first is a race"
        return "when PID \(pid) becomes systemd-shutdown: close the store, write its reboot(2) through the "
            + "block device; \(wait); \(survival)"
    }

    /// Closes the store for systemd-shutdown's read-only remount (after
    /// `closing` stored the stop marker) and switches `sink` to reserved
    /// slots written through the block device. Returns the line to log.
    func enter(after trigger: CallerRecord, sink: RecordSink, probes: WitnessProbes, closing: () throws -> Void) -> String {
        active = true
        do {
            try closing()
            guard let slotStore = sink.store as? SlotStore else { throw StoreError("the store is not a slot store") }
            let slots: FinalSlots
            do {
                slots = try slotStore.reserveFinalSlots(count: Self.slotCount)
            } catch {
                slotStore.close()
                throw error
            }
            slotStore.close()
            sink.store = slots
            return "final stage: store closed for `\(trigger.cmdArg ?? "systemd-shutdown")`; PID \(pid)'s "
                + "reboot(2) goes to \(slots.remaining) reserved slots through \(slots.device) (\(slots.fileSystem)), "
                + wait(probes)
        } catch {
            (sink.store as? SlotStore)?.close()
            sink.store = ClosedStore(location: sink.store.location)
            return "final stage: store closed for systemd-shutdown; PID \(pid)'s reboot(2) cannot be stored: \(error)"
        }
    }

    /// Makes PID 1's reboot(2) wait in the kernel for its record, where it can.
    private func wait(_ probes: WitnessProbes) -> String {
        if SystemCalls.onlineCPUs() < 2 {
            return "without waiting (one CPU online: a waiting caller would starve us)"
        }
        guard probes.finalWaitPossible else {
            return "without waiting (no bpf_loop in this kernel, before 5.17: the reboot(2) program cannot wait)"
        }
        do {
            try probes.setFinalWait(tgid: pid, budgetMilliseconds: Self.budgetMilliseconds)
            return "waiting up to \(Self.budgetMilliseconds) ms in the kernel for them"
        } catch {
            return "without waiting (\(error))"
        }
    }

    /// Makes caller records durable. In the final stage a failure is reported
    /// and returned: arm must go on for the records after it. There, PID 1's
    /// own reboot(2) goes first, and the last reserved slot stays its own
    /// until it came: stragglers calling reboot(2) never take its place.
    func store(_ records: [CallerRecord], in sink: RecordSink) throws -> Bool {
        var records = records
        if active, let slots = sink.store as? FinalSlots {
            let own = records.filter { $0.pid == pid }
            var others = records.filter { $0.pid != pid }
            let kept = ownCallStored || !own.isEmpty ? 0 : 1
            let room = max(0, slots.remaining - own.count - kept)
            if others.count > room, !warnedDropping {
                warnedDropping = true
                let line = "final stage: records of other processes no longer stored: "
                    + "the last reserved slot is PID \(pid)'s"
                StandardError.write(line + "\n")
                sink.kmsg.write("reboot-witness: " + line)
            }
            others = Array(others.prefix(room))
            records = own + others
            if own.contains(where: { $0.probe == "sys_enter_reboot" }) { ownCallStored = true }
        }
        do {
            try sink.keep(records.map { .caller($0) })
            return true
        } catch where active {
            StandardError.write("final stage: \(error)\n")
            sink.kmsg.write("reboot-witness: final stage: \(error)")
            return false
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
            let line = "final stage: \(record.comm)[\(record.pid)]'s reboot(2) record \(stored ? "durable" : "NOT stored"), "
                + "released after \(waited) ms"
            kmsg.write("reboot-witness: " + line)
            do {
                try probes.acknowledgeFinal(tgid: pid, budgetMilliseconds: Self.budgetMilliseconds,
                                            bootNanoseconds: record.bootNanoseconds)
                StandardError.write(line + " (acknowledged at boottime \(releasing) ns or later)\n")
            } catch {
                StandardError.write("final stage: could not release \(record.comm)[\(record.pid)]: \(error)\n")
            }
        }
    }
}

/// The store once it could not be kept for the final stage.
final class ClosedStore: RecordStore {
    let location: String
    init(location: String) { self.location = location }
    func append(_ entries: [StoreEntry]) throws {
        throw StoreError("the store is closed for the final stage")
    }
    func load() throws -> StoreContents { throw StoreError("the store is closed for the final stage") }
}
