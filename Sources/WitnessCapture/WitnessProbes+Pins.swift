import WitnessModel
import BPFObjects
import CWitness
import Glibc
import SystemPackage
import WitnessSystem

/// How a controller came by its capture.
public enum CaptureLifecycle: Sendable, Equatable {
    /// Private to this controller (`--no-pin`, or no bpffs): it stops with it.
    case unpinned(String)
    /// Nothing was pinned: loaded, attached and pinned now.
    case fresh
    /// An earlier arm's programs (the same build) were still attached and
    /// kept capturing; adopted without attaching anything twice.
    case adopted(generation: UInt32, attachedNow: [String])
    /// Another build's programs were attached: the new ones were attached
    /// beside them, then rw_config switched generation in one write.
    case upgraded(fromBuild: String, fromGeneration: UInt32)
    /// Another build's pins could not be reused (their maps' layout changed):
    /// unpinned, then armed afresh. Calls in between were not seen.
    case replaced(String)

    public var description: String {
        switch self {
        case .unpinned(let why): return "not pinned: \(why)"
        case .fresh: return "pinned now"
        case .adopted(let generation, let now):
            return "adopted generation \(generation) from an earlier arm, nothing attached twice"
                + (now.isEmpty ? "" : "; attached now: \(now.joined(separator: ", "))")
        case .upgraded(let build, let generation):
            // The kernel's bpf_link_update() covers cgroup, XDP, netns,
            // struct_ops and tc links, not tracepoint, kprobe or tracing links.
            return "replaced generation \(generation) (build \(build)) without a gap: new programs attached beside the old, "
                + "then rw_config switched in one write (bpf_link_update cannot swap tracepoint, kprobe or fentry links)"
        case .replaced(let why): return "replaced with a gap: \(why)"
        }
    }
}

/// Another arm drains the pinned capture: two controllers would split its records.
public struct CaptureConflict: Error, CustomStringConvertible {
    public let description: String
}

extension WitnessProbes {
    /// Adopts, upgrades or creates the capture pinned in `pins`.
    func armPinned(_ pins: CapturePins, replacePrograms: Bool) throws {
        let existing = PinnedCapture.read(pins)
        if existing == nil && pins.exists { pins.removeAll() }  // unreadable leftovers
        if let existing, existing.ownerAlive {
            throw CaptureConflict(description: "the capture pinned at \(pins.directory) is drained by arm pid \(existing.ownerPid); "
                                  + "stop it first, or use --pin-dir or --no-pin")
        }
        guard let existing else {
            generation = 1
            try pins.prepare(generation: generation)
            lifecycle = .fresh
            try loadFresh()
            return
        }
        if existing.build == BPFObject.digest && !replacePrograms {
            try adopt(existing, from: pins)
            return
        }
        generation = existing.generation &+ 1
        do {
            try pins.prepare(generation: generation)
            try loadObjects(except: [])
            lifecycle = .upgraded(fromBuild: existing.build, fromGeneration: existing.generation)
        } catch let error as SystemError where error.errno == .invalidArgument && (error.detail ?? "").includes("reuse") {
            let reason = "the pinned maps of build \(existing.build) do not fit this build's (\(Self.lastLine(error.detail ?? "")))"
            pins.removeAll()
            objects.removeAll()
            states = [:]
            unpinnable = [:]
            generation = 1
            try pins.prepare(generation: generation)
            try loadObjects(except: [])
            lifecycle = .replaced(reason)
        }
    }

    /// The same build's capture: open its maps, keep its links, load only
    /// what was not attached (a module that appeared while no arm ran).
    private func adopt(_ existing: PinnedCapture, from pins: CapturePins) throws {
        generation = existing.generation
        for name in Files.list(pins.mapsDirectory) ?? [] {
            maps.add(try BPFMap(name: BPFMapName(rawValue: name), pinnedAt: pins.mapPath(BPFMapName(rawValue: name))))
        }
        let links = pins.links(generation: generation)
        var attached = Set<ProbeID>()
        for (point, mode) in links {
            guard let mode = AttachMode(rawValue: mode), ProbeCatalog.point(ProbeID(rawValue: point)) != nil else { continue }
            states[ProbeID(rawValue: point)] = .attached(mode)
            attached.insert(ProbeID(rawValue: point))
        }
        try loadObjects(except: attached)
        let now = states.filter { !attached.contains($0.key) && $0.value.attachMode != nil }.map(\.key.rawValue).sorted()
        lifecycle = .adopted(generation: generation, attachedNow: now)
    }

    /// The hold pinned by the adopted generation, if any.
    func adoptedHold() -> HoldMechanism? {
        guard case .adopted = lifecycle, let pins, let mode = pins.links(generation: generation)["hold"] else { return nil }
        return HoldMechanism(rawValue: mode)
    }

    /// Pin paths for the hold's link and program, where the capture is pinned.
    func holdPinPaths(_ mechanism: HoldMechanism, program: BPFProgramName) -> (link: String, program: String)? {
        pins.map { ($0.linkPath("hold", mechanism.rawValue, generation: generation), $0.programPath(program.rawValue, generation: generation)) }
    }

    /// Lets this generation's programs run (one rw_config write: an older
    /// generation stands by from then on) and names this controller the
    /// owner; then unpins older generations, whose links detach.
    public func activate() throws {
        guard let config = maps[.config] else { throw SystemError("find map", "rw_config", errno: .noSuchFileOrDirectory) }
        var state = PinnedCapture(config.lookup(UInt32(0), as: rw_config.self) ?? rw_config())
        state.generation = generation
        state.build = BPFObject.digest
        state.ownerPid = UInt32(getpid())
        state.printkLines = false
        try config.update(UInt32(0), state.config())
        guard let pins else { return }
        for old in pins.generations where old != generation { pins.removeGeneration(old) }
    }

    /// Arming failed before `activate()`: unpins what this arm pinned (a
    /// fresh capture, or the new generation of an upgrade); an adopted
    /// capture stays as it was found.
    public func abandon() {
        guard let pins else { return }
        switch lifecycle {
        case .fresh, .replaced: pins.removeAll()
        case .upgraded: pins.removeGeneration(generation)
        case .adopted, .unpinned: break
        }
    }

    /// A clean stop. `keep`: the capture stays pinned and running with no
    /// owner (an upgrade or restart follows); else everything is unpinned
    /// and detaches as this controller's descriptors close.
    public func release(keepCapture keep: Bool) {
        guard let pins else { return }
        if keep, let config = maps[.config], var state = config.lookup(UInt32(0), as: rw_config.self).map(PinnedCapture.init) {
            state.ownerPid = 0
            try? config.update(UInt32(0), state.config())
        } else if !keep {
            pins.removeAll()
        }
    }

    /// One line for `status`: where the capture is pinned, and what is not.
    public var pinningSummary: String {
        guard let pins else { return lifecycle.description }
        let attached = states.values.filter { $0.attachMode != nil }.count
        let loose = unpinnable.keys.sorted()
        return "\(pins.directory), generation \(generation): \(lifecycle.description)"
            + (loose.isEmpty ? "" : "; \(loose.count) of \(attached) links not pinnable (\(unpinnable[loose[0]]!): "
               + "\(loose.joined(separator: ", ")) stop with this controller)")
    }
}
