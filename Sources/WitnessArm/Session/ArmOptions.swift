import WitnessCapture
import WitnessStore

/// What `arm` is asked to do, one nested group per part that uses it: each
/// part takes its own group, nothing copies another's settings.
public struct ArmOptions {
    public struct Store {
        public var path: String
        /// Size of a new store file (it never grows).
        public var size = SlotStore.defaultSize
        /// Delete pstore's originals once harvested into the store.
        public var clearPstore = false
        public init(path: String) { self.path = path }
    }

    public struct Capture {
        public var attach: WitnessProbes.AttachPolicy = .auto
        /// Where the capture is pinned to outlive this controller (nil: `--no-pin`).
        public var pinDirectory: String? = CapturePins.defaultDirectory
        /// On a clean stop, leave the pinned capture running (a restart or upgrade follows).
        public var keepOnExit = false
        /// Replace the pinned programs even when they are this build's.
        public var replacePrograms = false
        public init() {}
    }

    public struct Hold {
        public var enabled = true
        /// nil: the BPF LSM where active, else fmod_ret.
        public var via: HoldMechanism?
        public var allowlist = HoldAllowlist()
        public init() {}
    }

    public struct Outputs {
        /// Standard output as NDJSON instead of human lines.
        public var json = false
        /// Each record and the previous boot's verdict as structured journal entries.
        public var journalEntries = true
        /// NDJSON copies of the records, rotated by size.
        public var export: ExportFile.Options?
        /// node_exporter's textfile directory; nothing is written where it does not exist.
        public var metricsDirectory: String? = MetricsFile.defaultDirectory
        /// `--metrics-address`: serve /metrics, /healthz and /readyz over HTTP (nil: no listener).
        public var metricsAddress: MetricsAddress?
        public init() {}
    }

    public struct Bus {
        /// Watch D-Bus for reboot requests to logind/systemd.
        public var enabled = true
        /// nil: the system bus.
        public var address: String?
        public init() {}
    }

    public var store: Store
    public var capture = Capture()
    public var hold = Hold()
    public var outputs = Outputs()
    public var bus = Bus()
    /// nil: held calls are replayed, not turned into panics.
    public var reboot2panic: Reboot2Panic.Options?
    public var finalStage = FinalStage.Options()
    /// nil: `--no-preflight`.
    public var preflight: PreflightWatch.Options? = PreflightWatch.Options()
    /// Where the kubelet's `pods/` and `containers/` log directories are (pod names); nil: `--no-pod-names`.
    public var kubeletLogs: String? = "/var/log"

    public init(store: String) {
        self.store = Store(path: store)
    }
}
