import ArgumentParser
import Glibc
import WitnessArm
import WitnessReport
import WitnessCapture
import WitnessStore
import WitnessSystem

extension WitnessProbes.AttachPolicy: ExpressibleByArgument {}

struct Arm: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "arm",
        abstract: "Attach the probes and record every caller until SIGINT/SIGTERM.",
        discussion: """
            Prints a line beginning with "armed" on standard error once every probe that can \
            attach is attached, and sends READY=1 when NOTIFY_SOCKET is set (Type=notify).

            EXAMPLES:
              reboot-witness arm
              reboot-witness arm --store /srv/witness --json
              reboot-witness arm --attach kprobe         # skip fentry (debugging a trampoline issue)
              reboot-witness arm --allow-exe /usr/sbin/fence_kdump_send
              reboot-witness arm --reboot2panic --panic-timeout 30   # watchdog hunt: restarts become panics
              reboot-witness arm --keep-capture-on-exit   # a restart or upgrade loses no call (the unit does this)
              reboot-witness arm --no-pin --store /tmp/w  # a throwaway arm beside the service
              reboot-witness arm --block-bad-reboot       # refuse `systemctl reboot` into an image that cannot mount root
              reboot-witness arm --metrics-address 0.0.0.0:9746   # Prometheus scrapes /metrics; probes use /readyz

            REBOOT2PANIC:
              Held reboot(2) calls are recorded, named in the kernel log, then turned into a panic \
            (sysrq c) so that pstore, kdump or a serial console keep a panic with the culprit. \
            Kernel-originated restarts (softdog, sysrq, panic) also print their record with \
            bpf_printk, and kernel.ftrace_dump_on_oops=1 puts those lines into the panic dump. \
            kernel.panic is set so the machine comes back. Every setting changed is saved in \
            DIR/reboot2panic.json and restored by a clean stop or by `reboot-witness disarm`.

            CAPTURE PINS:
              The programs, their links and the maps (both ring buffers included) are pinned in \
            DIR (/sys/fs/bpf/reboot-witness; bpffs is mounted at /sys/fs/bpf if nothing is). \
            When arm crashes, is killed or restarts, the kernel goes on capturing into the \
            pinned rings (the hold lapses within a second); the next arm adopts the pinned \
            programs of its own build without attaching anything twice and drains what the \
            rings kept. Another build's programs are replaced without a gap: the new ones are \
            attached beside them, then one write to the pinned rw_config switches over \
            (bpf_link_update cannot swap tracepoint, kprobe or fentry links). A clean stop \
            unpins everything unless --keep-capture-on-exit (as the packaged unit runs it); \
            `reboot-witness disarm` always does. Before 5.15 tracepoint and kprobe links \
            cannot be pinned: `status` names the points that stop with arm.

            FINAL STAGE (systemd):
              In a graceful reboot PID 1 becomes systemd-shutdown, kills every process, remounts \
            the file systems read-only and only then calls reboot(2). Started with argv[0] \
            "@reboot-witness" (ExecStart=@/usr/sbin/reboot-witness @reboot-witness arm, as in \
            the packaged unit), arm is spared by that kill: when PID 1 becomes \
            systemd-shutdown it stores its stop marker, reserves 8 slots, closes the store, and \
            writes PID 1's reboot(2) into those slots through the block device (ext4 or XFS). PID \
            1's call waits in the kernel until its record is durable, 2 s at most; it is never denied.
            """
    )

    @Option(help: ArgumentHelp("Store directory (created 0700 if missing).", valueName: "DIR"))
    var store: String = StoreDirectory.defaultPath

    @Option(help: ArgumentHelp("Size of a new store file: bytes, or with K or M (it never grows).", valueName: "SIZE"))
    var storeSize: ByteSize = ByteSize(bytes: SlotStore.defaultSize)

    @Flag(help: "Print records as NDJSON instead of human lines.")
    var json = false

    @Option(help: "Function probes: auto (fentry, else kprobe), or only fentry, or only kprobe.")
    var attach: WitnessProbes.AttachPolicy = .auto

    @Flag(help: ArgumentHelp(
        "Do not hold reboot(2) calls until their record is durable.",
        discussion: "By default a reboot(2) that would take the machine down is denied (the caller sees EPERM), "
            + "recorded with fdatasync, then replayed by the witness with the same arguments. The hold needs "
            + "the BPF LSM or fmod_ret, and lapses within a second if the witness dies or hangs."))
    var noHold = false

    @Option(help: "How to hold: auto (the BPF LSM where active, else fmod_ret), bpf-lsm or fmod_ret.")
    var holdVia: HoldVia = .auto

    @Option(help: ArgumentHelp("Never hold reboot(2) calls made by this executable (e.g. a fencing agent). Repeatable.",
                               valueName: "PATH"))
    var allowExe: [String] = []

    @Option(help: ArgumentHelp("Never hold reboot(2) calls made from this cgroup v2 directory. Repeatable.",
                               valueName: "PATH"))
    var allowCgroup: [String] = []

    @Flag(help: "Turn held reboot(2) calls into a panic once recorded (see REBOOT2PANIC).")
    var reboot2panic = false

    @Option(help: ArgumentHelp("With --reboot2panic: kernel.panic, seconds before the panicked machine restarts.",
                               valueName: "SECONDS"))
    var panicTimeout: Int = 10

    @Flag(help: "With --reboot2panic: arm even without a pstore backend or kdump (the panic may leave nothing).")
    var force = false

    @Flag(help: "With --reboot2panic: set crash_kexec_post_notifiers so that pstore sees a panic even with kdump loaded.")
    var crashKexecPostNotifiers = false

    @Flag(help: "With --reboot2panic: make softdog panic (soft_panic=1) via modprobe.d, reloading it when nobody holds it.")
    var reconfigureSoftdog = false

    @Flag(help: "Delete pstore's records (/sys/fs/pstore, /var/lib/systemd/pstore) once harvested into the store.")
    var clearPstore = false

    @Flag(help: "Do not monitor D-Bus for reboot requests to logind and systemd.")
    var noDbus = false

    @Option(help: ArgumentHelp("Monitor this D-Bus address instead of the system bus (tests, containers).",
                               valueName: "ADDRESS"))
    var dbusAddress: String?

    @Flag(help: "Do not follow PID 1 into systemd-shutdown (see FINAL STAGE); the store is closed at SIGTERM as before.")
    var noFinalStage = false

    @Flag(help: "Do not write each record (and the previous boot's verdict) as a structured journal entry.")
    var noJournalEntries = false

    @Option(help: ArgumentHelp("Also write each record as one JSON line to FILE (0600), rotated by size.", valueName: "FILE"))
    var export: String?

    @Option(help: ArgumentHelp("With --export: rotate FILE when it would pass this size (K, M, G).", valueName: "SIZE"))
    var exportSize: ByteSize = ByteSize(bytes: 10 << 20)

    @Option(help: ArgumentHelp("With --export: rotated files kept (FILE.1 … FILE.N).", valueName: "N"))
    var exportCount: Int = 5

    @Option(help: ArgumentHelp("node_exporter's textfile directory for reboot-witness.prom; nothing is written where it does not exist.",
                               valueName: "DIR"))
    var metricsDir: String = MetricsFile.defaultDirectory

    @Flag(help: "Do not write the node_exporter textfile.")
    var noMetrics = false

    @Option(help: ArgumentHelp("Serve /metrics, /healthz and /readyz over HTTP on this literal address (GET only; off unless given).",
                               valueName: "IP:PORT"))
    var metricsAddress: String?

    @Option(help: ArgumentHelp("The directory holding the kubelet's pods/ and containers/ log directories: pod names for records of processes in pods (nothing happens where they do not exist).",
                               valueName: "DIR"))
    var kubeletLogDir: String = "/var/log"

    @Flag(help: "Do not name pods (records keep the container id and pod UID).")
    var noPodNames = false

    @Flag(help: "When arming is refused (no BTF, no privileges, a read-only store), say why once and wait for a signal instead of exiting: a DaemonSet's pod then stays NotReady with the reason (`status --ready`) instead of crash-looping.")
    var idleOnRefusal = false

    @Option(help: ArgumentHelp("Pin the capture (maps, programs, links) here so that it outlives this process (see CAPTURE PINS).",
                               valueName: "DIR"))
    var pinDir: String = CapturePins.defaultDirectory

    @Flag(help: "Do not pin: the capture stops with this process, and a restart misses the calls in between.")
    var noPin = false

    @Flag(help: "On SIGTERM/SIGINT leave the pinned capture running for the next arm (restarts, upgrades); `disarm` removes it.")
    var keepCaptureOnExit = false

    @Flag(help: "Replace the pinned programs even when they are this build's (they are adopted otherwise).")
    var replacePrograms = false

    @Flag(help: "Do not run preflight (see `preflight --help`) at start, when the boot files change, and with each reboot intent.")
    var noPreflight = false

    @Flag(help: "While preflight says the next boot would fail, hold a logind \"block\" inhibitor for shutdown, so that `systemctl reboot` names the reason. reboot(2) and `reboot -f` are never blocked.")
    var blockBadReboot = false

    /// Tests: the process whose exec of `systemd-shutdown` starts the final stage.
    @Option(help: .private)
    var finalPid: UInt32 = 1

    /// Tests: a stand-in root for the /proc and /sys files --reboot2panic sets and the
    /// sysrq-trigger it writes, so that no test changes the host or panics it.
    @Option(help: .private)
    var reboot2panicRoot: String = ""

    func validate() throws {
        guard panicTimeout > 0, panicTimeout <= 3600 else {
            throw ValidationError("--panic-timeout must be 1…3600 seconds (0 would leave a panicked machine down)")
        }
        if export == nil && (exportCount != 5 || exportSize.bytes != 10 << 20) {
            throw ValidationError("--export-size and --export-count go with --export FILE")
        }
        guard exportCount >= 0, exportCount <= 100 else { throw ValidationError("--export-count must be 0…100") }
        guard storeSize.bytes >= 3 * SlotStore.slotSize else {
            throw ValidationError("--store-size must hold two slots and the header: \(3 * SlotStore.slotSize / 1024)K at least")
        }
        if noPreflight && blockBadReboot { throw ValidationError("--block-bad-reboot needs preflight (not --no-preflight)") }
        if noPin && (keepCaptureOnExit || replacePrograms) {
            throw ValidationError("--keep-capture-on-exit and --replace-programs need the pinned capture (not --no-pin)")
        }
        if !reboot2panicRoot.isEmpty && !reboot2panicRoot.hasPrefix("/") {
            throw ValidationError("--reboot2panic-root must be an absolute path")
        }
        if !reboot2panic && (force || crashKexecPostNotifiers || reconfigureSoftdog) {
            throw ValidationError("--force, --crash-kexec-post-notifiers and --reconfigure-softdog go with --reboot2panic")
        }
    }

    func run() throws {
        do {
            var options = ArmOptions(store: store)
            options.store.size = storeSize.bytes
            options.store.clearPstore = clearPstore
            options.capture.attach = attach
            options.capture.pinDirectory = noPin ? nil : pinDir
            options.capture.keepOnExit = keepCaptureOnExit
            options.capture.replacePrograms = replacePrograms
            options.hold.enabled = !noHold
            options.hold.via = HoldMechanism(rawValue: holdVia.rawValue)
            options.hold.allowlist = HoldAllowlist(executables: allowExe, cgroups: allowCgroup)
            options.outputs.json = json
            options.outputs.journalEntries = !noJournalEntries
            options.outputs.export = export.map {
                var file = ExportFile.Options(path: $0)
                file.maxBytes = exportSize.bytes
                file.keep = exportCount
                return file
            }
            options.outputs.metricsDirectory = noMetrics ? nil : metricsDir
            options.outputs.metricsAddress = try metricsAddress.map { address in
                do { return try MetricsAddress(parsing: address) } catch let error as MetricsAddress.Invalid { throw ValidationError(error.description) }
            }
            options.kubeletLogs = noPodNames ? nil : kubeletLogDir
            options.bus.enabled = !noDbus
            options.bus.address = dbusAddress
            if reboot2panic {
                var panic = Reboot2Panic.Options()
                panic.panicTimeout = panicTimeout
                panic.force = force
                panic.crashKexecPostNotifiers = crashKexecPostNotifiers
                panic.reconfigureSoftdog = reconfigureSoftdog
                panic.root = reboot2panicRoot
                options.reboot2panic = panic
            }
            options.finalStage.enabled = !noFinalStage
            options.finalStage.pid = finalPid
            if noPreflight {
                options.preflight = nil
            } else {
                options.preflight?.blockBadReboot = blockBadReboot
            }
            let session: ArmSession
            do {
                session = try ArmSession(options: options)
            } catch where idleOnRefusal && (error is ArmRefusal || error is StoreError) {
                printError("Error: \(error); waiting for a signal (--idle-on-refusal)")
                // Scrapes still see this node: armed 0, and why at /readyz.
                let listener = try options.outputs.metricsAddress.map {
                    try MetricsPublisher.serveRefusal(address: $0, store: options.store.path)
                }
                SystemCalls.waitForSignal([SIGINT, SIGTERM])
                listener?.shutdown()
                return
            }
            let status = try session.run()
            if status != 0 { throw ExitCode(status) }
        } catch let error as ExitCode {
            throw error
        } catch {
            throw CommandFailure(error)
        }
    }
}

/// `--store-size 1M`, `--export-size 10M`: bytes with an optional K, M or G,
/// 4 KiB to 1 GiB (each option checks its own minimum).
struct ByteSize: ExpressibleByArgument {
    let bytes: Int

    init(bytes: Int) { self.bytes = bytes }

    init?(argument: String) {
        let units: [Character: Int] = ["K": 1 << 10, "k": 1 << 10, "M": 1 << 20, "m": 1 << 20, "G": 1 << 30, "g": 1 << 30]
        var text = Substring(argument)
        var scale = 1
        if let last = text.last, let unit = units[last] {
            scale = unit
            text = text.dropLast()
        }
        guard let value = Int(text), value > 0, value <= (1 << 30) / scale, value * scale >= 4096 else {
            return nil
        }
        bytes = value * scale
    }

    var defaultValueDescription: String { "\(bytes >> 20)M" }
}

enum HoldVia: String, CaseIterable, ExpressibleByArgument {
    case auto
    case bpfLSM = "bpf-lsm"
    case fmodRet = "fmod_ret"
}
