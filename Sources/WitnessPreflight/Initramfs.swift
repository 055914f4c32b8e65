import CArchive
import Glibc
import SystemPackage
import WitnessSystem

/// What an initramfs holds, read once as a stream (libarchive): the kernel
/// modules of each version it carries, their modules.dep and
/// modules.builtin, and what made it. Nothing is extracted to disk.
public struct InitramfsContents: Sendable {
    /// Modules of one kernel version inside the image.
    public struct ModuleTree: Sendable {
        public var version: String
        /// Normalized module names (`virtio_blk`) of every .ko file.
        public var modules: Set<String> = []
        /// modules.dep as stored (nil: absent).
        public var modulesDep: String?
        /// modules.builtin as stored (nil: absent).
        public var modulesBuiltin: String?
    }

    public var path: String
    public var bytes: Int64
    /// Compression of each concatenated archive, first to last ("none", "zstd").
    public var compressions: [String] = []
    public var entries = 0
    public var unpackedBytes: Int64 = 0
    /// The modules of the version asked for (the next boot's), if the image holds any.
    public var wanted: ModuleTree?
    /// Other kernel versions whose modules it holds (the first few named).
    public var otherVersions: [String] = []
    /// An early uncompressed cpio with CPU microcode in front.
    public var microcode = false
    public var generator: InitramfsGenerator?
    /// Why the image could not be read to its end (truncated, corrupt,
    /// unknown compression, a bomb's limits); nil when it was.
    public var failure: String?

    public func tree(_ version: String) -> ModuleTree? { wanted?.version == version ? wanted : nil }

    /// Versions named in `otherVersions` at most.
    static let otherVersionLimit = 16
}

/// Which tool made an image, for the command that rebuilds it.
public enum InitramfsGenerator: String, Sendable, Codable {
    case initramfsTools = "initramfs-tools"
    case dracut
    case mkinitcpio

    /// The command that rebuilds the image for `version`.
    public func rebuild(version: String, image: String) -> String {
        switch self {
        case .initramfsTools: return "update-initramfs -u -k \(version)"
        case .dracut: return "dracut --force --kver \(version) \(image)"
        case .mkinitcpio: return "mkinitcpio -k \(version) -g \(image)"
        }
    }
}

public enum Initramfs {
    /// modules.dep and modules.builtin larger than this are not read whole.
    static let indexLimit = 64 << 20

    /// Reads `path` (resolved inside `tree`) through to its end, keeping the
    /// modules of `version` only (a bomb of versions costs their names, not
    /// their indexes), within what is left of `budget`. Throws only when it
    /// cannot be opened; a read that fails midway is in `failure`.
    public static func read(_ path: String, tree: TreeFiles, version: String, budget: PreflightBudget) throws -> InitramfsContents {
        let fd: CInt
        switch tree.openRegular(path) {
        case .success(let opened): fd = opened
        case .failure(let error): throw error
        }
        defer { close(fd) }
        var error: CInt = 0
        guard let image = cw_initramfs_open(fd, max(0, budget.unpackedBytes), max(0, budget.entries), &error) else {
            if error == -ENOENT {
                throw PreflightError("cannot read initramfs images: libarchive (libarchive.so.13) is not installed")
            }
            throw PreflightError("cannot open \(path): \(Errno(rawValue: -error).description)")
        }
        defer { cw_initramfs_close(image) }
        var st = stat()
        fstat(fd, &st)
        var contents = InitramfsContents(path: path, bytes: Int64(st.st_size))
        defer {
            budget.unpackedBytes -= cw_initramfs_unpacked(image)
            budget.entries -= Int64(contents.entries)
        }
        var entry = cw_initramfs_entry()
        while true {
            let rc = cw_initramfs_next(image, &entry)
            if rc == 0 { break }
            if rc < 0 {
                let reason = String(cString: cw_initramfs_error(image))
                contents.failure = reason.isEmpty ? "unreadable (libarchive gave no reason)" : reason
                break
            }
            contents.entries += 1
            let name = withUnsafeBytes(of: entry.path) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if entry.segment == 0, name.hasPrefix("kernel/x86/microcode/") { contents.microcode = true }
            if contents.generator == nil { contents.generator = generator(of: name) }
            guard let (held, rest) = modulePath(name) else { continue }
            guard held == version else {
                if !contents.otherVersions.contains(held), contents.otherVersions.count < InitramfsContents.otherVersionLimit {
                    contents.otherVersions.append(held)
                }
                continue
            }
            // In place: a copy of the set per entry made large trees quadratic.
            if contents.wanted == nil { contents.wanted = InitramfsContents.ModuleTree(version: version) }
            if let module = moduleName(rest) {
                contents.wanted!.modules.insert(module)
            } else if rest == "modules.dep" {
                contents.wanted!.modulesDep = readText(image, size: entry.size)
            } else if rest == "modules.builtin" {
                contents.wanted!.modulesBuiltin = readText(image, size: entry.size)
            }
            if !budget.timeLeft {
                contents.failure = "preflight's time budget ran out after \(contents.entries) entries"
                break
            }
        }
        contents.compressions = String(cString: cw_initramfs_compressions(image)).split(separator: ",").map(String.init)
        contents.unpackedBytes = cw_initramfs_unpacked(image)
        return contents
    }

    /// ("6.1.0-13-amd64", "kernel/drivers/block/virtio_blk.ko") for a path under (usr/)lib/modules.
    static func modulePath(_ name: String) -> (String, String)? {
        var rest = Substring(name)
        if rest.hasPrefix("usr/") { rest = rest.dropFirst(4) }
        guard rest.hasPrefix("lib/modules/") else { return nil }
        rest = rest.dropFirst("lib/modules/".count)
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        return (String(rest[..<slash]), String(rest[rest.index(after: slash)...]))
    }

    /// `virtio_blk` for ".../virtio_blk.ko", ".ko.xz", ".ko.zst", ".ko.gz"; nil for anything else.
    public static func moduleName(_ path: String) -> String? {
        let base = Substring(path.split(separator: "/").last ?? Substring(path))
        for suffix in [".ko", ".ko.xz", ".ko.zst", ".ko.gz", ".ko.bz2"] where base.hasSuffix(suffix) {
            return normalized(String(base.dropLast(suffix.count)))
        }
        return nil
    }

    /// Module names compare with - and _ alike, as modprobe does.
    public static func normalized(_ name: String) -> String {
        String(name.map { $0 == "-" ? "_" : $0 })
    }

    static func generator(of name: String) -> InitramfsGenerator? {
        if name == "conf/initramfs.conf" || name == "scripts/functions" { return .initramfsTools }
        if name.hasPrefix("usr/lib/dracut/") || name == "dracut-state.sh" { return .dracut }
        if name == "init_functions" || name == "buildconfig" { return .mkinitcpio }
        return nil
    }

    /// An index file's text, read to `indexLimit` at most.
    private static func readText(_ image: OpaquePointer, size: Int64) -> String {
        let cap = Int(min(max(size, 0), Int64(indexLimit)))
        var bytes = [UInt8](repeating: 0, count: cap)
        var filled = 0
        while filled < cap {
            let n = bytes.withUnsafeMutableBytes { cw_initramfs_read(image, $0.baseAddress! + filled, Int64(cap - filled)) }
            if n <= 0 { break }
            filled += Int(n)
        }
        return String(decoding: bytes.prefix(filled), as: UTF8.self)
    }
}

/// A preflight that cannot go on, in one line.
public struct PreflightError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
