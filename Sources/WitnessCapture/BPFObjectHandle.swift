import WitnessModel
import BPFObjects
import CLibbpf
import CBPFShim
import CWitness
import Glibc
import SystemPackage
import WitnessSystem

/// One libbpf `bpf_object`, through open → autoload choices → load → attach.
/// Every libbpf call of reboot-witness goes through this type.
final class BPFObjectHandle {
    let name: BPFObjectName
    private let object: OpaquePointer
    /// libbpf parses the ELF in place: the bytes must outlive the load.
    private let bytes: UnsafeMutableRawBufferPointer
    private var links: [OpaquePointer] = []

    /// bpf_object__open_mem(); `coreBTF`: the kernel types CO-RE relocates
    /// against, when not the whole of vmlinux (see CoreBTFCache).
    init(_ embedded: BPFObject, coreBTF: String? = nil) throws {
        name = embedded.name
        bytes = .allocate(byteCount: embedded.bytes.count, alignment: 8)
        bytes.copyBytes(from: embedded.bytes)
        var options = bpf_object_open_opts()
        options.sz = MemoryLayout<bpf_object_open_opts>.size
        cw_libbpf_clear_log()
        // libbpf reads btf_custom_path during bpf_object__open_mem only.
        let buffer = bytes
        let opened = coreBTF.withOptionalCString { path in
            options.btf_custom_path = path
            return bpf_object__open_mem(buffer.baseAddress, buffer.count, &options)
        }
        guard let object = opened else {
            let code = Glibc.errno
            bytes.deallocate()
            throw SystemError("bpf_object__open_mem", embedded.name.rawValue, errno: Errno(rawValue: code),
                              detail: Self.libbpfLog())
        }
        self.object = object
    }

    deinit {
        for link in links { bpf_link__destroy(link) }
        bpf_object__close(object)
        bytes.deallocate()
    }

    /// The object's own BTF (its types, as the BPF compiler wrote them).
    var btf: OpaquePointer? { bpf_object__btf(object) }

    /// bpf_program__set_autoload() on every program: only `names` load.
    func loadOnly(_ names: Set<BPFProgramName>) {
        var program = bpf_object__next_program(object, nil)
        while let current = program {
            bpf_program__set_autoload(current, names.contains(BPFProgramName(rawValue: String(cString: bpf_program__name(current)))))
            program = bpf_object__next_program(object, current)
        }
    }

    /// The object's own maps (not .rodata/.bss), by name.
    private var namedMaps: [(BPFMapName, OpaquePointer)] {
        var maps: [(BPFMapName, OpaquePointer)] = []
        var map = bpf_object__next_map(object, nil)
        while let current = map {
            if !bpf_map__is_internal(current) { maps.append((BPFMapName(rawValue: String(cString: bpf_map__name(current))), current)) }
            map = bpf_object__next_map(object, current)
        }
        return maps
    }

    /// Before load: use `main`'s instance of every map both declare
    /// (capture.bpf.h's), so that all objects feed the same rings.
    func shareMaps(from main: BPFObjectHandle) throws {
        for (name, map) in namedMaps {
            guard let fd = main.mapFD(name) else { continue }
            let rc = bpf_map__reuse_fd(map, fd)
            if rc < 0 { throw SystemError("bpf_map__reuse_fd", name.rawValue, errno: Errno(rawValue: -rc)) }
        }
    }

    /// Before load: every map pinned under `pins` (reused where a pin
    /// exists, pinned there after load otherwise). Objects that declare a map
    /// of the same name share it through its pin.
    func pinMaps(_ pins: CapturePins) throws {
        for (name, map) in namedMaps {
            let rc = bpf_map__set_pin_path(map, pins.mapPath(name))
            if rc < 0 { throw SystemError("bpf_map__set_pin_path", name.rawValue, errno: Errno(rawValue: -rc)) }
        }
    }

    /// Before load: the constants the programs are verified with (.rodata):
    /// the generation they run for, and whether the host has cgroup v1
    /// hierarchies to search (the verifier prunes the search where not).
    func setConstants(generation: UInt32, cgroupV1: Bool) throws {
        for (name, value) in [("rw_generation", generation), ("rw_cgroup_v1", cgroupV1 ? 1 : 0)] {
            let rc = cw_set_rodata_u32(object, name, value)
            if rc < 0 { throw SystemError("set \(name)", self.name.rawValue, errno: Errno(rawValue: -rc)) }
        }
    }

    /// bpf_object__load(): verification and CO-RE relocation of autoloaded programs.
    func load() throws {
        cw_libbpf_clear_log()
        let rc = bpf_object__load(object)
        if rc < 0 {
            throw SystemError("bpf_object__load", name.rawValue, errno: Errno(rawValue: -rc), detail: Self.libbpfLog())
        }
    }

    /// bpf_program__attach(): attach point comes from the program's section.
    /// With `pinAt`, the link and its program are pinned; a link the kernel
    /// cannot pin stays attached but dies with this controller, and the
    /// returned reason says why.
    @discardableResult
    func attach(program: BPFProgramName, pinAt: (link: String, program: String)? = nil) throws -> String? {
        guard let handle = bpf_object__find_program_by_name(object, program.rawValue) else {
            throw SystemError("find program", program.rawValue, errno: .noSuchFileOrDirectory)
        }
        cw_libbpf_clear_log()
        guard let link = bpf_program__attach(handle) else {
            throw SystemError("attach", program.rawValue, errno: Errno(rawValue: Glibc.errno), detail: Self.libbpfLog())
        }
        links.append(link)
        guard let pinAt else { return nil }
        var rc = bpf_link__pin(link, pinAt.link)
        if rc < 0 {
            // Before 5.15 tracepoints and kprobes attach through perf events, not BPF links.
            return "link not pinnable (\(Errno(rawValue: -rc).symbolicName))"
        }
        rc = bpf_program__pin(handle, pinAt.program)
        return rc < 0 ? "program not pinned (\(Errno(rawValue: -rc).symbolicName))" : nil
    }

    /// The object's maps for the controller (descriptors stay libbpf's).
    func maps(into table: MapTable) {
        for (name, map) in namedMaps where bpf_map__fd(map) >= 0 {
            table.add(BPFMap(name: name, borrowing: bpf_map__fd(map)))
        }
    }

    func mapFD(_ mapName: BPFMapName) -> CInt? {
        guard let map = bpf_object__find_map_by_name(object, mapName.rawValue) else { return nil }
        let fd = bpf_map__fd(map)
        return fd >= 0 ? fd : nil
    }

    /// The last warnings libbpf printed, trimmed to what explains a failure.
    static func libbpfLog() -> String {
        let lines = String(cString: cw_libbpf_log()).split(separator: "\n")
        return lines.suffix(6).map { "libbpf: " + ($0.hasPrefix("libbpf: ") ? $0.dropFirst(8) : $0) }.joined(separator: "\n")
    }
}
