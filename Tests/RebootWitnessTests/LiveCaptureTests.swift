import Foundation
import XCTest

/// The record that matters is never lost: not to a flood of noise, not to a
/// killed, restarted or replaced controller. Live, on this kernel, with the
/// safe calls only (bad magic, and RESTART from a fresh PID namespace's init).
final class LiveCaptureTests: XCTestCase {
    override func setUpWithError() throws {
        guard geteuid() == 0, FileManager.default.fileExists(atPath: "/sys/kernel/btf/vmlinux") else {
            throw XCTSkip("live tests need root and kernel BTF")
        }
    }

    func status(_ store: URL, pins: String? = nil) throws -> [String: Any] {
        let result = try runProgram(Built.witness, ["status", "--json", "--store", store.path] + (pins.map { ["--pin-dir", $0] } ?? []))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], result.stderr)
    }

    func records(_ store: URL) throws -> [[String: Any]] {
        try ndjsonObjects(try runProgram(Built.witness, ["dump", "--json", "--store", store.path]).stdout)
    }

    /// Waits until `condition` holds on the store's records (arm folds counts every 100 ms).
    func eventually(_ store: URL, _ what: String, _ condition: ([[String: Any]]) -> Bool) throws {
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if condition(try records(store)) { return }
            usleep(100_000)
        }
        XCTFail("\(what): \(try records(store).map { "\($0["probe"] ?? "?") \($0["cmd"] ?? "?") x\($0["count"] ?? "?")" })")
    }

    func namespaceRestart() throws {
        let result = try runProgram(Built.selftest, ["pidns-restart"])
        guard result.status == 0 else { throw XCTSkip("unprivileged user namespaces unavailable here: \(result.stderr)") }
    }

    /// Refused calls stored, over every caller's record.
    func refused(_ records: [[String: Any]]) -> Int {
        records.filter { $0["cmd"] as? String == "INVALID" }.compactMap { $0["count"] as? Int }.reduce(0, +)
    }

    func restarts(_ records: [[String: Any]]) -> Int {
        records.filter { $0["cmd"] as? String == "RESTART" && $0["in_init_pid_ns"] as? Bool == false }
            .compactMap { $0["count"] as? Int }.reduce(0, +)
    }

    /// 20 RESTARTs from fresh PID namespaces during a flood of distinct
    /// callers (a new comm on every call, full speed, seconds long): every
    /// one is stored, the noise is counted, and the loop's heartbeat never
    /// went stale while it drained.
    func testStoppingCallsSurviveAFloodOfDistinctCallers() throws {
        let store = try temporaryDirectory("flood")
        let (arm, _) = try startArm(["--store", store.path, "--no-dbus"])
        defer { arm.interrupt(); arm.waitUntilExit() }
        let flood = Process()
        flood.executableURL = URL(fileURLWithPath: Built.selftest)
        flood.arguments = ["flood", "--workers", "2", "--seconds", "8", "--new-comm"]
        flood.standardOutput = Pipe()
        try flood.run()
        usleep(1_000_000)  // the flood fills rw_callers and the rings first
        for _ in 0..<20 {
            try namespaceRestart()
            usleep(250_000)
        }
        flood.waitUntilExit()
        XCTAssertEqual(flood.terminationStatus, 0)
        try eventually(store, "all 20 namespace RESTARTs stored") { restarts($0) == 20 }
        let capture = try XCTUnwrap(try status(store)["capture"] as? [String: Any])
        let counters = try XCTUnwrap(capture["counters"] as? [String: Any])
        XCTAssertEqual(counters["lost_stopping"] as? Int, 0)
        XCTAssertEqual(counters["unheld"] as? Int, 0)
        XCTAssertGreaterThan(counters["aggregated"] as? Int ?? 0, 100_000, "the flood was counted per cgroup and exe")
        let noise = try XCTUnwrap(capture["noise"] as? [[String: Any]])
        XCTAssertGreaterThan(noise.first?["calls"] as? Int ?? 0, 100_000)
        let gap = try XCTUnwrap(capture["longest_beat_gap_ms"] as? Double)
        XCTAssertLessThan(gap, 750, "a heartbeat older than RW_HOLD_HEARTBEAT_NS lets held calls through unrecorded")
    }

    /// SIGKILL arm, make calls, start it again: every call is stored (the
    /// pinned capture went on); then replace it by another build's programs
    /// while calls go on: none lost; `disarm` leaves nothing pinned.
    func testThePinnedCaptureOutlivesKilledAndReplacedControllers() throws {
        let store = try temporaryDirectory("pins")
        let pins = "/sys/fs/bpf/rw-test-\(getpid())"
        defer { _ = try? runProgram(Built.witness, ["disarm", "--store", store.path, "--pin-dir", pins]) }
        let (first, _) = try startArm(["--store", store.path, "--no-dbus", "--pin-dir", pins])
        XCTAssertEqual(try runProgram(Built.selftest, ["bad-magic", "--count", "5"]).status, 0)
        try eventually(store, "5 calls before the kill") { refused($0) == 5 }
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()

        // No controller: the kernel keeps counting and recording into the pinned maps.
        XCTAssertEqual(try runProgram(Built.selftest, ["bad-magic", "--count", "7"]).status, 0)
        XCTAssertEqual(try runProgram(Built.selftest, ["bad-magic", "--count", "3", "--vary-cmd"]).status, 0)
        try namespaceRestart()
        let orphaned = try XCTUnwrap(try status(store, pins: pins)["capture"] as? [String: Any])
        XCTAssertEqual((orphaned["pinning"] as? [String: Any])?["lifecycle"] as? String, "orphaned", "\(orphaned)")

        let (second, armed) = try startArm(["--store", store.path, "--no-dbus", "--pin-dir", pins, "--keep-capture-on-exit"])
        XCTAssertTrue(armed.contains("adopted generation 1"), armed)
        try eventually(store, "every call made while no arm ran") {
            refused($0) == 15 && restarts($0) == 1
        }

        // A newer build replaces the programs: the old ones run until the switch.
        let caller = Process()
        caller.executableURL = URL(fileURLWithPath: "/bin/sh")
        caller.arguments = ["-c", "for i in $(seq 1 40); do \(Built.selftest) bad-magic --count 1 >/dev/null; sleep 0.02; done"]
        try caller.run()
        usleep(200_000)
        second.terminate()  // SIGTERM: a restart, the capture stays pinned
        second.waitUntilExit()
        let (third, replaced) = try startArm(["--store", store.path, "--no-dbus", "--pin-dir", pins, "--replace-programs"])
        caller.waitUntilExit()
        XCTAssertTrue(replaced.contains("replaced generation 1") && replaced.contains("without a gap"), replaced)
        try eventually(store, "no call lost across the replacement") { refused($0) == 55 }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: pins).sorted(), ["g2", "maps"],
                       "the old generation is unpinned once the new one runs")
        third.interrupt()
        third.waitUntilExit()
        XCTAssertFalse(FileManager.default.fileExists(atPath: pins), "a clean stop without --keep-capture-on-exit unpins")

        // disarm removes a capture left pinned.
        let (fourth, _) = try startArm(["--store", store.path, "--no-dbus", "--pin-dir", pins, "--keep-capture-on-exit"])
        fourth.terminate()
        fourth.waitUntilExit()
        XCTAssertTrue(FileManager.default.fileExists(atPath: pins + "/maps/rw_events"))
        let disarm = try runProgram(Built.witness, ["disarm", "--store", store.path, "--pin-dir", pins])
        XCTAssertEqual(disarm.status, 0, disarm.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: pins), disarm.stdout)
    }
}
