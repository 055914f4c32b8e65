import Foundation
@testable import WitnessArm
import WitnessModel
import WitnessSystem
import XCTest

/// A D-Bus sender is attributed from /proc (BPF did not see the call). The
/// seeds' container rebooted its node over the host's bus: a root process in
/// another PID namespace, whose cgroup may not name a runtime we know.
final class BusSenderAttributionTests: XCTestCase {
    /// A stand-in /proc: PID 1 in the initial namespace, `pid` in `namespace`,
    /// root, running `exe`, in `cgroup`.
    func standInProc(pid: UInt32, namespace: UInt32, exe: String, cgroup: String) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("rw-proc-\(UUID().uuidString)").path
        for (process, ns) in [(UInt32(1), UInt32(4026531836)), (pid, namespace)] {
            let dir = "\(root)/\(process)"
            try FileManager.default.createDirectory(atPath: "\(dir)/ns", withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: "\(dir)/ns/pid", withDestinationPath: "pid:[\(ns)]")
            try "Name:\tsystemd-logind\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n".write(toFile: "\(dir)/status", atomically: true, encoding: .utf8)
            try "systemd-logind\n".write(toFile: "\(dir)/comm", atomically: true, encoding: .utf8)
            try "0::\(cgroup)\n".write(toFile: "\(dir)/cgroup", atomically: true, encoding: .utf8)
            try FileManager.default.createSymbolicLink(atPath: "\(dir)/exe", withDestinationPath: process == 1 ? "/usr/lib/systemd/systemd" : exe)
        }
        addTeardownBlock { try? FileManager.default.removeItem(atPath: root) }
        return root
    }

    /// `pid`'s D-Bus call asking systemd to start reboot.target, attributed from `proc`.
    func startUnit(from pid: UInt32, sender: String, ownsLogin1: Bool? = nil, proc: String) -> CallerRecord {
        ProcessAttribution.record(pid: pid, bootID: "b1", time: "2026-01-01T00:00:01.000Z", probe: .dbus, cmd: .restart,
                                  cmdArg: "org.freedesktop.systemd1.Manager.StartUnit reboot.target from \(sender)",
                                  senderOwnsLogin1: ownsLogin1, proc: proc)
    }

    func testASenderInAnotherPidNamespaceRunningLogindsPathIsNotLogindsRelay() throws {
        let proc = try standInProc(pid: 7001, namespace: 4026532771, exe: "/usr/lib/systemd/systemd-logind",
                                   cgroup: "/kubepods.slice/unknown-runtime-4f1c.scope")
        let record = startUnit(from: 7001, sender: ":1.9", proc: proc)
        XCTAssertEqual(record.inInitPidNs, false)
        XCTAssertEqual(record.exe, "/usr/lib/systemd/systemd-logind")
        XCTAssertFalse(record.isRelayedIntent, "a container's process passed for the host's logind")
        let shutdown = CallerRecord.initiatingIntent(in: [record], before: "2026-01-01T00:00:09.000Z")
        XCTAssertEqual(shutdown?.pid, 7001)
    }

    func testTheHostsLogindIsItsRelay() throws {
        let proc = try standInProc(pid: 612, namespace: 4026531836, exe: "/usr/lib/systemd/systemd-logind",
                                   cgroup: "/system.slice/systemd-logind.service")
        let record = startUnit(from: 612, sender: ":1.2", ownsLogin1: true, proc: proc)
        XCTAssertEqual(record.inInitPidNs, true)
        XCTAssertEqual(record.senderOwnsLogin1, true)
        XCTAssertTrue(record.isRelayedIntent)
        // Another connection in the same unit, with the same binary: the bus says logind's name is not its own.
        XCTAssertFalse(startUnit(from: 612, sender: ":1.66", ownsLogin1: false, proc: proc).isRelayedIntent)
    }

    /// A cgroup v1 host (RHEL 7) where something mounted cgroup2 (Cilium): the
    /// unified line says "/", systemd's own hierarchy says where logind is.
    func testOnACgroupV1HostSystemdsHierarchyPlacesTheSender() throws {
        let proc = try standInProc(pid: 612, namespace: 4026531836, exe: "/usr/lib/systemd/systemd-logind", cgroup: "/")
        try """
            11:memory:/system.slice/systemd-logind.service
            4:cpu,cpuacct:/
            1:name=systemd:/system.slice/systemd-logind.service
            0::/

            """.write(toFile: "\(proc)/612/cgroup", atomically: true, encoding: .utf8)
        let record = startUnit(from: 612, sender: ":1.2", proc: proc)
        XCTAssertEqual(record.cgroup, "/system.slice/systemd-logind.service")
        XCTAssertTrue(record.cgroupV1)
        XCTAssertTrue(record.isRelayedIntent)
        XCTAssertEqual(ProcText.systemdCgroup("0::/user.slice/user-1000.slice/session-3.scope\n")?.path,
                       "/user.slice/user-1000.slice/session-3.scope")
        XCTAssertNil(ProcText.systemdCgroup("garbage\n4:cpu:\n"))
    }
}
