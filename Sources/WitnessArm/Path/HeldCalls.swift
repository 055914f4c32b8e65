import WitnessCapture
import WitnessModel
import WitnessReport
import WitnessSystem

/// What happens to a held reboot(2) once its record is durable: the same
/// call, replayed by the witness; or, with `--reboot2panic`, a panic that
/// names the caller (and the replay if no panic comes).
struct HeldCalls {
    let reboot2panic: Reboot2Panic?
    let kmsg: KernelLog

    /// `timeline`: ns after the caller's entry when the controller started on
    /// the record, had resolved it, and had it durable.
    func release(_ captured: CapturedRecord, _ record: CallerRecord, timeline: [Int64]) {
        if let reboot2panic {
            reboot2panic.panic(for: record, kmsg: kmsg) { replay(captured, record, timeline: timeline) }
        } else {
            replay(captured, record, timeline: timeline)
        }
    }

    private func replay(_ captured: CapturedRecord, _ record: CallerRecord, timeline: [Int64]) {
        // The delay the hold added: the caller's reboot(2) entry to ours.
        func ms(_ ns: Int64) -> Double { (Double(ns) / 1e4).rounded() / 100 }
        let held = SystemCalls.clocks().boottime - Int64(captured.bootNanoseconds)
        let what = "\(record.cmd?.rawValue ?? "?") for \(record.comm)[\(record.pid)] (held \(ms(held)) ms, durable after "
            + "\(ms(timeline[2])) ms; picked up \(ms(timeline[0])), resolved \(ms(timeline[1])))"
        StandardError.write("replaying held reboot(2) \(what)\n")
        kmsg.write("reboot-witness: record durable, replaying reboot(2) \(what)")
        let argument = record.cmd == .restart2 ? captured.argument : nil
        if let error = SystemCalls.reboot(magic1: captured.magic1, magic2: captured.magic2,
                                          command: captured.command, argument: argument) {
            StandardError.write("replay of reboot(2) \(what) failed: \(error.symbolicName)\n")
        }
    }
}
