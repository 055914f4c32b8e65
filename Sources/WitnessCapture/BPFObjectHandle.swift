import BPFObjects
import CLibbpf
import CWitness
import Glibc
import SystemPackage
import WitnessSystem

/// One libbpf `bpf_object`, through open → autoload choices → load → attach.
/// Every libbpf call of reboot-witness goes through this type.
final class BPFObjectHandle {
    let name: String
    private let object: OpaquePointer
    /// libbpf parses the ELF in place: the bytes must outlive the load.
    private let bytes: UnsafeMutableRawBufferPointer
    private var links: [OpaquePointer] = []

    /// bpf_object__open_mem()
    init(_ embedded: BPFObject) throws {
        name = embedded.name
        bytes = .allocate(byteCount: embedded.bytes.count, alignment: 8)
        bytes.copyBytes(from: embedded.bytes)
        var options = bpf_object_open_opts()
        options.sz = MemoryLayout<bpf_object_open_opts>.size
        cw_libbpf_clear_log()
        guard let object = bpf_object__open_mem(bytes.baseAddress, bytes.count, &options) else {
            let code = Glibc.errno
            bytes.deallocate()
            throw SystemError("bpf_object__open_mem", embedded.name, errno: Errno(rawValue: code),
                              detail: Self.libbpfLog())
        }
        self.object = object
    }

    deinit {
        for link in links { bpf_link__destroy(link) }
        bpf_object__close(object)
        bytes.deallocate()
    }

    /// Names of every program in the object.
    var programNames: [String] {
        var names: [String] = []
        var program = bpf_object__next_program(object, nil)
        while let current = program {
            names.append(String(cString: bpf_program__name(current)))
            program = bpf_object__next_program(object, current)
        }
        return names
    }

    /// bpf_program__set_autoload() on every program: only `names` load.
    func loadOnly(_ names: Set<String>) {
        var program = bpf_object__next_program(object, nil)
        while let current = program {
            bpf_program__set_autoload(current, names.contains(String(cString: bpf_program__name(current))))
            program = bpf_object__next_program(object, current)
        }
    }

    /// Maps every object declares through capture.bpf.h: one instance of
    /// each (the main object's) serves all objects.
    static let sharedMaps = ["rw_events", "rw_hold_state", "rw_held", "rw_allow_exe", "rw_allow_cgroup",
                             "rw_config", "rw_watchdogs", "rw_final"]

    /// Before load: use `main`'s instances of the shared maps.
    func shareMaps(from main: BPFObjectHandle) throws {
        for map in Self.sharedMaps {
            guard let fd = main.mapFD(map) else { throw SystemError("find map", map, errno: .noSuchFileOrDirectory) }
            try reuseMap(map, fd: fd)
        }
    }

    /// bpf_map__reuse_fd()
    private func reuseMap(_ mapName: String, fd: CInt) throws {
        guard let map = bpf_object__find_map_by_name(object, mapName) else {
            throw SystemError("find map", mapName, errno: .noSuchFileOrDirectory)
        }
        let rc = bpf_map__reuse_fd(map, fd)
        if rc < 0 { throw SystemError("bpf_map__reuse_fd", mapName, errno: Errno(rawValue: -rc)) }
    }

    /// bpf_object__load(): verification and CO-RE relocation of autoloaded programs.
    func load() throws {
        cw_libbpf_clear_log()
        let rc = bpf_object__load(object)
        if rc < 0 {
            throw SystemError("bpf_object__load", name, errno: Errno(rawValue: -rc), detail: Self.libbpfLog())
        }
    }

    /// bpf_program__attach(): attach point comes from the program's section.
    func attach(program: String) throws {
        guard let handle = bpf_object__find_program_by_name(object, program) else {
            throw SystemError("find program", program, errno: .noSuchFileOrDirectory)
        }
        cw_libbpf_clear_log()
        guard let link = bpf_program__attach(handle) else {
            throw SystemError("attach", program, errno: Errno(rawValue: Glibc.errno), detail: Self.libbpfLog())
        }
        links.append(link)
    }

    func mapFD(_ mapName: String) -> CInt? {
        guard let map = bpf_object__find_map_by_name(object, mapName) else { return nil }
        let fd = bpf_map__fd(map)
        return fd >= 0 ? fd : nil
    }

    /// The object's `.bss` counters (`struct rw_counters` leads it).
    func counters() -> rw_counters? {
        var map = bpf_object__next_map(object, nil)
        while let current = map {
            if String(cString: bpf_map__name(current)).hasSuffix(".bss") {
                let fd = bpf_map__fd(current)
                var key: UInt32 = 0
                var value = [UInt8](repeating: 0, count: Int(bpf_map__value_size(current)))
                guard fd >= 0, value.count >= MemoryLayout<rw_counters>.size,
                      bpf_map_lookup_elem(fd, &key, &value) == 0 else { return nil }
                return value.withUnsafeBytes { $0.loadUnaligned(as: rw_counters.self) }
            }
            map = bpf_object__next_map(object, current)
        }
        return nil
    }

    /// Every (key, value) of a hash map, walked with bpf_map_get_next_key.
    /// Entries added or removed meanwhile may be seen or not; none twice.
    func entries<Key, Value>(of mapName: String, _: Key.Type, _: Value.Type) -> [(Key, Value)] {
        guard let fd = mapFD(mapName) else { return [] }
        var result: [(Key, Value)] = []
        let key = UnsafeMutablePointer<Key>.allocate(capacity: 1), next = UnsafeMutablePointer<Key>.allocate(capacity: 1)
        let value = UnsafeMutablePointer<Value>.allocate(capacity: 1)
        defer { key.deallocate(); next.deallocate(); value.deallocate() }
        var previous: UnsafeMutablePointer<Key>? = nil
        while bpf_map_get_next_key(fd, previous, next) == 0 {
            key.update(from: next, count: 1)
            previous = key
            if bpf_map_lookup_elem(fd, key, value) == 0 { result.append((key.pointee, value.pointee)) }
        }
        return result
    }

    /// The last warnings libbpf printed, trimmed to what explains a failure.
    static func libbpfLog() -> String {
        let lines = String(cString: cw_libbpf_log()).split(separator: "\n")
        return lines.suffix(6).map { "libbpf: " + ($0.hasPrefix("libbpf: ") ? $0.dropFirst(8) : $0) }.joined(separator: "\n")
    }
}
