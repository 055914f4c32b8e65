import WitnessModel
import BPFObjects
import CLibbpf
import Glibc
import SystemPackage
import WitnessSystem

/// One BPF map by descriptor, with typed access: the maps of a loaded
/// object, or maps opened from their pins in bpffs (an adopted capture).
public final class BPFMap {
    public let name: BPFMapName
    public let fd: CInt
    private let owned: Bool

    /// A descriptor libbpf owns (a loaded object's map): not closed here.
    init(name: BPFMapName, borrowing fd: CInt) {
        self.name = name
        self.fd = fd
        owned = false
    }

    /// bpf_obj_get(): the map pinned at `path`.
    init(name: BPFMapName, pinnedAt path: String) throws {
        let fd = bpf_obj_get(path)
        guard fd >= 0 else { throw SystemError("bpf_obj_get", path, errno: Errno(rawValue: Glibc.errno)) }
        self.name = name
        self.fd = fd
        owned = true
    }

    deinit {
        if owned { close(fd) }
    }

    func lookup<Key, Value>(_ key: Key, as _: Value.Type) -> Value? {
        var key = key
        let value = UnsafeMutablePointer<Value>.allocate(capacity: 1)
        defer { value.deallocate() }
        return bpf_map_lookup_elem(fd, &key, value) == 0 ? value.pointee : nil
    }

    func update<Key, Value>(_ key: Key, _ value: Value, flags: UInt64 = UInt64(BPF_ANY)) throws {
        var key = key, value = value
        if bpf_map_update_elem(fd, &key, &value, flags) != 0 {
            throw SystemError("bpf_map_update_elem", name.rawValue, errno: Errno(rawValue: Glibc.errno))
        }
    }

    @discardableResult
    func delete<Key>(_ key: Key) -> Bool {
        var key = key
        return bpf_map_delete_elem(fd, &key) == 0
    }

    /// Every (key, value) of a hash map, walked with bpf_map_get_next_key.
    /// Entries added or removed meanwhile may be seen or not; none twice.
    func entries<Key, Value>(_: Key.Type, _: Value.Type) -> [(Key, Value)] {
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

    /// Every CPU's copy of element 0 of a per-CPU array (values are 8-byte aligned, one per possible CPU).
    func perCPU<Value>(_: Value.Type) -> [Value] {
        let cpus = Int(libbpf_num_possible_cpus())
        guard cpus > 0 else { return [] }
        let stride = (MemoryLayout<Value>.size + 7) & ~7
        var key: UInt32 = 0
        var buffer = [UInt8](repeating: 0, count: stride * cpus)
        guard bpf_map_lookup_elem(fd, &key, &buffer) == 0 else { return [] }
        return buffer.withUnsafeBytes { raw in
            (0..<cpus).map { raw.loadUnaligned(fromByteOffset: $0 * stride, as: Value.self) }
        }
    }
}

/// The maps a capture's programs share, by name: whoever loaded or adopted
/// them, the controller reads and writes them through this.
public final class MapTable {
    private var maps: [BPFMapName: BPFMap] = [:]

    init() {}

    subscript(name: BPFMapName) -> BPFMap? { maps[name] }

    func add(_ map: BPFMap) { maps[map.name] = map }

    var names: [BPFMapName] { maps.keys.sorted { $0.rawValue < $1.rawValue } }
}
