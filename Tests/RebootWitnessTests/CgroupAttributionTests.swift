import WitnessAttribution
import XCTest
import WitnessModel

final class CgroupAttributionTests: XCTestCase {
    let hex = "4f2b8a9c1d3e5f60718293a4b5c6d7e8f90112233445566778899000aabbccdd"
    let uid = "7c3f9a2e-1b4d-4e8f-9a0b-1c2d3e4f5a6b"

    func attribution(_ path: String) -> CgroupAttribution { CgroupAttribution(cgroupPath: path) }

    func testDockerSystemdAndCgroupfsDrivers() {
        XCTAssertEqual(attribution("/system.slice/docker-\(hex).scope").container,
                       ContainerID(runtime: "docker", id: hex))
        XCTAssertEqual(attribution("/docker/\(hex)").container, ContainerID(runtime: "docker", id: hex))
    }

    func testContainerdCRIWithPodUID() {
        let underscored = uid.replacingOccurrences(of: "-", with: "_")
        let burstable = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod\(underscored).slice/cri-containerd-\(hex).scope"
        XCTAssertEqual(attribution(burstable).container, ContainerID(runtime: "containerd", id: hex))
        XCTAssertEqual(attribution(burstable).podUID, uid)
        let guaranteed = "/kubepods.slice/kubepods-pod\(underscored).slice/cri-containerd-\(hex).scope"
        XCTAssertEqual(attribution(guaranteed).podUID, uid)
        XCTAssertEqual(attribution(guaranteed).container?.runtime, "containerd")
    }

    func testKubeletCgroupfsDriverNamesPodAndContainer() {
        let path = "/kubepods/burstable/pod\(uid)/\(hex)"
        XCTAssertEqual(attribution(path).podUID, uid)
        XCTAssertEqual(attribution(path).container, ContainerID(runtime: "kubernetes", id: hex))
        XCTAssertEqual(attribution("/kubepods/pod\(uid)/\(hex)").podUID, uid)
    }

    func testCRIOAndItsMonitor() {
        XCTAssertEqual(attribution("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod\(uid.replacingOccurrences(of: "-", with: "_")).slice/crio-\(hex).scope").container,
                       ContainerID(runtime: "cri-o", id: hex))
        XCTAssertEqual(attribution("/system.slice/crio-conmon-\(hex).scope").container,
                       ContainerID(runtime: "cri-o", id: hex, role: "conmon"))
    }

    func testPodman() {
        XCTAssertEqual(attribution("/machine.slice/libpod-\(hex).scope").container,
                       ContainerID(runtime: "podman", id: hex))
        XCTAssertEqual(attribution("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-\(hex).scope/container").container,
                       ContainerID(runtime: "podman", id: hex))
        XCTAssertEqual(attribution("/machine.slice/libpod-conmon-\(hex).scope").container?.role, "conmon")
    }

    func testMachinedGuestsUnescapeUnitNames() {
        XCTAssertEqual(attribution("/machine.slice/machine-web\\x2d01.scope").container,
                       ContainerID(runtime: "systemd-nspawn", id: "web-01"))
        XCTAssertEqual(attribution("/machine.slice/machine-qemu\\x2d1\\x2ddebian.scope/libvirt/emulator").container?.id,
                       "qemu-1-debian")
    }

    func testLXCNewAndOldLayouts() {
        XCTAssertEqual(attribution("/lxc.payload.build-box/init.scope").container, ContainerID(runtime: "lxc", id: "build-box"))
        XCTAssertEqual(attribution("/lxc/build-box").container, ContainerID(runtime: "lxc", id: "build-box"))
    }

    func testHostCgroupsAreNotContainers() {
        for path in ["/", "/system.slice/sshd.service", "/user.slice/user-0.slice/session-3.scope",
                     "/system.slice/docker.service", "/docker/not-a-container-id", "/machine.slice",
                     "/system.slice/docker-\(hex.prefix(12)).scope", "/kubepods.slice/kubepods-burstable.slice"] {
            XCTAssertNil(attribution(path).container, path)
            XCTAssertNil(attribution(path).podUID, path)
        }
    }
}
