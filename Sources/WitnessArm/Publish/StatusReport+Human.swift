import WitnessModel
import WitnessSystem

/// `status` for people: the prose for each state.
extension StatusReport {
    public func human() -> String {
        var lines = [
            "kernel       \(kernel)",
            "BTF          \(btf ? "yes (/sys/kernel/btf/vmlinux)" : "no: CO-RE programs cannot load")",
            "tracefs      \(tracefs ?? "not mounted (arm mounts it at /sys/kernel/tracing)")",
            "fentry       \(fentry.line)",
            "kprobes      \(kprobes.line)",
            "ring buffer  \(ringBuffer.line)",
            "bpf_loop     \(boundedLoops.line)",
            "hold         \(hold.line)",
            "D-Bus        \(dbus?.line ?? "not armed (arm monitors the system bus for logind/systemd reboot calls)")",
            "final stage  \(finalStage?.line ?? "not armed (arm follows PID 1 into systemd-shutdown to record its reboot(2))")",
            "outputs      " + (outputs.map { "journal \($0.journal.line); export \($0.export.line); metrics file \($0.metricsFile.line); metrics listener \($0.metricsListener?.line ?? "off")" }
                               ?? "not armed (journal entries, --export FILE, node_exporter textfile)"),
            "preflight    " + (preflight.map(Self.describe) ?? "not armed (`reboot-witness preflight` checks the next boot now)"),
            "pstore       \(pstore.isEmpty ? "no backend (nothing survives a reset in pstore)" : pstore.joined(separator: ", "))",
            storeLine,
            "capture      \(capture.pinning.line)",
        ]
        let c = capture.counters
        lines.append("counted      lost: stopping \(c.lostStopping), bad magic \(c.lostBadMagic), exec \(c.lostExec), other \(c.lostOther); "
                     + "spilled \(c.spilled), repeats \(c.repeats), aggregated \(c.aggregated), let through unheld \(c.unheld)")
        if let refused = capture.refusedRecords, refused.malformed + refused.otherVersion > 0 {
            lines.append("refused      \(refused.malformed) ring record(s) of a size not understood, \(refused.otherVersion) of another layout version")
        }
        for group in capture.noise.prefix(5) {
            lines.append("noise        \(group.calls) refused call(s) from cgroup \(group.cgroupID), exe inode \(group.exeInode); "
                         + "first \(group.comm)[\(group.pid)] uid \(group.uid)")
        }
        if let latency = capture.stoppingLatency {
            lines.append("stopping     event→durable p50 \(latency.p50Ms) ms, p99 \(latency.p99Ms) ms, max \(latency.maxMs) ms over \(latency.records)")
        }
        if let gap = capture.longestBeatGapMs {
            lines.append("loop         \(capture.loopPriority?.line ?? "priority unknown"); longest gap between heartbeats \(gap) ms "
                         + "(the hold lapses after 750 ms)")
        }
        if let core = capture.coreBTF { lines.append("CO-RE BTF    \(core.line)") }
        if let search = capture.cgroupV1Search { lines.append("cgroup v1    \(search.line)") }
        if !capture.armPhases.isEmpty {
            lines.append("armed in     " + capture.armPhases.map { "\($0.name) \($0.milliseconds) ms" }.joined(separator: ", "))
        }
        lines += reboot2panicLines
        lines.append("probe points:")
        for point in probes {
            let state = point.attached ? "attached" : point.state.rawValue
            let how = point.attach.map { " via \($0)" } ?? ""
            let why = point.reason.map { ": \($0)" } ?? ""
            lines.append("  \(point.name.padding(34)) \(state)\(how)\(why)")
        }
        return TerminalText.lines(lines)
    }

    private var storeLine: String {
        var line = "store        \(store.path)"
        guard store.state == .available else { return line + " (\(store.state.rawValue): \(store.reason ?? "?"))" }
        line += ": \(store.records ?? 0) record(s) in \(store.slots ?? 0) slots, \(store.bytes ?? 0) bytes"
        if let bad = store.unreadable, bad > 0 { line += ", \(bad) unreadable entr\(bad == 1 ? "y" : "ies") skipped" }
        if let failed = store.readErrors, failed > 0 { line += ", \(failed) slot(s) could not be read (I/O errors)" }
        line += store.armedPid.map { "; armed by pid \($0), \(store.lostRecords ?? 0) lost" } ?? "; not armed"
        if let latency = store.durableLatency {
            line += "; event→durable p50 \(latency.p50Ms) ms, p99 \(latency.p99Ms) ms over \(latency.records)"
        }
        return line
    }

    private var reboot2panicLines: [String] {
        let r = reboot2panic
        var goes = [r.pstoreBackend.map { "pstore backend \($0)" } ?? "no pstore backend"]
        if r.kdumpLoaded {
            goes.append(r.crashKexecPostNotifiers == true ? "kdump loaded (crash_kexec_post_notifiers=Y: pstore sees the panic too)"
                        : "kdump loaded: the crash kernel runs before the panic notifiers, so pstore never sees the panic "
                            + "(arm --crash-kexec-post-notifiers, or boot with crash_kexec_post_notifiers)")
        } else {
            goes.append("no kdump kernel loaded")
        }
        let softdog = !r.softdogLoaded ? "not loaded"
            : r.softdogPanics == true ? "loaded with soft_panic=1: a softdog reset is a panic"
            : r.softdogPanics == false ? "loaded without soft_panic=1: a softdog reset is an emergency restart with no panic record "
                + "(arm --reboot2panic --reconfigure-softdog, or softdog.soft_panic=1)"
            : "loaded; soft_panic unknown (its load message has left the kernel log)"
        var lines = ["panic goes   " + goes.joined(separator: "; "), "softdog      \(softdog)",
                     "bpf_printk   " + (r.printkToKernelLog
                        ? "kernel log as they happen (booted with tp_printk): emergency restarts keep them in pstore too"
                        : "ftrace buffer only: a panic's dump keeps them (ftrace_dump_on_oops); an emergency restart "
                            + "(sysrq b, softdog without soft_panic) does not unless the kernel is booted with tp_printk")]
        for change in r.changed {
            lines.append("reboot2panic changed \(change.path): \(change.original) → \(change.value) (restored by a clean stop or `disarm`)")
        }
        if let damaged = r.damaged { lines.append("reboot2panic \(damaged)") }
        return lines
    }

    private static func describe(_ preflight: ArmState.Preflight) -> String {
        var text = preflight.headline.map { "last: \($0)" } ?? preflight.state.line
        if let inhibitor = preflight.inhibitor { text += "; --block-bad-reboot inhibitor \(inhibitor.line)" }
        return text
    }
}
