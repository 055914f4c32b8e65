import Foundation
import XCTest
@testable import WitnessArm
@testable import WitnessReport

/// The final stage on the host, with a stand-in for PID 1: a process that
/// execs a copy of rw-selftest named `systemd-shutdown` (arm is told its pid
/// with the hidden --final-pid). As in a real shutdown, arm must close its
/// store (the ext4 file system is then remounted read-only under it), and
/// the stand-in's reboot(2) (bad magic: EINVAL) must land in the store
/// through the loop device, returning only after arm acknowledged it.
final class FinalStageLiveTests: XCTestCase {
    private var mountPoint: URL!
    private var workDirectory: URL!

    override func setUpWithError() throws {
        guard geteuid() == 0, FileManager.default.fileExists(atPath: "/sys/kernel/btf/vmlinux") else {
            throw XCTSkip("live tests need root and kernel BTF")
        }
        guard FileManager.default.fileExists(atPath: "/dev/loop-control"),
              (try? runProgram("/usr/bin/env", ["mkfs.ext4", "-V"]))?.status == 0 else {
            throw XCTSkip("needs loop devices and mkfs.ext4")
        }
        workDirectory = try temporaryDirectory("final")
        mountPoint = workDirectory.appendingPathComponent("mnt")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        let image = workDirectory.appendingPathComponent("fs.img").path
        XCTAssertEqual(try runProgram("/usr/bin/env", ["truncate", "-s", "32M", image]).status, 0)
        XCTAssertEqual(try runProgram("/usr/bin/env", ["mkfs.ext4", "-q", "-F", image]).status, 0)
        let mounted = try runProgram("/usr/bin/env", ["mount", "-o", "loop", image, mountPoint.path])
        guard mounted.status == 0 else { throw XCTSkip("cannot loop-mount an ext4 image here: \(mounted.stderr)") }
    }

    override func tearDownWithError() throws {
        for process in launched where process.isRunning { process.terminate() }
        guard let workDirectory else { return }
        _ = try? runProgram("/usr/bin/env", ["umount", mountPoint.path])
        try? FileManager.default.removeItem(at: workDirectory)
    }

    /// The stand-in PID 1 and `arm` watching it, armed; the stand-in then
    /// execs `systemd-shutdown reboot`. A second line to `goAhead` makes it
    /// call reboot(2) (bad magic), its output in `standInOut`.
    private struct Shutdown {
        let standIn: Process, goAhead: Pipe, standInOut: Pipe
        let arm: Process, armErr: Pipe
        /// arm's standard error up to "armed:".
        let armedLog: String
    }
    private var launched: [Process] = []

    private func startShutdown(_ armArguments: [String] = []) throws -> Shutdown {
        let standInPath = workDirectory.appendingPathComponent("systemd-shutdown").path
        if !FileManager.default.fileExists(atPath: standInPath) {
            try FileManager.default.copyItem(atPath: Built.selftest, toPath: standInPath)
        }
        let standIn = Process()
        standIn.executableURL = URL(fileURLWithPath: "/bin/sh")
        standIn.arguments = ["-c", "read go; exec \"$0\" reboot", standInPath]
        let goAhead = Pipe(), output = Pipe()
        standIn.standardInput = goAhead
        standIn.standardOutput = output
        try standIn.run()
        launched.append(standIn)
        let (arm, armErr) = try launchArm(["--store", store, "--no-dbus", "--final-pid", "\(standIn.processIdentifier)"] + armArguments)
        launched.append(arm)
        let log = try readUntil(armErr, contains: "armed:")
        goAhead.fileHandleForWriting.write(Data("go\n".utf8))  // the stand-in execs `systemd-shutdown reboot`
        return Shutdown(standIn: standIn, goAhead: goAhead, standInOut: output, arm: arm, armErr: armErr, armedLog: log)
    }

    private var store: String { mountPoint.appendingPathComponent("store").path }

    func testStandInReboot2IsWrittenThroughTheBlockDeviceAfterTheStoreIsClosed() throws {
        let run = try startShutdown()
        var log = run.armedLog
        log += try readUntil(run.armErr, contains: "final stage: store closed")
        XCTAssertTrue(log.contains("through /dev/loop"), log)
        // systemd-shutdown's remount: fails (EBUSY) if arm kept the store open.
        let remount = try runProgram("/usr/bin/env", ["mount", "-o", "remount,ro", mountPoint.path])
        XCTAssertEqual(remount.status, 0, "remount read-only failed: \(remount.stderr)")

        run.goAhead.fileHandleForWriting.write(Data("go\n".utf8))  // its reboot(2)
        let called = String(decoding: run.standInOut.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        run.standIn.waitUntilExit()
        XCTAssertEqual(run.standIn.terminationStatus, 0, called)
        log += try readUntil(run.armErr, contains: "record durable, released")
        // The call returned only after arm acknowledged its record.
        let returned = try XCTUnwrap(Int64(field("returned_boottime_ns=", in: called)), called)
        let acknowledged = try XCTUnwrap(Int64(field("acknowledged at boottime ", in: log)), log)
        XCTAssertGreaterThanOrEqual(returned, acknowledged, "reboot(2) returned before its record was acknowledged")

        run.arm.interrupt()
        run.arm.waitUntilExit()
        XCTAssertEqual(run.arm.terminationStatus, 0)

        let records = try recordsOnDisk().filter { ($0["pid"] as? Int) == Int(run.standIn.processIdentifier) }
        let entry = try XCTUnwrap(records.first { $0["probe"] as? String == "sys_enter_reboot" }, "\(records)")
        XCTAssertEqual(entry["final_stage"] as? Bool, true)
        XCTAssertEqual(entry["comm"] as? String, "systemd-shutdow")
        XCTAssertTrue(records.contains { $0["probe"] as? String == "sched_process_exec" }, "the exec that started the final stage")
        let human = try runProgram(Built.witness, ["dump", "--store", store, "--boot", "all"]).stdout
        XCTAssertTrue(human.contains("stopped cleanly"), "the stop marker written before the store closed: \(human)")
        XCTAssertTrue(human.contains("final stage: written through the block device"), human)
    }

    /// Stragglers calling reboot(2) in the last moments (a flood of distinct
    /// callers here) never take the reserved slot of PID 1's own call.
    func testPIDOnesCallKeepsItsSlotThroughAFlood() throws {
        let run = try startShutdown()
        var log = run.armedLog
        log += try readUntil(run.armErr, contains: "final stage: store closed")

        let flood = try runProgram(Built.selftest, ["flood", "--workers", "2", "--seconds", "1", "--new-comm"])
        XCTAssertEqual(flood.status, 0, flood.stderr)
        log += try readUntil(run.armErr, contains: "records of other processes no longer stored")
        run.goAhead.fileHandleForWriting.write(Data("go\n".utf8))  // PID 1's reboot(2), after the flood took the rest
        _ = run.standInOut.fileHandleForReading.readDataToEndOfFile()
        run.standIn.waitUntilExit()
        log += try readUntil(run.armErr, contains: "record durable, released")
        run.arm.interrupt()
        run.arm.waitUntilExit()

        let records = try recordsOnDisk()
        let own = records.filter { ($0["pid"] as? Int) == Int(run.standIn.processIdentifier) && $0["probe"] as? String == "sys_enter_reboot" }
        XCTAssertEqual(own.first?["final_stage"] as? Bool, true, "PID 1's call is on disk: \(log)")
        let stragglers = records.filter { ($0["comm"] as? String)?.hasPrefix("fl") == true }
        // Entries and exits of the flood took the other slots (an exit reads back joined to its entry).
        XCTAssertFalse(stragglers.isEmpty, "the flood had the other reserved slots")
        XCTAssertLessThan(stragglers.count, FinalStage.slotCount)
    }

    func testWithoutTheFinalStageArmStopsWhenPIDOneBecomesSystemdShutdown() throws {
        let run = try startShutdown(["--no-final-stage"])
        var log = run.armedLog
        // Spared by systemd-shutdown's kill (argv[0] "@"), arm must not keep the store open.
        log += try readUntil(run.armErr, contains: "disarmed:")
        run.arm.waitUntilExit()
        XCTAssertEqual(run.arm.terminationStatus, 0, log)
        XCTAssertFalse(log.contains("final stage"), log)
        let remount = try runProgram("/usr/bin/env", ["mount", "-o", "remount,ro", mountPoint.path])
        XCTAssertEqual(remount.status, 0, remount.stderr)
        run.goAhead.fileHandleForWriting.write(Data("go\n".utf8))
        run.standIn.waitUntilExit()
        let human = try runProgram(Built.witness, ["dump", "--store", store, "--boot", "all"]).stdout
        XCTAssertTrue(human.contains("stopped cleanly") && human.contains("systemd-shutdown reboot"), human)
        XCTAssertFalse(human.contains("sys_enter_reboot"), "nothing after the stop: \(human)")
    }

    /// The store read back from the disk, not from the page cache of the old mount.
    private func recordsOnDisk() throws -> [[String: Any]] {
        XCTAssertEqual(try runProgram("/usr/bin/env", ["umount", mountPoint.path]).status, 0)
        let image = workDirectory.appendingPathComponent("fs.img").path
        XCTAssertEqual(try runProgram("/usr/bin/env", ["mount", "-o", "loop,ro", image, mountPoint.path]).status, 0)
        let dump = try runProgram(Built.witness, ["dump", "--store", store, "--json", "--boot", "all"])
        XCTAssertEqual(dump.status, 0, dump.stderr)
        return try ndjsonObjects(dump.stdout)
    }

    private func readUntil(_ pipe: Pipe, contains needle: String) throws -> String {
        let text = read(pipe, until: needle)
        guard text.contains(needle) else {
            XCTFail("no \"\(needle)\" in: \(text)")
            throw XCTSkip("arm did not get there")
        }
        return text
    }

    private func field(_ prefix: String, in text: String) -> String {
        guard let range = text.range(of: prefix) else { return "" }
        return String(text[range.upperBound...].prefix { $0.isNumber })
    }
}
