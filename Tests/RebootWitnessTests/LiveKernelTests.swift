import Foundation
import XCTest

/// reboot-witness against this host's real kernel: it arms, and the only two
/// reboot(2) calls that are safe on a host (bad magic; RESTART from the init
/// of a fresh user+PID namespace, see rw-selftest) are captured.
final class LiveKernelTests: XCTestCase {
    var store: URL!
    var armed: Process?
    var armStderr = Data()

    override func setUpWithError() throws {
        guard geteuid() == 0 else { throw XCTSkip("live tests need root (BPF)") }
        guard FileManager.default.fileExists(atPath: "/sys/kernel/btf/vmlinux") else {
            throw XCTSkip("live tests need kernel BTF")
        }
        store = try temporaryDirectory("live")
        try standInKubelet()
        try startArm()
    }

    override func tearDown() {
        if let armed, armed.isRunning { armed.interrupt(); armed.waitUntilExit() }
        if notifySocket >= 0 { close(notifySocket) }
    }

    /// A datagram socket standing in for systemd's NOTIFY_SOCKET.
    var notifySocket: Int32 = -1
    var notifyPath = ""

    func startArm() throws {
        notifyPath = store.appendingPathComponent("notify.sock").path
        notifySocket = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(notifyPath.utf8) + [0]) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(notifySocket, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        XCTAssertEqual(bound, 0)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Built.witness)
        process.arguments = ["arm", "--store", store.path, "--json", "--no-pin", "--kubelet-log-dir", store.appendingPathComponent("kubelet").path]
        process.environment = ["NOTIFY_SOCKET": notifyPath, "PATH": "/usr/bin:/bin"]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        armed = process
        armStderr += Data(read(err, until: "armed:").utf8)
        if String(decoding: armStderr, as: UTF8.self).contains("armed:") { return }
        XCTFail("arm did not print its armed line: \(String(decoding: armStderr, as: UTF8.self))")
        throw XCTSkip("arm failed")
    }

    static let containerID = String(repeating: "5e", count: 32)
    static let podUID = "5e5e5e5e-0000-4000-8000-5e5e5e5e5e5e"

    /// The kubelet's log directories as a node has them, for the pod of the container test.
    func standInKubelet() throws {
        let kubelet = store.appendingPathComponent("kubelet")
        let pod = kubelet.appendingPathComponent("pods/default_rebooter-pod_\(Self.podUID)/app")
        try FileManager.default.createDirectory(at: pod, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: kubelet.appendingPathComponent("containers"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: kubelet.appendingPathComponent("containers/rebooter-pod_default_app-\(Self.containerID).log").path,
            withDestinationPath: pod.appendingPathComponent("0.log").path)
    }

    /// Stops arm (SIGINT) and returns every record it stored, as JSON objects.
    func stopAndDump() throws -> [[String: Any]] {
        let process = try XCTUnwrap(armed)
        process.interrupt()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        let dump = try runProgram(Built.witness, ["dump", "--store", store.path, "--json"])
        XCTAssertEqual(dump.status, 0, dump.stderr)
        return try ndjsonObjects(dump.stdout)
    }

    static func cgroup2Root() -> String? {
        for root in ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"]
        where FileManager.default.fileExists(atPath: root + "/cgroup.procs")
            && FileManager.default.fileExists(atPath: root + "/cgroup.controllers") {
            return root
        }
        return nil
    }

    func testBadMagicFromAContainerCgroupNamesTheCallerCompletely() throws {
        let root = try XCTUnwrap(Self.cgroup2Root(), "no cgroup v2 hierarchy mounted")
        let containerID = Self.containerID
        let relative = "/rw-live-\(getpid()).slice/docker-\(containerID).scope"
        let directory = root + relative
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer {
            rmdir(directory)
            rmdir(root + "/rw-live-\(getpid()).slice")
        }

        let caller = Process()
        caller.executableURL = URL(fileURLWithPath: Built.selftest)
        caller.arguments = ["bad-magic", "--cgroup", directory]
        let out = Pipe()
        caller.standardOutput = out
        try caller.run()
        let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        caller.waitUntilExit()
        XCTAssertEqual(caller.terminationStatus, 0, "reboot(2) with bad magic must fail with EINVAL: \(printed)")
        let childPID = try XCTUnwrap(printed.split(separator: " ").first.flatMap { Int($0.dropFirst(4)) })

        let records = try stopAndDump()
        let record = try XCTUnwrap(records.first { $0["pid"] as? Int == childPID }, "no record for pid \(childPID)")
        XCTAssertEqual(record["probe"] as? String, "sys_enter_reboot")
        XCTAssertEqual(record["attach"] as? String, "tracepoint")
        XCTAssertEqual(record["cmd"] as? String, "INVALID")
        XCTAssertEqual(record["comm"] as? String, "rw-selftest")
        XCTAssertEqual(record["exe"] as? String, URL(fileURLWithPath: Built.selftest).resolvingSymlinksInPath().path)
        XCTAssertEqual(record["cgroup"] as? String, relative)
        let container = try XCTUnwrap(record["container"] as? [String: Any])
        XCTAssertEqual(container["runtime"] as? String, "docker")
        XCTAssertEqual(container["id"] as? String, containerID)
        let pod = try XCTUnwrap(record["pod"] as? [String: Any], "the pod is named from the kubelet's log directories")
        XCTAssertEqual([pod["namespace"], pod["name"], pod["container"], pod["uid"]] as? [String],
                       ["default", "rebooter-pod", "app", Self.podUID])
        XCTAssertEqual(record["in_init_pid_ns"] as? Bool, true)
        XCTAssertEqual(record["retval"] as? Int, -22, "the sys_exit_reboot record is joined to the entry")
        let ancestry = try XCTUnwrap(record["ancestry"] as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(ancestry.count, 2)
        XCTAssertEqual(ancestry[0]["pid"] as? Int, Int(caller.processIdentifier))
        XCTAssertEqual(ancestry[0]["comm"] as? String, "rw-selftest")
        XCTAssertEqual(ancestry[1]["pid"] as? Int, Int(getpid()), "ancestry reaches the test process")
        XCTAssertEqual(record["ppid"] as? Int, Int(caller.processIdentifier))
    }

    func testRestartFromTheInitOfAUserAndPIDNamespace() throws {
        let result = try runProgram(Built.selftest, ["pidns-restart"])
        guard result.status == 0 else {
            throw XCTSkip("unprivileged user namespaces unavailable here: \(result.stderr)")
        }
        let pid = try XCTUnwrap(result.stdout.split(separator: " ").first.flatMap { Int($0.dropFirst(4)) })
        let records = try stopAndDump()
        let record = try XCTUnwrap(records.first { $0["pid"] as? Int == pid }, "no record for namespace init \(pid)")
        XCTAssertEqual(record["cmd"] as? String, "RESTART")
        XCTAssertEqual(record["in_init_pid_ns"] as? Bool, false)
        XCTAssertEqual(record["uid"] as? Int, 65534)
        XCTAssertTrue(record["retval"] is NSNull, "RESTART in a PID namespace never returns to its caller")
        let hostNamespace = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid")
        XCTAssertNotEqual("pid:[\(record["pid_ns"] as? Int ?? 0)]", hostNamespace)
    }

    /// A reboot(2) storm from one process at full speed (hundreds of
    /// thousands of calls per second): the kernel counts the repeats, so one
    /// record carries the exact count, nothing is lost, and the store stays
    /// at its preallocated size.
    func testAStormIsOneRecordWithAnExactCount() throws {
        let calls = 50_000
        let result = try runProgram(Built.selftest, ["bad-magic", "--count", "\(calls)"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("einval=\(calls)"), result.stdout)
        Thread.sleep(forTimeInterval: 0.5)
        let status = try runProgram(Built.witness, ["status", "--json", "--store", store.path])
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((object["store"] as? [String: Any])?["lost_records"] as? Int, 0, "the ring buffer overflowed")
        let records = try stopAndDump()
        let enters = records.filter { $0["probe"] as? String == "sys_enter_reboot" && $0["cmd"] as? String == "INVALID" }
        XCTAssertEqual(enters.count, 1, "a storm from one caller is one record")
        XCTAssertEqual(enters.first?["count"] as? Int, calls)
        XCTAssertEqual(enters.first?["retval"] as? Int, -22, "the first call's EINVAL is joined to the record")
        XCTAssertNotNil(enters.first?["last_time"] as? String)
        let state = try XCTUnwrap(JSONSerialization.jsonObject(
            with: Data(contentsOf: store.appendingPathComponent("arm-state.json"))) as? [String: Any])
        let latency = try XCTUnwrap(state["durable_latency"] as? [String: Any], "no event→durable latency published")
        XCTAssertGreaterThan(latency["p99_ms"] as? Double ?? 0, 0)
        let size = try FileManager.default.attributesOfItem(atPath: store.appendingPathComponent("witness.store").path)[.size] as? Int
        XCTAssertEqual(size, 1 << 20, "the store never grows past --store-size")
    }

    /// Two storms at once from two cgroups: the kernel keeps them apart and
    /// both counts stay exact while the two callers race.
    func testConcurrentStormsKeepSeparateExactCounts() throws {
        let root = try XCTUnwrap(Self.cgroup2Root(), "no cgroup v2 hierarchy mounted")
        let relative = "/rw-storm-\(getpid()).scope"
        try FileManager.default.createDirectory(atPath: root + relative, withIntermediateDirectories: true)
        defer { rmdir(root + relative) }
        let calls = 25_000
        let storms = [["--cgroup", root + relative], []].map { extra -> Process in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Built.selftest)
            process.arguments = ["bad-magic", "--count", "\(calls)"] + extra
            process.standardOutput = FileHandle.nullDevice
            return process
        }
        for storm in storms { try storm.run() }
        for storm in storms {
            storm.waitUntilExit()
            XCTAssertEqual(storm.terminationStatus, 0)
        }
        Thread.sleep(forTimeInterval: 0.5)
        let enters = try stopAndDump().filter { $0["probe"] as? String == "sys_enter_reboot" && $0["cmd"] as? String == "INVALID" }
        XCTAssertEqual(enters.count, 2, "one record per caller")
        XCTAssertEqual(Set(enters.map { $0["cgroup"] as? String == relative }), [true, false])
        XCTAssertEqual(enters.map { $0["count"] as? Int }, [calls, calls])
    }

    /// Exec intents, with safe stand-ins: copies of /bin/true named like the
    /// tools (the kernel matches the name, the controller the argv). Only the
    /// real intent is stored, with the ssh session its shell came from.
    func testExecIntentsAreRecordedWithTheirSSHSession() throws {
        let dir = try temporaryDirectory("tools")
        for tool in ["systemctl", "reboot"] {
            try FileManager.default.copyItem(atPath: "/bin/true", toPath: dir.appendingPathComponent(tool).path)
        }
        let tools = dir.path
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", "\(tools)/systemctl status; \(tools)/systemctl reboot --help; \(tools)/reboot -w; "
                           + "\(tools)/systemctl --force reboot; sleep 1"]
        shell.environment = ["SSH_CONNECTION": "10.10.10.34 51234 10.0.0.5 22", "PATH": "/usr/bin:/bin"]
        try shell.run()
        shell.waitUntilExit()
        let intents = try stopAndDump().filter { $0["probe"] as? String == "sched_process_exec" }
        XCTAssertEqual(intents.count, 1, "only `systemctl --force reboot` is an intent: \(intents.map { $0["cmd_arg"] ?? "" })")
        let intent = try XCTUnwrap(intents.first)
        XCTAssertEqual(intent["cmd"] as? String, "RESTART")
        XCTAssertEqual(intent["cmd_arg"] as? String, "\(tools)/systemctl --force reboot")
        XCTAssertEqual(intent["comm"] as? String, "systemctl")
        XCTAssertEqual(intent["ssh_peer"] as? String, "10.10.10.34:51234")
        let ancestry = try XCTUnwrap(intent["ancestry"] as? [[String: Any]])
        XCTAssertEqual(ancestry.first?["pid"] as? Int, Int(shell.processIdentifier))
    }

    /// arm runs preflight at start and again with a reboot intent, and stores each answer.
    func testPreflightRunsAtStartAndWithAnIntent() throws {
        let dir = try temporaryDirectory("tools")
        try FileManager.default.copyItem(atPath: "/bin/true", toPath: dir.appendingPathComponent("systemctl").path)
        let deadline = Date().addingTimeInterval(20)
        var stored: [[String: Any]] = []
        func preflights() throws -> [[String: Any]] {
            try ndjsonObjects(try runProgram(Built.witness, ["dump", "--json", "--store", store.path]).stdout)
                .filter { $0["type"] as? String == "preflight" }
        }
        while Date() < deadline, try preflights().isEmpty { usleep(100_000) }
        _ = try runProgram(dir.appendingPathComponent("systemctl").path, ["reboot"])
        while Date() < deadline {
            stored = try preflights()
            if stored.count >= 2 { break }
            usleep(100_000)
        }
        XCTAssertEqual(stored.map { $0["trigger"] as? String ?? "" }.first, "arm started")
        XCTAssertTrue((stored.last?["trigger"] as? String ?? "").hasPrefix("intent: \(dir.path)/systemctl reboot by "), "\(stored)")
        // This host boots a kernel its hypervisor gives: preflight says it cannot tell, and why.
        let expected = FileManager.default.fileExists(atPath: "/boot/grub/grub.cfg") || ((try? FileManager.default.contentsOfDirectory(atPath: "/boot"))?
            .contains { $0.hasPrefix("vmlinuz-") } ?? false)
        if !expected {
            XCTAssertEqual(stored.last?["outcome"] as? String, "unknown")
            XCTAssertTrue((stored.last?["problems"] as? [String] ?? []).contains { $0.contains("no boot loader configuration") })
        }
    }

    func testArmTellsSystemdItIsReady() throws {
        var buffer = [UInt8](repeating: 0, count: 256)
        // READY=1 follows the armed line: wait for it a little.
        var entry = pollfd(fd: notifySocket, events: Int16(POLLIN), revents: 0)
        _ = poll(&entry, 1, 5000)
        let n = recv(notifySocket, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        XCTAssertGreaterThan(n, 0, "no sd_notify datagram")
        XCTAssertTrue(String(decoding: buffer.prefix(max(n, 0)), as: UTF8.self).hasPrefix("READY=1"))
        XCTAssertTrue(String(decoding: armStderr, as: UTF8.self).hasPrefix("armed: "), "armed line on stderr")
    }

    func testHoldIsReportedHonestlyWhereTheKernelCannotHold() throws {
        let status = try runProgram(Built.witness, ["status", "--json", "--store", store.path])
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        let hold = try XCTUnwrap(object["hold"] as? [String: Any])
        let lsms = object["lsms"] as? [String]
        if lsms?.contains("bpf") == true || (object["fentry"] as? [String: Any])?["state"] as? String == "available" {
            XCTAssertEqual(hold["state"] as? String, "available", "\(hold)")
            XCTAssertEqual(hold["active"] as? Bool, true, "\(hold)")
        } else {
            // This host: no BPF LSM, fentry refused (EPERM). A state and a reason, not a sentence.
            XCTAssertEqual(hold["state"] as? String, "unavailable", "\(hold)")
            XCTAssertTrue((hold["reason"] as? String)?.contains("LSM") == true, "\(hold)")
            XCTAssertTrue(String(decoding: armStderr, as: UTF8.self).contains("hold unavailable"))
        }
    }

    func testArmWritesStateThatStatusReports() throws {
        let status = try runProgram(Built.witness, ["status", "--json", "--store", store.path])
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        let storeInfo = try XCTUnwrap(object["store"] as? [String: Any])
        XCTAssertEqual(storeInfo["armed_pid"] as? Int, Int(armed!.processIdentifier))
        XCTAssertEqual(storeInfo["lost_records"] as? Int, 0)
        let probes = try XCTUnwrap(object["probes"] as? [[String: Any]])
        let enter = try XCTUnwrap(probes.first { $0["name"] as? String == "sys_enter_reboot" })
        XCTAssertEqual(enter["state"] as? String, "available")
        XCTAssertEqual(enter["attached"] as? Bool, true)
        XCTAssertEqual(enter["attach"] as? String, "tracepoint")
        // Probes that cannot attach here say why, with a state of the vocabulary.
        let kernelRestart = try XCTUnwrap(probes.first { $0["name"] as? String == "kernel_restart" })
        XCTAssertEqual(kernelRestart["attached"] as? Bool, false)
        XCTAssertTrue(["unavailable", "failed"].contains(kernelRestart["state"] as? String ?? ""), "\(kernelRestart)")
        XCTAssertNotNil(kernelRestart["reason"] as? String)
        // Every part is a state with a reason, never a sentence.
        for part in ["hold", "dbus"] {
            let capability = try XCTUnwrap(object[part] as? [String: Any], part)
            XCTAssertTrue(["available", "unavailable", "failed", "unknown"].contains(capability["state"] as? String ?? ""), part)
        }
        let outputs = try XCTUnwrap(object["outputs"] as? [String: Any])
        XCTAssertNotNil((outputs["journal"] as? [String: Any])?["state"] as? String)
        let final = try XCTUnwrap(object["final_stage"] as? [String: Any])
        XCTAssertNotNil((final["state"] as? [String: Any])?["state"] as? String)
        XCTAssertEqual(((object["capture"] as? [String: Any])?["refused_records"] as? [String: Any])?["other_version"] as? Int, 0)
    }
}
