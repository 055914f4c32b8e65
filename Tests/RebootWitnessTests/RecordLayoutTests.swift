import CWitness
import WitnessCapture
import XCTest

/// bpf/witness.h is compiled twice: by clang -target bpf into the embedded
/// objects, and by the Swift importer. A layout difference would silently
/// scramble every record, so compare them member by member.
final class RecordLayoutTests: XCTestCase {
    func testSwiftAndBPFAgreeOnEveryMember() throws {
        for object in ["witness", "watchdog"] {
            let layout = try XCTUnwrap(RecordLayout.inObject(object), "no rw_record BTF in \(object).bpf.o")
            XCTAssertEqual(layout.size, MemoryLayout<rw_record>.size, object)
            let swiftOffsets: [String: Int?] = [
                "version": MemoryLayout<rw_record>.offset(of: \.version),
                "probe": MemoryLayout<rw_record>.offset(of: \.probe),
                "attach": MemoryLayout<rw_record>.offset(of: \.attach),
                "flags": MemoryLayout<rw_record>.offset(of: \.flags),
                "boot_ns": MemoryLayout<rw_record>.offset(of: \.boot_ns),
                "cgroup_id": MemoryLayout<rw_record>.offset(of: \.cgroup_id),
                "cgroup_v1_id": MemoryLayout<rw_record>.offset(of: \.cgroup_v1_id),
                "retval": MemoryLayout<rw_record>.offset(of: \.retval),
                "pid": MemoryLayout<rw_record>.offset(of: \.pid),
                "tid": MemoryLayout<rw_record>.offset(of: \.tid),
                "ppid": MemoryLayout<rw_record>.offset(of: \.ppid),
                "uid": MemoryLayout<rw_record>.offset(of: \.uid),
                "gid": MemoryLayout<rw_record>.offset(of: \.gid),
                "euid": MemoryLayout<rw_record>.offset(of: \.euid),
                "loginuid": MemoryLayout<rw_record>.offset(of: \.loginuid),
                "sessionid": MemoryLayout<rw_record>.offset(of: \.sessionid),
                "pid_ns": MemoryLayout<rw_record>.offset(of: \.pid_ns),
                "magic1": MemoryLayout<rw_record>.offset(of: \.magic1),
                "magic2": MemoryLayout<rw_record>.offset(of: \.magic2),
                "cmd": MemoryLayout<rw_record>.offset(of: \.cmd),
                "arg_int": MemoryLayout<rw_record>.offset(of: \.arg_int),
                "exe_depth": MemoryLayout<rw_record>.offset(of: \.exe_depth),
                "cgroup_depth": MemoryLayout<rw_record>.offset(of: \.cgroup_depth),
                "ancestry_len": MemoryLayout<rw_record>.offset(of: \.ancestry_len),
                "reserved": MemoryLayout<rw_record>.offset(of: \.reserved),
                "stack_bytes": MemoryLayout<rw_record>.offset(of: \.stack_bytes),
                "comm": MemoryLayout<rw_record>.offset(of: \.comm),
                "tty": MemoryLayout<rw_record>.offset(of: \.tty),
                "arg": MemoryLayout<rw_record>.offset(of: \.arg),
                "exe": MemoryLayout<rw_record>.offset(of: \.exe),
                "cgroup": MemoryLayout<rw_record>.offset(of: \.cgroup),
                "ancestry": MemoryLayout<rw_record>.offset(of: \.ancestry),
                "kstack": MemoryLayout<rw_record>.offset(of: \.kstack),
            ]
            XCTAssertEqual(Set(layout.members.map(\.name)), Set(swiftOffsets.keys),
                           "a member was added to rw_record: list it here")
            for member in layout.members {
                XCTAssertEqual(swiftOffsets[member.name] ?? nil, member.byteOffset, "\(object): rw_record.\(member.name)")
            }
        }
    }
}
