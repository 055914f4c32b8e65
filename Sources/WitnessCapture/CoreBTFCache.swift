import BPFObjects
import CBPFShim
import CLibbpf
import Glibc
import SystemPackage
import WitnessSystem

/// The part of this kernel's BTF our CO-RE relocations use (see
/// coresubset.c), kept in the store directory once the first arm on a
/// kernel has made it, and given to libbpf (`btf_custom_path`) by the next
/// cold arms on the same kernel: their loads skip the 5 MB parse and the
/// candidate search over every kernel type (≈ 45 → 3 ms for reboot(2)'s exit
/// program, measured by scripts/bench-arm). A file is used only for the
/// kernel build it was made from (the kernel's GNU build ID and the size of
/// its BTF in its name), and only when it is a regular file
/// of ours (root, 0600) in the store directory (0700, checked by
/// StoreDirectory). The watchdog and hold objects, whose types live in
/// modules or need the kernel's own BTF for attach, never use it.
public struct CoreBTFCache: Sendable {
    public static let vmlinux = "/sys/kernel/btf/vmlinux"
    public let directory: String
    /// The file for the running kernel's BTF; nil where it has none.
    public let path: String?

    public init(store: String, release: String) {
        let directory = store + "/btf"
        let kernel = release.filter { $0.isLetter || $0.isNumber || ".-_+".contains($0) }
        self.directory = directory
        path = Self.key().map { "\(directory)/vmlinux-\(kernel)-\($0).btf" }
    }

    /// The running kernel's build ID (its ELF notes, /sys/kernel/notes) and
    /// the size of its BTF: the same build has the same BTF. nil where
    /// either cannot be read.
    static func key(notes: String = "/sys/kernel/notes") -> String? {
        var id = [CChar](repeating: 0, count: 129)
        guard cw_kernel_build_id(notes, &id, Int32(id.count)) > 0,
              let st = SystemCalls.fileStatus(vmlinux), st.st_size > 0 else { return nil }
        return String(cString: id) + "-" + String(st.st_size)
    }

    /// The cached subset when it exists and is ours, else nil.
    public var usable: String? {
        guard let path, let st = SystemCalls.fileStatus(path, followLinks: false) else { return nil }
        guard (st.st_mode & S_IFMT) == S_IFREG, st.st_uid == geteuid(), st.st_mode & 0o077 == 0, st.st_size > 0 else { return nil }
        return path
    }

    /// Makes the subset from the kernel's BTF and the witness object's own
    /// (the slow part: it parses the kernel's ~5 MB of BTF); nil where no
    /// witness object is embedded. Off the capture's path: arm calls it once
    /// it is armed, then `keep`s what it made.
    public func make() throws -> [UInt8]? {
        guard let path else { throw SystemError("read", Self.vmlinux, errno: .noSuchFileOrDirectory) }
        guard let kernel = btf__load_vmlinux_btf() else {
            throw SystemError("btf__load_vmlinux_btf", Self.vmlinux, errno: Errno(rawValue: errno))
        }
        defer { btf__free(kernel) }
        guard let embedded = BPFObject.named(.witness) else { return nil }
        // The witness object's own BTF names the types its relocations use.
        let object = try BPFObjectHandle(embedded)
        guard let local = object.btf else { throw SystemError("read BTF", "witness.bpf.o", errno: .invalidArgument) }
        var error: Int32 = 0
        var locals: [OpaquePointer?] = [local]
        let subset = locals.withUnsafeMutableBufferPointer { cw_btf_core_subset(kernel, $0.baseAddress, 1, &error) }
        guard let subset else { throw SystemError("make the CO-RE BTF subset", path, errno: Errno(rawValue: -error)) }
        defer { btf__free(subset) }
        var size: UInt32 = 0
        guard let raw = btf__raw_data(subset, &size) else { throw SystemError("btf__raw_data", path, errno: .invalidArgument) }
        return Array(UnsafeRawBufferPointer(start: raw, count: Int(size)))
    }

    /// Keeps `subset` as this kernel's (atomically, 0600), and removes older kernels'.
    public func keep(_ subset: [UInt8]) throws {
        guard let path else { throw SystemError("write", Self.vmlinux, errno: .noSuchFileOrDirectory) }
        if !Files.isDirectory(directory) && mkdir(directory, 0o700) != 0 && errno != EEXIST {
            throw SystemError("mkdir", directory, errno: Errno(rawValue: errno))
        }
        try Files.writeAtomically(path, subset)
        // Older kernels' subsets: one per kernel is all that is ever used.
        for name in Files.list(directory) ?? [] where directory + "/" + name != path && name.hasPrefix("vmlinux-") {
            unlink(directory + "/" + name)
        }
    }
}
