import WitnessModel
import BPFObjects
import CLibbpf
import CBPFShim
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
    /// Where the capture is pinned to outlive this controller; nil: it dies with it.
    public let pins: CapturePins?
    public internal(set) var states: [ProbeID: ProbeState] = [:]
    /// Attached points whose links the kernel could not pin, and why: they stop with this controller.
    public internal(set) var unpinnable: [String: String] = [:]
    /// The capture's maps (rings, rw_config, counters…), loaded or adopted.
    public let maps = MapTable()
    /// How this controller came by its capture (see WitnessProbes+Pins).
    public internal(set) var lifecycle: CaptureLifecycle = .unpinned("not armed")
    /// The generation of programs this controller runs (see `struct rw_config`).
    public internal(set) var generation: UInt32 = 1
    /// Loaded object instances; a module that appears later gets its own.
    var objects: [BPFObjectHandle] = []
    /// Unpinned: the witness object, owner of the maps the others share.
    var mainObject: BPFObjectHandle?
    /// The kernel types CO-RE relocates the witness object against, where a
    /// subset was kept for this kernel (see CoreBTFCache); nil: all of vmlinux.
    public var coreBTF: String?
    /// A fresh capture armed reboot(2)'s entry and exit first: `armRest()` loads the others.
    public private(set) var awaitingRest = false
    /// Whether the programs search cgroup v1 hierarchies (the host has
    /// some); off, with the verifier's reason, where a kernel refused it.
    public private(set) lazy var cgroupV1Search: Capability = features.cgroupV1
        ? .available(via: "name=systemd, else the memory controller") : .unavailable("no cgroup v1 hierarchy here")

    /// What a fresh capture attaches before anything else: every reboot(2)
    /// is seen from then on, while the rest loads.
    static let firstLight: Set<ProbeID> = [.sysEnterReboot, .sysExitReboot]

    public init(features: KernelFeatures = KernelFeatures(), policy: AttachPolicy = .auto, pins: CapturePins? = nil) {
        self.features = features
        self.policy = policy
        self.pins = pins
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
            if let covering = point.fallbackFor, let other = ProbeCatalog.point(covering), case .success = plan(other) {
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

    /// Loads and attaches everything that can attach now: pinned (adopting
    /// or upgrading a capture an earlier arm left, see WitnessProbes+Pins),
    /// or private to this controller. `activate()` then lets the programs run.
    public func arm(replacePrograms: Bool = false) throws {
        if let pins {
            try armPinned(pins, replacePrograms: replacePrograms)
        } else {
            lifecycle = .unpinned("--no-pin: the capture stops with this controller")
            try loadFresh()
        }
        guard maps[.events] != nil, maps[.urgent] != nil else {
            throw SystemError("arm", "no probe point can attach on this kernel", errno: .notSupported)
        }
        try installIntentNames()
    }

    /// A capture with nothing before it: reboot(2)'s entry and exit alone
    /// first, where their tracepoints exist (`armRest()` then loads the
    /// others); everything at once otherwise.
    func loadFresh() throws {
        let first = ProbeCatalog.all.filter { Self.firstLight.contains($0.id) }
        guard first.allSatisfy({ if case .success = plan($0) { return true } else { return false } }),
              let main = try load(object: .witness, points: first) else {
            try loadObjects(except: [])
            return
        }
        if pins == nil { mainObject = main }
        awaitingRest = true
    }

    /// The points the first light left, once it runs.
    public func armRest() throws {
        guard awaitingRest else { return }
        awaitingRest = false
        try loadObjects(except: Set(states.filter { $0.value.attachMode != nil }.keys))
    }

    /// Loads the witness and watchdog objects for the points that can attach
    /// now, except those already attached (adopted from pins, or the first light).
    func loadObjects(except attached: Set<ProbeID>) throws {
        let points = ProbeCatalog.all.filter { !attached.contains($0.id) }
        if let main = try load(object: .witness, points: points), pins == nil {
            mainObject = main
        }
        if pins == nil, mainObject == nil { return }
        loadSecondary(object: .watchdog, points: points)
    }

    /// Loads an object beside the main one; a failure marks its planned
    /// points failed with libbpf's reason, so that `status` never shows them
    /// as merely not armed.
    func loadSecondary(object: BPFObjectName, points: [ProbePoint]) {
        do {
            _ = try load(object: object, points: points)
        } catch {
            let reason = (error as? SystemError).map { "\($0.operation): \($0.errno.symbolicName)" + ($0.detail.map { " (\(Self.lastLine($0)))" } ?? "") }
                ?? "\(error)"
            for point in points where point.object == object && states[point.id]?.attachMode == nil {
                if case .unavailable = states[point.id] { continue }
                states[point.id] = .failed("\(object) object did not load: \(reason)")
            }
        }
    }

    /// The line of libbpf's log that says why (a failed relocation or load), else its last one.
    static func lastLine(_ text: String) -> String {
        let lines = text.split(separator: "\n").filter { !$0.trimming([" "]).isEmpty }
        let telling = lines.first { $0.includesAny(["relo #", "failed to resolve", "unknown func", "invalid", "not found", "reuse"]) }
        return String(telling ?? lines.last ?? "")
    }

    /// A fresh object instance, its maps shared with the capture's: through
    /// their pins, or with the unpinned main object's.
    func open(object name: BPFObjectName) throws -> BPFObjectHandle {
        let handle = try BPFObjectHandle(BPFObject.named(name)!, coreBTF: name == .witness ? coreBTF : nil)
        try handle.setConstants(generation: generation, cgroupV1: cgroupV1Search.state == .available)
        if let pins {
            try handle.pinMaps(pins)
        } else if let main = mainObject {
            try handle.shareMaps(from: main)
        }
        return handle
    }

    /// An instance of `name` loaded with `programs`. Where the cgroup v1
    /// search is on and the load fails, once more without it: a kernel
    /// whose verifier refuses the search must not lose the probes. If that
    /// loads, the search stays off (records of tasks in the v2 root carry
    /// no cgroup) and says why.
    func loaded(object name: BPFObjectName, programs: Set<BPFProgramName>) throws -> BPFObjectHandle {
        let handle = try open(object: name)
        handle.loadOnly(programs)
        do {
            try handle.load()
            return handle
        } catch let error as SystemError where cgroupV1Search.state == .available {
            let search = cgroupV1Search
            cgroupV1Search = .failed("the \(name) object loads only without it (\(error.errno.symbolicName)\(error.detail.map { ": " + Self.lastLine($0) } ?? ""))")
            do {
                let retry = try open(object: name)
                retry.loadOnly(programs)
                try retry.load()
                return retry
            } catch {
                cgroupV1Search = search  // not the search's fault
                throw error
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
        guard let state = maps[.holdState], let exe = maps[.allowExe], let cgroup = maps[.allowCgroup] else {
            return .failure(PlanRefusal("arm first"))
        }
        try allowlist.install(exe: exe, cgroup: cgroup)
        if let adopted = adoptedHold(), mechanism == nil || mechanism == adopted {
            return .success((adopted, HoldHeartbeat(state: state)))
        }
        return loadHold(only: mechanism).map { ($0, HoldHeartbeat(state: state)) }
    }

    /// A module finished loading: try the points that were waiting for it.
    /// Returns the names of points newly attached.
    public func moduleLoaded(_ module: String) -> [String] {
        let waiting = ProbeCatalog.all.filter { $0.module == module && states[$0.id]?.attachMode == nil }
        guard !waiting.isEmpty, pins != nil || mainObject != nil else { return [] }
        for object in Set(waiting.map(\.object)) {
            loadSecondary(object: object, points: waiting)
        }
        return waiting.filter { states[$0.id]?.attachMode != nil }.map(\.name)
    }

    /// PID 1's final-stage call can wait in the kernel for its record: the
    /// sys_enter_reboot program with bpf_loop is the one attached.
    public var finalWaitPossible: Bool { features.boundedLoops }

    /// The program attached for `point` in `mode`: the object's program in
    /// that ELF section (names generated from the objects, see BPFEmbed).
    /// Programs that wait in the kernel for their record (sys_enter_reboot
    /// for PID 1's final call, deferred_cad) have a twin named `…_nowait`
    /// for kernels without bpf_loop: a program that calls an unknown helper
    /// does not load at all.
    static func program(_ point: ProbePoint, _ mode: AttachMode, boundedLoops: Bool) -> BPFProgramName? {
        let section = point.section(mode)
        let candidates = (BPFPrograms.sections[point.object] ?? []).filter { $0.section == section }.map(\.program)
        guard candidates.count > 1 else { return candidates.first }
        return candidates.first { $0.rawValue.hasSuffix("_nowait") != boundedLoops }
    }

    /// Plans, loads and attaches one instance of an object for `points` (those
    /// of it that can attach now). Returns nil when none can.
    private func load(object name: BPFObjectName, points candidates: [ProbePoint]) throws -> BPFObjectHandle? {
        let points = candidates.filter { $0.object == name }
        var planned: [ProbeID: AttachMode] = [:]
        for point in points {
            switch plan(point) {
            case .success(let mode): planned[point.id] = mode
            case .failure(let refusal): states[point.id] = .unavailable(refusal.reason)
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
            let programs = Set(points.compactMap { point in
                planned[point.id].flatMap { Self.program(point, $0, boundedLoops: features.boundedLoops) }
            })
            let handle: BPFObjectHandle
            do {
                handle = try loaded(object: name, programs: programs)
            } catch let error as SystemError {
                lastError = error
                if planned.values.contains(.fentry) { continue }
                throw error
            }
            if name == .witness || maps[.events] == nil { handle.maps(into: maps) }
            for point in points {
                guard let mode = planned[point.id] else { continue }
                guard let program = Self.program(point, mode, boundedLoops: features.boundedLoops) else {
                    states[point.id] = .failed("no \(point.section(mode)) program in the \(name) object")
                    continue
                }
                do {
                    let pinAt = pins.map { ($0.linkPath(point.name, mode.rawValue, generation: generation),
                                            $0.programPath(program.rawValue, generation: generation)) }
                    if let unpinned = try handle.attach(program: program, pinAt: pinAt) { unpinnable[point.name] = unpinned }
                    states[point.id] = .attached(mode)
                } catch let error as SystemError {
                    states[point.id] = .failed("\(mode.rawValue) attach: \(error.errno.symbolicName)")
                }
            }
            objects.append(handle)
            return handle
        }
        throw lastError!
    }
}
