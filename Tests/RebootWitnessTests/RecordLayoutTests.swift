import BPFObjects
import XCTest

/// bpf/witness.h is compiled twice: by clang -target bpf into the embedded
/// objects, and by the Swift importer. A layout difference would silently
/// scramble every record, map key and counter, so BPFEmbed writes both
/// layouts of every struct the header declares (BTF and MemoryLayout), and
/// this compares them member by member.
final class RecordLayoutTests: XCTestCase {
    /// Every struct bpf/witness.h declares: each must reach the BPF side (a
    /// struct no program uses has no BTF to compare, and is not shared).
    static let header = ["rw_ancestor", "rw_caller_count", "rw_caller_key", "rw_config", "rw_counters", "rw_exe_id",
                         "rw_final_state", "rw_hold_state", "rw_noise_count", "rw_noise_key", "rw_record", "rw_spill_key",
                         "rw_watchdog_state"]

    func testSwiftAndBPFAgreeOnEveryMemberOfEveryStruct() throws {
        let host = Dictionary(uniqueKeysWithValues: BPFLayouts.host.map { ($0.name, $0) })
        XCTAssertEqual(Set(host.keys), Set(Self.header), "witness.h declares a struct no BPF object uses, or this list is stale")
        for object in BPFObjectName.all {
            let compiled = try XCTUnwrap(BPFLayouts.compiled[object], "\(object)")
            XCTAssertTrue(compiled.contains { $0.name == "rw_record" }, "\(object) carries no rw_record BTF")
            for layout in compiled {
                let mine = try XCTUnwrap(host[layout.name], "\(object): \(layout.name)")
                XCTAssertEqual(layout.size, mine.size, "\(object): sizeof(struct \(layout.name))")
                XCTAssertEqual(layout.members.map(\.name), mine.members.map(\.name), "\(object): members of \(layout.name)")
                for (bpf, swift) in zip(layout.members, mine.members) {
                    XCTAssertNotNil(swift.offset, "\(layout.name).\(swift.name) has no stored offset in Swift")
                    XCTAssertEqual(bpf.offset, swift.offset, "\(object): offsetof(struct \(layout.name), \(bpf.name))")
                }
            }
        }
    }
}
