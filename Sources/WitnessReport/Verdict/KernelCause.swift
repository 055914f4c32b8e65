import WitnessModel

/// A restart or power-off that began inside the kernel, which no process
/// asked for: Ctrl-Alt-Del (a keyboard, or the hypervisor's key
/// injection), hardware protection (a critical thermal trip, a failing
/// regulator: `hw_protection_shutdown` and its successors), and the
/// kernel's own requests to userspace (`orderly_poweroff` from a
/// hypervisor's shutdown request, a driver). Whatever ran after it (a
/// kworker's /sbin/poweroff, PID 1's ctrl-alt-del.target) only carried it out.
struct KernelCause {
    var subreason: Verdict.Subreason
    var detail: String
    /// "Ctrl-Alt-Del: the kernel restarted at once (kernel.ctrl-alt-del = 1)".
    var summary: String
    var evidence: [Evidence]

    /// How long before the call that ended the boot a kernel cause still explains it
    /// (systemd's reboot after Ctrl-Alt-Del stops every service first).
    static let window = 600.0

    static let protection: Set<ProbeID> = [.hwProtectionShutdown, .hwProtectionShutdown612, .hwProtectionTrigger]
    static let keyboard: Set<ProbeID> = [.ctrlAltDel, .deferredCad]
    static let orderly: Set<ProbeID> = [.orderlyPoweroff, .orderlyReboot]

    /// The kernel cause of the call at `end` (an ISO time), if a record shows one shortly before it.
    static func find(in records: [CallerRecord], before end: String) -> KernelCause? {
        let recent = records.filter { r in
            guard let gap = VerdictEngine.seconds(r.time, end) else { return false }
            return gap >= 0 && gap <= window
        }
        if let trip = recent.last(where: { protection.contains($0.probe) }) {
            let reason = trip.cmdArg ?? ""
            let thermal = reason.lowercased().includesAny(["temperature", "thermal", "overheat"])
            return KernelCause(subreason: thermal ? .thermal : .hwProtection, detail: thermal ? "" : reason,
                               summary: "\(thermal ? "thermal" : "hardware") protection: the kernel's \(trip.probe)"
                                   + (reason.isEmpty ? "" : " (\"\(reason)\")"),
                               evidence: [Evidence(source: .witness, time: trip.time, excerpt: RecordFormatter.oneLine(trip))])
        }
        let keys = recent.filter { keyboard.contains($0.probe) }
        if !keys.isEmpty {
            // With kernel.ctrl-alt-del = 1 the kernel restarts through deferred_cad;
            // with 0 it signals PID 1 (systemd starts ctrl-alt-del.target).
            let direct = keys.contains { $0.probe == .deferredCad }
            return KernelCause(subreason: .cad, detail: "",
                               summary: "Ctrl-Alt-Del (a keyboard, or the hypervisor's key injection): "
                                   + (direct ? "the kernel restarted at once (kernel.ctrl-alt-del = 1)"
                                             : "PID 1 was signalled and rebooted (kernel.ctrl-alt-del = 0)"),
                               evidence: keys.prefix(2).map { Evidence(source: .witness, time: $0.time, excerpt: RecordFormatter.oneLine($0)) })
        }
        if let request = recent.last(where: { orderly.contains($0.probe) }) {
            return KernelCause(subreason: .kernel, detail: request.comm,
                               summary: "the kernel asked userspace to \(request.probe == .orderlyReboot ? "reboot" : "power off") "
                                   + "(\(request.probe), from \(request.comm)[\(request.pid)]: a hypervisor's shutdown request or a driver)",
                               evidence: [Evidence(source: .witness, time: request.time, excerpt: RecordFormatter.oneLine(request))])
        }
        return nil
    }

    /// `verdict` (decided from the call that ended the boot) told as this cause's.
    func explain(_ verdict: Verdict) -> Verdict {
        var told = verdict
        told.subreason = subreason
        told.detail = detail
        told.summary = "\(verdict.reason.rawValue) by \(summary)"
        told.initiator = nil
        told.confidence = .high
        told.evidence = evidence + verdict.evidence
        return told
    }
}
