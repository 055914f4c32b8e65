import WitnessStore

/// `arm --reboot2panic`: the settings a useful panic needs, and the panic.
extension ArmSession {
    /// Sets what a useful panic needs, each setting saved first for `disarm`.
    func enterReboot2Panic() throws {
        var settings = PanicSettings.load(from: options.store) ?? PanicSettings()
        do {
            // Without kernel.panic the panicked machine would stay down: required.
            try settings.set("/proc/sys/kernel/panic", "\(options.panicTimeout)")
            try settings.save(to: options.store)
            if options.crashKexecPostNotifiers {
                try settings.set("/sys/module/kernel/parameters/crash_kexec_post_notifiers", "Y")
                try settings.save(to: options.store)
            }
        } catch {
            try? settings.save(to: options.store)
            leaveReboot2Panic()
            throw ArmRefusal(description: "arm --reboot2panic: \(error)")
        }
        var dumpNote = "ftrace_dump_on_oops=1"
        do {
            try settings.set("/proc/sys/kernel/ftrace_dump_on_oops", "1")
        } catch {
            dumpNote = "ftrace_dump_on_oops not set (\(error)): kernel-originated restarts' lines will not reach the panic record"
        }
        let governed = settings.selectPanicPretimeoutGovernors()
        try settings.save(to: options.store)
        try probes.configure(printkLines: true)
        StandardError.write("reboot2panic: kernel.panic=\(options.panicTimeout), \(dumpNote)"
            + (governed.isEmpty ? "" : ", panic pretimeout governor on \(governed.joined(separator: ", "))")
            + "; held reboot(2) calls will panic the machine once recorded\n")
        if options.reconfigureSoftdog { StandardError.write(SoftdogReconfiguration.apply() + "\n") }
    }

    func leaveReboot2Panic() {
        try? probes.configure(printkLines: false)
        guard let settings = PanicSettings.load(from: options.store) else { return }
        let failed = settings.restore()
        if failed.isEmpty { PanicSettings.forget(in: options.store) }
        for failure in failed { StandardError.write("reboot2panic: could not restore \(failure)\n") }
    }

    /// The record is durable: name the culprit in the kernel log, then panic
    /// so that pstore, kdump or the serial console keep it with a stack.
    func panic(for record: CallerRecord) {
        let line = "reboot-witness: reboot2panic: " + RecordFormatter.oneLine(record)
        StandardError.write(line + "\n")
        kmsg.write(line)
        do {
            try PanicSettings.write("/proc/sysrq-trigger", "c")
        } catch {
            StandardError.write("reboot2panic: cannot panic (\(error)); replaying the reboot instead\n")
        }
    }
}
