@testable import WitnessCapture
import WitnessModel
import WitnessSystem
import XCTest

/// Whether the BPF programs search cgroup v1 hierarchies for systemd's
/// path is told by /proc/self/cgroup, as the kernel writes it.
final class CgroupHierarchyTests: XCTestCase {
    func testAHostWithTheUnifiedHierarchyOnlyLoadsNoV1Search() {
        XCTAssertFalse(ProcText.listsCgroupV1Hierarchy("0::/system.slice/reboot-witness.service\n"))
        // cgroup namespaces and unusual paths do not make it v1.
        XCTAssertFalse(ProcText.listsCgroupV1Hierarchy("0::/../../system.slice/a:b.service\n"))
    }

    func testALegacyHostSearchesV1() {
        // CentOS 7 (systemd 219): v1 only, systemd's own hierarchy last.
        let centos7 = """
            11:cpuset:/
            10:memory:/
            9:devices:/system.slice/reboot-witness.service
            8:blkio:/
            7:hugetlb:/
            6:net_prio,net_cls:/
            5:freezer:/
            4:pids:/
            3:perf_event:/
            2:cpuacct,cpu:/
            1:name=systemd:/system.slice/reboot-witness.service

            """
        XCTAssertTrue(ProcText.listsCgroupV1Hierarchy(centos7))
        // The same layout on a kernel with cgroup2 built in: every process sits in its unused root.
        XCTAssertTrue(ProcText.listsCgroupV1Hierarchy("2:memory:/\n1:name=systemd:/system.slice/rw-scenario.service\n0::/\n"))
    }

    func testAHybridHostSearchesV1() {
        // Debian 10 and RHEL 8 by default: v1 controllers, the unified hierarchy beside them.
        let hybrid = "12:memory:/system.slice/ssh.service\n1:name=systemd:/system.slice/ssh.service\n0::/system.slice/ssh.service\n"
        XCTAssertTrue(ProcText.listsCgroupV1Hierarchy(hybrid))
    }

    func testAnUnreadableOrEmptyFileCostsLoadTimeNeverAPath() {
        XCTAssertTrue(ProcText.listsCgroupV1Hierarchy(Files.read("/nonexistent/proc/self/cgroup").map { String(decoding: $0, as: UTF8.self) } ?? ""))
        // A read that failed after the open (Files.read gives what it got: nothing).
        XCTAssertTrue(ProcText.listsCgroupV1Hierarchy(""))
    }

    /// This host has no v1 hierarchies, so its arms never verify the v1
    /// search: loaded here with it on, every probe point attaches as
    /// without it, and the verifier did walk more (the constant reached the
    /// programs). The QEMU scenario kexec-cgroup-v1 runs it for real.
    func testTheV1SearchPassesTheVerifierOnThisKernel() throws {
        guard geteuid() == 0, Files.exists("/sys/kernel/btf/vmlinux") else { throw XCTSkip("needs root and kernel BTF") }
        var attached: [Bool: [ProbeID: String]] = [:], verified: [Bool: Int] = [:]
        for v1 in [false, true] {
            let features = KernelFeatures(mountTracefs: true)
            features.cgroupV1 = v1
            let probes = WitnessProbes(features: features)
            defer { probes.release(keepCapture: false) }
            try probes.arm()
            try probes.armRest()
            attached[v1] = probes.states.mapValues { "\($0)" }
            verified[v1] = Self.verifiedInstructions()
            XCTAssertEqual(probes.cgroupV1Search.state, v1 ? .available : .unavailable)
        }
        XCTAssertFalse(attached[false, default: [:]].isEmpty)
        XCTAssertEqual(attached[true], attached[false])
        XCTAssertGreaterThan(verified[true] ?? 0, verified[false] ?? 0)
    }

    /// The verifier's work for the programs this process holds open (fdinfo's verified_insns, 5.16+).
    static func verifiedInstructions() -> Int {
        (0..<4096).reduce(0) { total, fd in
            guard let info = Files.read("/proc/self/fdinfo/\(fd)").map({ String(decoding: $0, as: UTF8.self) }) else { return total }
            let count = info.split(separator: "\n").first { $0.hasPrefix("verified_insns:") }?.split(separator: "\t").last
            return total + (count.flatMap { Int($0) } ?? 0)
        }
    }
}
