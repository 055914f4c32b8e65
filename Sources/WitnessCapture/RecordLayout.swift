import BPFObjects
import CLibbpf

/// `struct rw_record` as the BPF compiler laid it out, read from the BTF of
/// an embedded object. Lets tests prove the Swift import of bpf/witness.h and
/// the BPF side agree byte for byte (clang -target bpf vs the host ABI).
public enum RecordLayout {
    public struct Member: Equatable {
        public var name: String
        public var byteOffset: Int
    }

    /// Size and members of `rw_record` in `object`'s BTF, nil if absent.
    public static func inObject(_ object: String = "witness") -> (size: Int, members: [Member])? {
        guard let embedded = BPFObject.named(object) else { return nil }
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: embedded.bytes.count, alignment: 8)
        defer { bytes.deallocate() }
        bytes.copyBytes(from: embedded.bytes)
        var options = bpf_object_open_opts()
        options.sz = MemoryLayout<bpf_object_open_opts>.size
        guard let handle = bpf_object__open_mem(bytes.baseAddress, bytes.count, &options) else { return nil }
        defer { bpf_object__close(handle) }
        guard let btf = bpf_object__btf(handle) else { return nil }
        let id = btf__find_by_name_kind(btf, "rw_record", 4 /* BTF_KIND_STRUCT */)
        guard id > 0, let type = btf__type_by_id(btf, UInt32(id)) else { return nil }
        let count = Int(type.pointee.info & 0xFFFF)
        let size = Int(type.pointee.size)
        // struct btf_member entries follow the btf_type header.
        let members = UnsafeRawPointer(type).advanced(by: MemoryLayout<btf_type>.size)
            .assumingMemoryBound(to: btf_member.self)
        let list = (0..<count).map { index -> Member in
            let member = members[index]
            let name = String(cString: btf__name_by_offset(btf, member.name_off))
            return Member(name: name, byteOffset: Int(member.offset & 0xFFFFFF) / 8)
        }
        return (size, list)
    }
}
