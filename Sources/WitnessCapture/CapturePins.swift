import WitnessModel
import BPFObjects
import CWitness
import Glibc
import SystemPackage
import WitnessSystem

/// Where a capture outlives its controller: maps, programs and links pinned
/// in bpffs, so that a crashed, killed or upgraded `arm` loses nothing. The
/// kernel keeps running pinned programs and filling the pinned rings while no
/// controller runs (the hold fails open on its heartbeat meanwhile); the next
/// `arm` adopts them and drains what the rings kept.
///
///     DIR/maps/<map>                    every map the objects share
///     DIR/g<N>/links/<point>@<mode>     the links of generation N
///     DIR/g<N>/progs/<program>          their programs
///
/// Which generation runs is in the pinned rw_config (see `struct rw_config`).
public struct CapturePins: Sendable {
    public static let defaultDirectory = "/sys/fs/bpf/reboot-witness"
    /// statfs f_type of bpffs (BPF_FS_MAGIC).
    static let bpffsMagic: UInt64 = 0xcafe_4a11

    public let directory: String

    public init(directory: String = CapturePins.defaultDirectory) {
        self.directory = directory
    }

    var mapsDirectory: String { directory + "/maps" }
    func mapPath(_ map: BPFMapName) -> String { mapsDirectory + "/" + map.rawValue }
    func generationDirectory(_ generation: UInt32) -> String { directory + "/g\(generation)" }
    func linkPath(_ name: String, _ mode: String, generation: UInt32) -> String {
        generationDirectory(generation) + "/links/\(name)@\(mode)"
    }
    func programPath(_ program: String, generation: UInt32) -> String {
        generationDirectory(generation) + "/progs/" + program
    }

    /// Is anything pinned here (a capture that outlived its controller)?
    public var exists: Bool { Files.exists(mapPath(.config)) }

    /// Links pinned for `generation`: point name (or "hold") → attach mode text.
    func links(generation: UInt32) -> [String: String] {
        var links: [String: String] = [:]
        for name in Files.list(generationDirectory(generation) + "/links") ?? [] {
            let parts = name.split(separator: "@", maxSplits: 1)
            if parts.count == 2 { links[String(parts[0])] = String(parts[1]) }
        }
        return links
    }

    /// Generations with a directory here, oldest first.
    var generations: [UInt32] {
        (Files.list(directory) ?? []).compactMap { $0.hasPrefix("g") ? UInt32($0.dropFirst()) : nil }.sorted()
    }

    /// Makes DIR and its subdirectories on a bpffs, mounting bpffs at
    /// /sys/fs/bpf where nothing is (as systemd does at boot); throws where
    /// pins cannot live (no bpffs, read-only /sys in a container).
    func prepare(generation: UInt32) throws {
        let parent = String(directory[..<(directory.lastIndex(of: "/") ?? directory.endIndex)])
        if try !Self.isBPFFS(parent.isEmpty ? "/" : parent) {
            guard parent == "/sys/fs/bpf", Files.isDirectory(parent) else {
                throw SystemError("pin", "\(parent) is not a bpffs", errno: .invalidArgument)
            }
            if mount("bpf", parent, "bpf", 0, nil) != 0 {
                throw SystemError("mount bpffs", parent, errno: Errno(rawValue: Glibc.errno))
            }
        }
        for path in [directory, mapsDirectory, generationDirectory(generation),
                     generationDirectory(generation) + "/links", generationDirectory(generation) + "/progs"] {
            try SystemCalls.mkdir(path, mode: 0o700)
        }
    }

    static func isBPFFS(_ path: String) throws -> Bool {
        let fd = try FileDescriptor.open(FilePath(path), .readOnly, options: [.directory, .closeOnExec])
        defer { try? fd.close() }
        return try SystemCalls.fileSystemType(fd, path: path) == bpffsMagic
    }

    /// Unpins a generation's links and programs: the kernel detaches each
    /// link once nothing else holds it.
    func removeGeneration(_ generation: UInt32) {
        Self.removeTree(generationDirectory(generation))
    }

    /// Unpins everything (disarm): links detach, maps and programs go once unused.
    public func removeAll() {
        Self.removeTree(directory)
    }

    private static func removeTree(_ path: String) {
        for name in Files.list(path) ?? [] {
            let child = path + "/" + name
            if Files.isDirectory(child) { removeTree(child) } else { unlink(child) }
        }
        rmdir(path)
    }
}

/// What the pinned rw_config says about the capture there.
public struct PinnedCapture: Sendable, Equatable {
    public var generation: UInt32
    public var build: String
    /// The arm draining it, 0 after a clean stop that kept the capture.
    public var ownerPid: UInt32
    public var printkLines: Bool

    init(_ config: rw_config) {
        generation = config.generation
        ownerPid = config.owner_tgid
        printkLines = config.printk_lines != 0
        build = withUnsafeBytes(of: config.build) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    func config() -> rw_config {
        var config = rw_config()
        config.generation = generation
        config.owner_tgid = ownerPid
        config.printk_lines = printkLines ? 1 : 0
        withUnsafeMutableBytes(of: &config.build) { raw in
            for (i, byte) in build.utf8.prefix(raw.count - 1).enumerated() { raw[i] = byte }
        }
        return config
    }

    /// Is its owner a live process other than us (another arm draining it)?
    public var ownerAlive: Bool {
        ownerPid != 0 && ownerPid != UInt32(getpid()) && (kill(pid_t(ownerPid), 0) == 0 || errno == EPERM)
    }

    /// The capture pinned in `pins`, if any (nil where nothing is pinned or it cannot be read).
    public static func read(_ pins: CapturePins) -> PinnedCapture? {
        guard pins.exists, let map = try? BPFMap(name: .config, pinnedAt: pins.mapPath(.config)),
              let config = map.lookup(UInt32(0), as: rw_config.self) else { return nil }
        return PinnedCapture(config)
    }
}
