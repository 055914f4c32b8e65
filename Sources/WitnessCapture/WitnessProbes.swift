import BPFObjects
import CLibbpf
import CWitness
import Glibc
import SystemPackage
import WitnessSystem

/// How one probe point ended up, for `status` and the `armed` line.
public enum ProbeState: Sendable, Equatable {
    case attached(AttachMode)
    /// Not attached, and why (kernel lacks it, module absent, covered by another point).
    case unavailable(String)
    case failed(String)

    public var attachMode: AttachMode? {
        if case .attached(let mode) = self { return mode }
        return nil
    }
}

/// Decides, per probe point, how it can attach on this kernel (fentry →
/// kprobe → tracepoint), loads the objects and attaches, the way bcc's
/// libbpf-tools do: one object, programs switched off by feature probes.
public final class WitnessProbes {
    /// Which function-probe mechanisms may be used (`arm --attach`).
    public enum AttachPolicy: String, CaseIterable, Sendable {
        case auto, fentry, kprobe
    }

    public let features: KernelFeatures
    public let policy: AttachPolicy
    public private(set) var states: [String: ProbeState] = [:]
    /// Loaded object instances; a module that appears later gets its own.
    private var objects: [BPFObjectHandle] = []
    /// The witness object: owner of the maps the others share.
    private(set) var mainObject: BPFObjectHandle?

    public init(features: KernelFeatures = KernelFeatures(), policy: AttachPolicy = .auto) {
        self.features = features
        self.policy = policy
        // REBOOT_WITNESS_DEBUG=1 echoes libbpf's debug output (verifier logs).
        cw_libbpf_capture_log(getenv("REBOOT_WITNESS_DEBUG") != nil ? 1 : 0)
    }

    /// The attach mode this kernel allows for `point`, or why none.
    public func plan(_ point: ProbePoint) -> Result<AttachMode, PlanRefusal> {
        switch point.site {
        case .tracepoint(let category, let event):
            if features.tracingEvents == nil {
                return .failure(.init("tracefs is not mounted (arm mounts it at /sys/kernel/tracing)"))
            }
            return features.tracepointExists(category: category, event: event)
                ? .success(.tracepoint)
                : .failure(.init("no tracepoint \(category):\(event) on this kernel"))
        case .function(let symbol, let fentryAllowed):
            if let covering = point.fallbackFor, case .success = plan(ProbeCatalog.point(named: covering)!) {
                return .failure(.init("standby: \(covering) already sees these calls"))
            }
            let fentryReason = policy == .kprobe ? "fentry not allowed by --attach kprobe"
                : fentryAllowed ? features.fentryUnavailableReason : "fentry refuses variadic functions"
            let kprobeReason = policy == .fentry ? "kprobes not allowed by --attach fentry"
                : features.kprobes ? nil : "kprobes not compiled in (CONFIG_KPROBES off)"
            if fentryReason != nil && kprobeReason != nil {
                return .failure(.init("\(fentryReason!); \(kprobeReason!)"))
            }
            switch features.functionPresence(symbol, module: point.module) {
            case .btf:
                return .success(fentryReason == nil ? .fentry : .kprobe)
            case .symbolWithoutBTF:
                // fentry needs the function's BTF; a kprobe needs only its address.
                if let kprobeReason {
                    return .failure(.init("module \(point.module ?? "?") has no BTF (no fentry); \(kprobeReason)"))
                }
                return .success(.kprobe)
            case .absent:
                if let module = point.module, !features.moduleLoaded(module) {
                    return .failure(.init("module \(module) not loaded; attaches when it loads", waitsForModule: true))
                }
                return .failure(.init("no function \(symbol) on this kernel"))
            }
        }
    }

    public struct PlanRefusal: Error, Sendable {
        public var reason: String
        public var waitsForModule = false
        init(_ reason: String, waitsForModule: Bool = false) {
            self.reason = reason
            self.waitsForModule = waitsForModule
        }
    }

    /// Loads and attaches everything that can attach now. Records go to
    /// `deliver` once `reader.drain()` is called.
    public func arm(deliver: @escaping (rw_record) -> Void) throws -> RingBufferReader {
        let main = try load(object: "witness", sharingWith: nil, points: ProbeCatalog.all)
        guard let main, let fd = main.mapFD("rw_events") else {
            throw SystemError("arm", "no probe point can attach on this kernel", errno: .notSupported)
        }
        let reader = try RingBufferReader(mapFD: fd, deliver: deliver)
        mainObject = main
        try installIntentNames(main)
        loadSecondary(object: "watchdog", sharingWith: main, points: ProbeCatalog.all)
        return reader
    }

    /// Loads an object beside the main one; a failure marks its planned
    /// points failed with libbpf's reason, so that `status` never shows them
    /// as merely not armed.
    private func loadSecondary(object: String, sharingWith main: BPFObjectHandle, points: [ProbePoint]) {
        do {
            _ = try load(object: object, sharingWith: main, points: points)
        } catch {
            let reason = (error as? SystemError).map { "\($0.operation): \($0.errno.symbolicName)" + ($0.detail.map { " (\(Self.lastLine($0)))" } ?? "") }
                ?? "\(error)"
            for point in points where point.object == object && states[point.name]?.attachMode == nil {
                if case .unavailable = states[point.name] { continue }
                states[point.name] = .failed("\(object) object did not load: \(reason)")
            }
        }
    }

    /// The line of libbpf's log that says why (a failed relocation or load), else its last one.
    static func lastLine(_ text: String) -> String {
        let lines = text.split(separator: "\n").filter { !$0.trimming([" "]).isEmpty }
        let telling = lines.first { $0.includesAny(["relo #", "failed to resolve", "unknown func", "invalid", "not found"]) }
        return String(telling ?? lines.last ?? "")
    }

    /// The tool names whose exec the kernel reports (see IntentFilter).
    private func installIntentNames(_ main: BPFObjectHandle) throws {
        guard let fd = main.mapFD("rw_intent_names") else { return }
        var one: UInt8 = 1
        for name in IntentFilter.toolNames {
            var key = [CChar](repeating: 0, count: Int(RW_COMM_LEN))
            for (i, byte) in name.utf8.prefix(Int(RW_COMM_LEN) - 1).enumerated() { key[i] = CChar(bitPattern: byte) }
            if bpf_map_update_elem(fd, &key, &one, UInt64(BPF_ANY)) != 0 {
                throw SystemError("bpf_map_update_elem", "rw_intent_names", errno: Errno(rawValue: Glibc.errno))
            }
        }
    }

    /// Keeps an object (and its links) alive as long as these probes.
    func retain(_ handle: BPFObjectHandle) {
        objects.append(handle)
    }

    /// Arms the hold on top of `arm`; returns the heartbeat to keep it alive,
    /// or why the hold is unavailable.
    public func armHold(allowing allowlist: HoldAllowlist = HoldAllowlist(),
                        via mechanism: HoldMechanism? = nil) throws -> Result<(HoldMechanism, HoldHeartbeat), PlanRefusal> {
        guard let main = mainObject, let stateFD = main.mapFD("rw_hold_state"),
              let exeFD = main.mapFD("rw_allow_exe"), let cgroupFD = main.mapFD("rw_allow_cgroup") else {
            return .failure(PlanRefusal("arm first"))
        }
        try allowlist.install(exeMapFD: exeFD, cgroupMapFD: cgroupFD)
        return loadHold(mainObject: main, only: mechanism).map { ($0, HoldHeartbeat(stateFD: stateFD)) }
    }

    /// A module finished loading: try the points that were waiting for it.
    /// Returns the names of points newly attached.
    public func moduleLoaded(_ module: String) -> [String] {
        let waiting = ProbeCatalog.all.filter { $0.module == module && states[$0.name]?.attachMode == nil }
        guard !waiting.isEmpty, let main = mainObject else { return [] }
        for object in Set(waiting.map(\.object)) {
            loadSecondary(object: object, sharingWith: main, points: waiting)
        }
        return waiting.filter { states[$0.name]?.attachMode != nil }.map(\.name)
    }

    /// Records the kernel could not put in the ring buffer (it was full).
    public var lostRecords: UInt64 {
        objects.compactMap { $0.counters()?.lost }.reduce(0, +)
    }

    /// reboot(2) calls counted in the kernel as repeats instead of emitted.
    public var repeatedCalls: UInt64 {
        mainObject?.counters()?.repeats ?? 0
    }

    /// The watchdog hunt's view of each device (RW_WATCHDOG_ANY excluded).
    public func watchdogStates() -> [rw_watchdog_state] {
        guard let main = mainObject else { return [] }
        return main.entries(of: "rw_watchdogs", UInt32.self, rw_watchdog_state.self)
            .filter { $0.0 != RW_WATCHDOG_ANY }.map(\.1)
    }

    /// Sets the switches of `struct rw_config` (e.g. bpf_printk lines for reboot2panic).
    public func configure(printkLines: Bool) throws {
        guard let fd = mainObject?.mapFD("rw_config") else { return }
        var key: UInt32 = 0
        var config = rw_config()
        config.printk_lines = printkLines ? 1 : 0
        if bpf_map_update_elem(fd, &key, &config, UInt64(BPF_ANY)) != 0 {
            throw SystemError("bpf_map_update_elem", "rw_config", errno: Errno(rawValue: Glibc.errno))
        }
    }

    /// The kernel's per-caller counts (see `struct rw_caller_key`).
    public func callerCounts() -> [CallerCount] {
        guard let main = mainObject else { return [] }
        return main.entries(of: "rw_callers", rw_caller_key.self, rw_caller_count.self).map { _, value in
            CallerCount(firstTid: value.first_tid, firstBootNanoseconds: value.first_ns,
                        count: value.count, lastBootNanoseconds: value.last_ns)
        }
    }

    /// PID 1's final-stage call can wait in the kernel for its record: the
    /// sys_enter_reboot program with bpf_loop is the one attached.
    public var finalWaitPossible: Bool { features.boundedLoops }

    /// The program attached for `point` in `mode`. sys_enter_reboot's has a
    /// twin without the final stage's wait for kernels without bpf_loop: a
    /// program that calls an unknown helper does not load at all.
    private func program(_ point: ProbePoint, _ mode: AttachMode) -> String {
        let name = point.programName(mode)
        return name == "tp_sys_enter_reboot" && !features.boundedLoops ? name + "_nowait" : name
    }

    /// Plans, loads and attaches one instance of an object for `points` (those
    /// of it that can attach now). Returns nil when none can.
    private func load(object name: String, sharingWith main: BPFObjectHandle?,
                      points candidates: [ProbePoint]) throws -> BPFObjectHandle? {
        let points = candidates.filter { $0.object == name }
        var planned: [String: AttachMode] = [:]
        for point in points {
            switch plan(point) {
            case .success(let mode): planned[point.name] = mode
            case .failure(let refusal): states[point.name] = .unavailable(refusal.reason)
            }
        }
        // A kernel may refuse one fentry target the probes did not foresee:
        // fall back to kprobes (or nothing) for all fentry points and retry.
        var lastError: SystemError?
        for attempt in 0..<2 {
            if attempt == 1 {
                for (point, mode) in planned where mode == .fentry {
                    if features.kprobes && policy != .fentry { planned[point] = .kprobe } else {
                        planned[point] = nil
                        states[point] = .failed("fentry load failed: \(lastError.map { "\($0.errno.symbolicName)" } ?? "?")")
                    }
                }
            }
            guard !planned.isEmpty else { return nil }
            let handle = try BPFObjectHandle(BPFObject.named(name)!)
            if let main { try handle.shareMaps(from: main) }
            let programs = Set(points.compactMap { point in planned[point.name].map { program(point, $0) } })
            handle.loadOnly(programs)
            do {
                try handle.load()
            } catch let error as SystemError {
                lastError = error
                if planned.values.contains(.fentry) { continue }
                throw error
            }
            for point in points {
                guard let mode = planned[point.name] else { continue }
                do {
                    try handle.attach(program: program(point, mode))
                    states[point.name] = .attached(mode)
                } catch let error as SystemError {
                    states[point.name] = .failed("\(mode.rawValue) attach: \(error.errno.symbolicName)")
                }
            }
            objects.append(handle)
            return handle
        }
        throw lastError!
    }
}

/// One caller as the kernel counts it: the record the ring carried for its
/// first call is the one with this tid and boot time.
public struct CallerCount: Sendable, Equatable, Hashable {
    public var firstTid: UInt32
    public var firstBootNanoseconds: UInt64
    public var count: UInt64
    public var lastBootNanoseconds: UInt64

    public init(firstTid: UInt32, firstBootNanoseconds: UInt64, count: UInt64, lastBootNanoseconds: UInt64) {
        self.firstTid = firstTid
        self.firstBootNanoseconds = firstBootNanoseconds
        self.count = count
        self.lastBootNanoseconds = lastBootNanoseconds
    }
}
