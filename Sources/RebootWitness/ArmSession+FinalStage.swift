import Glibc
import SystemPackage
import WitnessCapture
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
extension ArmSession {
    /// Slots reserved for the final stage: PID 1's last call and a few stragglers.
    static let finalSlotCount = 8
    /// The longest PID 1's reboot(2) waits for its record.
    static let finalBudgetMilliseconds: UInt64 = 2000

    /// Is this record PID 1 (or the test's stand-in) becoming systemd-shutdown?
    func isShutdownExec(_ record: CallerRecord) -> Bool {
        !inFinalStage && record.probe == "sched_process_exec" && record.pid == options.finalPid
            && record.comm.hasPrefix("systemd-shutdow") && record.cmd != nil
    }

    /// Whether a process killer that spares argv[0] "@" processes spares us.
    static var survivesShutdownKill: Bool { CommandLine.arguments.first?.hasPrefix("@") == true }

    /// What `status` says about the final stage before it starts.
    func finalStagePlan() -> String {
        guard options.finalStage else { return "off (--no-final-stage)" }
        let survival = Self.survivesShutdownKill ? "argv[0] starts with @, so systemd-shutdown's kill spares arm"
            : "argv[0] has no @: systemd-shutdown's kill ends arm first (start it as @reboot-witness, see the unit)"
        let wait = probes.finalWaitPossible ? "its reboot(2) waits in the kernel until the record is durable"
            : "its reboot(2) cannot wait for the record (no bpf_loop, kernel before 5.17): whether it lands first is a race"
        return "when PID \(options.finalPid) becomes systemd-shutdown: close the store, write its reboot(2) through the "
            + "block device; \(wait); \(survival)"
    }

    /// Closes the store for systemd-shutdown's read-only remount and switches
    /// to reserved slots written through the block device.
    func enterFinalStage(after trigger: CallerRecord) {
        bus = nil  // dbus-daemon is gone (or going); its socket would only wake the loop
        signal(SIGPIPE, SIG_IGN)  // journald's stream socket closes under us
        heartbeat?.beat()
        inFinalStage = true
        var line: String
        do {
            try store.append([.stop(marker())])
            try publishState(running: false)
            guard let slotStore = store as? SlotStore else { throw StoreError("the store is not a slot store") }
            let slots: FinalSlots
            do {
                slots = try slotStore.reserveFinalSlots(count: Self.finalSlotCount)
            } catch {
                slotStore.close()
                throw error
            }
            slotStore.close()
            store = slots
            var waiting = "waiting up to \(Self.finalBudgetMilliseconds) ms in the kernel for them"
            if SystemCalls.onlineCPUs() < 2 {
                waiting = "without waiting (one CPU online: a waiting caller would starve us)"
            } else if !probes.finalWaitPossible {
                waiting = "without waiting (no bpf_loop in this kernel, before 5.17: the reboot(2) program cannot wait)"
            } else {
                do {
                    try probes.setFinalWait(tgid: options.finalPid, budgetMilliseconds: Self.finalBudgetMilliseconds)
                } catch {
                    waiting = "without waiting (\(error))"
                }
            }
            line = "final stage: store closed for `\(trigger.cmdArg ?? "systemd-shutdown")`; PID \(options.finalPid)'s "
                + "reboot(2) goes to \(slots.remaining) reserved slots through \(slots.device) (\(slots.fileSystem)), " + waiting
        } catch {
            (store as? SlotStore)?.close()
            store = ClosedStore(location: options.store)
            line = "final stage: store closed for systemd-shutdown; PID \(options.finalPid)'s reboot(2) cannot be stored: \(error)"
        }
        SystemCalls.detachFromRegularFiles([1, 2])  // a log file on / would block the remount too
        StandardError.write(line + "\n")
        kmsg.write("reboot-witness: " + line)
    }

    /// Makes caller records durable. In the final stage a failure is reported
    /// and returned: arm must go on for the records after it.
    func storeCallers(_ records: [CallerRecord]) throws -> Bool {
        do {
            try sink.keep(records.map { .caller($0) })
            return true
        } catch where inFinalStage {
            StandardError.write("final stage: \(error)\n")
            kmsg.write("reboot-witness: final stage: \(error)")
            return false
        }
    }

    /// Lets callers waiting in the kernel go on once their records are durable
    /// (or could not be made so: waiting longer would not help).
    func releaseFinalWaiters(_ captured: [CapturedRecord], stored: Bool) {
        for record in captured where record.finalWait {
            // Logged before the release: the machine goes down right after it,
            // and pstore's shutdown dump (where there is one) keeps the line.
            let releasing = SystemCalls.clocks().boottime
            let waited = (Double(releasing - Int64(record.bootNanoseconds)) / 1e4).rounded() / 100
            let line = "final stage: \(record.comm)[\(record.pid)]'s reboot(2) record \(stored ? "durable" : "NOT stored"), "
                + "released after \(waited) ms"
            kmsg.write("reboot-witness: " + line)
            do {
                try probes.acknowledgeFinal(tgid: options.finalPid, budgetMilliseconds: Self.finalBudgetMilliseconds,
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
