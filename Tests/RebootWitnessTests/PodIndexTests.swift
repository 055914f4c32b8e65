import Foundation
@testable import WitnessArm
@testable import WitnessAttribution
import WitnessCapture
import WitnessModel
@testable import WitnessReport
import XCTest

/// Pods by name from the kubelet's log directories, laid out as the kubelet
/// writes them: /var/log/pods/<namespace>_<pod>_<uid>/<container>/0.log and
/// /var/log/containers/<pod>_<namespace>_<container>-<id>.log linking to it.
final class PodIndexTests: XCTestCase {
    static let uid = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    static let id = String(repeating: "c0ffee00", count: 8)

    /// A stand-in /var/log with one real-looking pod and what else a node has.
    func kubeletLogs(_ name: String, extra: (URL) throws -> Void = { _ in }) throws -> URL {
        let root = try temporaryDirectory(name)
        let fm = FileManager.default
        let podDir = root.appendingPathComponent("pods/kube-system_node-rebooter-7d9f8_\(Self.uid)/rebooter")
        try fm.createDirectory(at: podDir, withIntermediateDirectories: true)
        try Data("2026-12-04T10:00:00.000000000Z stdout F rebooting\n".utf8).write(to: podDir.appendingPathComponent("0.log"))
        let containers = root.appendingPathComponent("containers")
        try fm.createDirectory(at: containers, withIntermediateDirectories: true)
        try fm.createSymbolicLink(atPath: containers.appendingPathComponent("node-rebooter-7d9f8_kube-system_rebooter-\(Self.id).log").path,
                                  withDestinationPath: podDir.appendingPathComponent("0.log").path)
        // Another pod on the node, a static pod (32-hex UID), and names that are not the kubelet's.
        try fm.createDirectory(at: root.appendingPathComponent("pods/default_web-1_11111111-2222-3333-4444-555555555555/nginx"),
                               withIntermediateDirectories: true)
        try fm.createDirectory(at: root.appendingPathComponent("pods/kube-system_etcd-node1_8a7bd5bb6f1d4c1e9e2c1f6b0e2a7c44"),
                               withIntermediateDirectories: true)
        for junk in ["evil\u{1b}[31m_ns_\(Self.uid)", "a_b_c_d", "Upper_Case_\(Self.uid)", "no-underscores"] {
            try fm.createDirectory(at: root.appendingPathComponent("pods/" + junk), withIntermediateDirectories: true)
        }
        // A link loop: only names are read, nothing is followed.
        try fm.createSymbolicLink(atPath: containers.appendingPathComponent("loop_ns_c-\(String(repeating: "ab", count: 32)).log").path,
                                  withDestinationPath: containers.appendingPathComponent("loop_ns_c-\(String(repeating: "ab", count: 32)).log").path)
        try extra(root)
        return root
    }

    func testAContainerIsNamedByItsPodNamespaceAndContainerFromTheKubeletsLinks() throws {
        let index = PodIndex(root: try kubeletLogs("pods").path)
        index.refresh()
        let docker = ContainerID(runtime: "containerd", id: Self.id)
        XCTAssertEqual(index.lookup(container: docker, podUID: nil),
                       PodIdentity(namespace: "kube-system", name: "node-rebooter-7d9f8", container: "rebooter", uid: Self.uid))
        // By the pod UID alone (a cgroup with no container id), systemd driver's "_" spelling included.
        XCTAssertEqual(index.lookup(container: nil, podUID: "11111111_2222_3333_4444_555555555555")?.qualified, "default/web-1")
        XCTAssertEqual(index.lookup(container: nil, podUID: "8a7bd5bb-6f1d-4c1e-9e2c-1f6b0e2a7c44")?.name, "etcd-node1")
        XCTAssertEqual(index.lookup(container: ContainerID(runtime: "docker", id: String(repeating: "ab", count: 32)), podUID: nil),
                       PodIdentity(namespace: "ns", name: "loop", container: "c", uid: nil),
                       "a link that loops is named, never followed; no pod directory gives its UID")
        XCTAssertTrue(index.notes.contains { $0.contains("4 name(s)") && $0.contains("not as the kubelet writes them") }, "\(index.notes)")
        XCTAssertFalse(index.byUID.values.contains { $0.namespace.contains("\u{1b}") }, "a name with an escape is not believed")
    }

    func testAContainerIDTwoPodsClaimIsNotAttributedAndSaysSo() throws {
        let root = try kubeletLogs("ambiguous") { root in
            try FileManager.default.createSymbolicLink(
                atPath: root.appendingPathComponent("containers/impostor_default_rebooter-\(Self.id).log").path,
                withDestinationPath: "/dev/null")
        }
        let index = PodIndex(root: root.path)
        index.refresh()
        XCTAssertNil(index.lookup(container: ContainerID(runtime: "containerd", id: Self.id), podUID: nil))
        XCTAssertTrue(index.notes.contains { $0.contains("named by two pods' log links") }, "\(index.notes)")
    }

    func testAHostWithoutAKubeletHasNoPodsAndNoNotes() {
        let index = PodIndex(root: "/nonexistent-\(getpid())")
        index.refresh()
        XCTAssertTrue(index.byContainer.isEmpty && index.byUID.isEmpty && index.notes.isEmpty)
    }

    func testADirectoryOfManyEntriesIsReadUpToTheLimit() throws {
        let root = try temporaryDirectory("many")
        let pods = root.appendingPathComponent("pods")
        try FileManager.default.createDirectory(at: pods, withIntermediateDirectories: true)
        for n in 0..<30 { _ = FileManager.default.createFile(atPath: pods.appendingPathComponent("ns_p\(n)_\(Self.uid)").path, contents: nil) }
        var notes: [String] = []
        XCTAssertEqual(PodIndex.names(in: pods.path, limit: 10, notes: &notes).count, 10)
        XCTAssertEqual(notes, ["\(pods.path): more than 10 entries, the rest not read"])
    }

    /// Seed 000 as the kubelet leaves it: the record, the verdict and the journal fields name the pod.
    func testARecordOfAProcessInAPodCarriesItsNameIntoTheVerdictAndTheJournal() throws {
        let index = PodIndex(root: try kubeletLogs("record").path)
        index.refresh()
        var record = VerdictFixturesHost().caller(container: ContainerID(runtime: "containerd", id: Self.id))
        record.podUID = Self.uid
        record.pod = index.lookup(container: record.container, podUID: record.podUID)
        let v = VerdictEngine.decide(VerdictFixturesHost().facts { $0.records = [record] })
        XCTAssertEqual(v.bootstat, "reboot,container,pod=kube-system/node-rebooter-7d9f8")
        XCTAssertEqual(v.initiator?.pod?.container, "rebooter")
        XCTAssertTrue(RecordFormatter.oneLine(record).contains(" pod=kube-system/node-rebooter-7d9f8"))
        let fields = Dictionary(JournalFields.of(record), uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(fields["REBOOT_WITNESS_POD_NAMESPACE"], "kube-system")
        XCTAssertEqual(fields["REBOOT_WITNESS_POD_NAME"], "node-rebooter-7d9f8")
        XCTAssertEqual(fields["REBOOT_WITNESS_CONTAINER_NAME"], "rebooter")
        let (status, line) = LastReport.check(.success(v))
        XCTAssertEqual(status, 0, "a reboot(2) that went through, as asked")
        XCTAssertTrue(line.hasPrefix("ended as intended: reboot,container,pod=kube-system/node-rebooter-7d9f8 (high)"), line)
        XCTAssertLessThan(line.prefix { $0 != ":" }.count + "reboot,container,pod=kube-system/node-rebooter-7d9f8".count, 256,
                          "within node-problem-detector's output limit")
    }
}

private struct VerdictFixturesHost: VerdictFixtures {}
