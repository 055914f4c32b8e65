import WitnessReport
import Glibc
import WitnessCapture
import WitnessStore
import WitnessSystem
import WitnessModel

/// `arm --reboot2panic`: a held reboot(2) panics the machine once its record
/// is durable, so that pstore, kdump or the serial console keep the culprit
/// with a stack. Owns the kernel settings a useful panic needs (each saved
/// before it changes, for a clean stop or `disarm` to put back).
///
/// `root` prefixes every /proc and /sys path: tests point it at a stand-in
/// tree, so that no test changes this machine's settings or panics it.
public final class Reboot2Panic {
    public struct Options {
        /// kernel.panic: seconds before the panicked machine restarts.
        public var panicTimeout = 10
        /// Arm even where the panic would leave nothing behind.
        public var force = false
        public var crashKexecPostNotifiers = false
        public var reconfigureSoftdog = false
        /// Prefix of every /proc and /sys path it touches (tests: a stand-in tree).
        public var root = ""
        public init() {}
    }

    let options: Options
    /// Where the settings are saved (the store directory).
    let savedIn: String

    init(options: Options, savedIn: String) {
        self.options = options
        self.savedIn = savedIn
    }

    var triggerPath: String { options.root + "/proc/sysrq-trigger" }

    /// Why arming it would be pointless here (nowhere keeps the panic), or nil.
    var refusal: String? {
        PanicSettings.Destinations.probe(sysfs: options.root + "/sys").refusal
    }

    /// Sets what a useful panic needs; returns the lines to print. Refuses
    /// when a saved settings file exists but is damaged: overwriting it would
    /// lose the only copy of the host's original settings.
    func enter(_ probes: WitnessProbes) throws -> [String] {
        var settings: PanicSettings
        do {
            settings = try PanicSettings.load(from: savedIn) ?? PanicSettings()
        } catch {
            throw ArmRefusal(description: "arm --reboot2panic: \(error)")
        }
        let root = options.root
        var dumpNote = "ftrace_dump_on_oops=1"
        let governed: [String]
        do {
            // Without kernel.panic the panicked machine would stay down: required.
            try settings.set(root + "/proc/sys/kernel/panic", "\(options.panicTimeout)")
            try settings.save(to: savedIn)
            if options.crashKexecPostNotifiers {
                try settings.set(root + "/sys/module/kernel/parameters/crash_kexec_post_notifiers", "Y")
                try settings.save(to: savedIn)
            }
            do {
                try settings.set(root + "/proc/sys/kernel/ftrace_dump_on_oops", "1")
            } catch {
                dumpNote = "ftrace_dump_on_oops not set (\(error)): kernel-originated restarts' lines will not reach the panic record"
            }
            governed = settings.selectPanicPretimeoutGovernors(sysfs: root + "/sys")
            try settings.save(to: savedIn)
            try probes.configure(printkLines: true)
        } catch {
            throw ArmRefusal(description: "arm --reboot2panic: \(error)" + Self.undo(settings, savedIn: savedIn))
        }
        let line = "reboot2panic: kernel.panic=\(options.panicTimeout), \(dumpNote)"
            + (governed.isEmpty ? "" : ", panic pretimeout governor on \(governed.joined(separator: ", "))")
            + "; held reboot(2) calls will panic the machine once recorded"
        return options.reconfigureSoftdog ? [line, SoftdogReconfiguration.apply()] : [line]
    }

    /// Refused half way: puts back what was set, from memory (saving it may
    /// be what failed: what was set since the last save is in no file), and
    /// forgets the saved copy once all is back; else keeps it (saved anew
    /// where it can be) for disarm and says what stays changed.
    static func undo(_ settings: PanicSettings, savedIn: String) -> String {
        let failed = settings.restore()
        if failed.isEmpty {
            PanicSettings.forget(in: savedIn)
            return "; every setting it had changed was put back"
        }
        try? settings.save(to: savedIn)  // best effort: the message says what stays changed either way
        return "; could not put back \(failed.joined(separator: ", "))"
    }

    /// Puts every setting back (a clean stop).
    func leave(_ probes: WitnessProbes) {
        do {
            try probes.configure(printkLines: false)
        } catch {
            StandardError.write("reboot2panic: could not turn the bpf_printk lines off: \(error)\n")
        }
        let saved: PanicSettings?
        do {
            saved = try PanicSettings.load(from: savedIn)
        } catch {
            StandardError.write("reboot2panic: could not restore: \(error)\n")
            return
        }
        guard let settings = saved else { return }
        let failed = settings.restore()
        if failed.isEmpty { PanicSettings.forget(in: savedIn) }
        for failure in failed { StandardError.write("reboot2panic: could not restore \(failure)\n") }
    }

    /// The record is durable: names the culprit in the kernel log, then
    /// panics. A write of "c" to the real sysrq-trigger never returns; if it
    /// fails, or returns (a stand-in), `replay` lets the held call through at
    /// once: the hold never keeps a reboot from happening.
    func panic(for record: CallerRecord, kmsg: KernelLog, replay: () -> Void) {
        let line = "reboot-witness: reboot2panic: " + RecordFormatter.oneLine(record)
        StandardError.write(line + "\n")
        kmsg.write(line)
        var why = "the write returned and the machine is still up"
        do {
            try PanicSettings.write(triggerPath, "c")
        } catch {
            why = "\(error)"
        }
        StandardError.write("reboot2panic: no panic through \(triggerPath) (\(why)); replaying the held reboot(2)\n")
        kmsg.write("reboot-witness: reboot2panic: no panic (\(why)); replaying the held reboot(2)")
        replay()
    }
}
