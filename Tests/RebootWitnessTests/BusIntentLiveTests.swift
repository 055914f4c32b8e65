import Foundation
import XCTest

/// D-Bus intents against a real bus: a private dbus-daemon (no service
/// activation, so nothing can start), `arm --dbus-address` monitoring it, and
/// dbus-send making the calls logind and systemd would receive.
final class BusIntentLiveTests: XCTestCase {
    /// A private dbus-daemon and the logind/systemd stand-in on it, both
    /// stopped when the test ends; its address.
    func privateBus(answeringAfterMs delay: Int) throws -> String {
        guard geteuid() == 0, FileManager.default.fileExists(atPath: "/sys/kernel/btf/vmlinux") else {
            throw XCTSkip("live tests need root and kernel BTF")
        }
        guard let daemon = ["/usr/bin/dbus-daemon", "/bin/dbus-daemon"].first(where: FileManager.default.fileExists) else {
            throw XCTSkip("dbus-daemon not installed")
        }
        let dir = try temporaryDirectory("bus")
        let config = dir.appendingPathComponent("bus.conf")
        try """
        <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
         "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
        <busconfig>
          <type>session</type>
          <listen>unix:path=\(dir.path)/bus</listen>
          <auth>EXTERNAL</auth>
          <policy context="default">
            <allow send_destination="*" eavesdrop="true"/>
            <allow eavesdrop="true"/>
            <allow own="*"/>
          </policy>
        </busconfig>
        """.write(to: config, atomically: true, encoding: .utf8)
        let bus = Process()
        bus.executableURL = URL(fileURLWithPath: daemon)
        bus.arguments = ["--config-file=\(config.path)", "--nofork", "--nopidfile"]
        try bus.run()
        addTeardownBlock { bus.terminate(); bus.waitUntilExit() }
        let address = "unix:path=\(dir.path)/bus"
        for _ in 0..<50 where !FileManager.default.fileExists(atPath: dir.path + "/bus") { usleep(100_000) }

        let service = Process()
        service.executableURL = URL(fileURLWithPath: Built.selftest)
        service.arguments = ["fake-bus-service", "--address", address, "--delay-ms", String(delay)]
        let ready = Pipe()
        service.standardOutput = ready
        try service.run()
        addTeardownBlock { service.terminate(); service.waitUntilExit() }
        XCTAssertEqual(String(decoding: ready.fileHandleForReading.availableData, as: UTF8.self), "ready\n")
        return address
    }

    func testRebootCallsOnTheBusAreIntentsWithTheSender() throws {
        guard let send = ["/usr/bin/dbus-send", "/bin/dbus-send"].first(where: FileManager.default.fileExists) else {
            throw XCTSkip("dbus-send not installed")
        }
        // logind and systemd stand-ins that answer after 300 ms, as the real ones
        // answer once the job is started: the callers stay connected meanwhile.
        let address = try privateBus(answeringAfterMs: 300)
        let store = try temporaryDirectory("bus-store")
        let (arm, text) = try startArm(["--store", store.path, "--dbus-address", address])
        XCTAssertTrue(text.contains("D-Bus active via unix:path="), text)

        func call(_ arguments: [String]) throws -> Int32 {
            let client = Process()
            client.executableURL = URL(fileURLWithPath: send)
            client.arguments = ["--bus=\(address)", "--print-reply"] + arguments
            client.standardOutput = FileHandle.nullDevice
            client.standardError = FileHandle.nullDevice
            try client.run()
            client.waitUntilExit()
            return client.processIdentifier
        }
        let reboot = try call(["--dest=org.freedesktop.login1", "/org/freedesktop/login1",
                               "org.freedesktop.login1.Manager.Reboot", "boolean:false"])
        _ = try call(["--dest=org.freedesktop.login1", "/org/freedesktop/login1", "org.freedesktop.login1.Manager.ListSessions"])
        let target = try call(["--dest=org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager.StartUnit", "string:poweroff.target", "string:replace"])
        // systemd 254+'s `systemctl soft-reboot` and `systemctl kexec`: RebootWithFlags with a flag.
        _ = try call(["--dest=org.freedesktop.login1", "/org/freedesktop/login1",
                      "org.freedesktop.login1.Manager.RebootWithFlags", "uint64:4"])
        _ = try call(["--dest=org.freedesktop.login1", "/org/freedesktop/login1",
                      "org.freedesktop.login1.Manager.RebootWithFlags", "uint64:2"])
        usleep(500_000)
        arm.interrupt()
        arm.waitUntilExit()
        let dump = try runProgram(Built.witness, ["dump", "--json", "--store", store.path])
        let intents = try ndjsonObjects(dump.stdout).filter { $0["probe"] as? String == "dbus" }
        XCTAssertEqual(intents.map { $0["cmd"] as? String }, ["RESTART", "POWER_OFF", "SOFT_REBOOT", "KEXEC"], "ListSessions is no intent")
        XCTAssertEqual(intents.prefix(2).map { $0["pid"] as? Int }, [Int(reboot), Int(target)], "the sender, from the bus")
        XCTAssertTrue((intents[2]["cmd_arg"] as? String)?.hasPrefix("org.freedesktop.login1.Manager.RebootWithFlags flags 0x4 from ") == true,
                      "\(intents[2])")
        XCTAssertEqual(intents.first?["comm"] as? String, "dbus-send")
        XCTAssertTrue((intents[1]["cmd_arg"] as? String)?.hasPrefix("org.freedesktop.systemd1.Manager.StartUnit poweroff.target") == true)
        let ancestry = try XCTUnwrap(intents.first?["ancestry"] as? [[String: Any]])
        XCTAssertEqual(ancestry.first?["pid"] as? Int, Int(getpid()), "attributed from /proc while the sender lived")
    }

    /// [a user floods logind's interface with cheap calls (CanReboot) and
    /// with requests (Reboot, as logind would refuse them), none expecting a
    /// reply, then asks for a power-off and waits a second]: the bus is asked
    /// about intents only and /proc read once per sender, so the flood
    /// neither delays the power-off's record nor outlasts its sender.
    func testAFloodOfCallsNeitherDelaysNorHidesTheRequestAfterIt() throws {
        let address = try privateBus(answeringAfterMs: 0)
        let store = try temporaryDirectory("bus-flood-store")
        let (arm, text) = try startArm(["--store", store.path, "--dbus-address", address])
        XCTAssertTrue(text.contains("D-Bus active via unix:path="), text)
        let flood = try runProgram(Built.selftest, ["bus-flood", "--address", address, "--calls", "3000"])
        let fields = flood.stdout.split(separator: " ")
        let sender = try XCTUnwrap(fields.count == 4 ? Int(fields[1]) : nil, flood.stdout + flood.stderr)
        let sentMicroseconds = try XCTUnwrap(Int64(fields[3].trimmingCharacters(in: .whitespacesAndNewlines)))
        usleep(300_000)
        arm.interrupt()
        arm.waitUntilExit()
        let dump = try runProgram(Built.witness, ["dump", "--json", "--store", store.path])
        let intents = try ndjsonObjects(dump.stdout).filter { $0["probe"] as? String == "dbus" }
        XCTAssertEqual(intents.map { $0["cmd"] as? String }, ["RESTART", "POWER_OFF"], "CanReboot is no intent")
        XCTAssertEqual(intents.map { $0["pid"] as? Int }, [sender, sender], "every request named, none after its sender left")
        XCTAssertEqual(intents.map { $0["count"] as? Int }, [3000, 1])
        let powerOff = try XCTUnwrap(intents.last)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let recorded = try XCTUnwrap((powerOff["time"] as? String).flatMap(formatter.date(from:)))
        let lag = recorded.timeIntervalSince1970 - Double(sentMicroseconds) / 1e6
        XCTAssertLessThan(lag, 0.5, "recorded \(lag) s after it was sent")
    }
}
