import Foundation
import WitnessStore
import WitnessSystem
import XCTest
import WitnessModel

/// Paths of the binaries `swift build` produced next to the test bundle.
enum Built {
    static let directory: URL = {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return exe.deletingLastPathComponent()
    }()
    static var witness: String { directory.appendingPathComponent("reboot-witness").path }
    static var selftest: String { directory.appendingPathComponent("rw-selftest").path }
}

struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a program to completion and captures its output.
@discardableResult
func runProgram(_ path: String, _ arguments: [String]) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus,
                         stdout: String(decoding: stdout, as: UTF8.self),
                         stderr: String(decoding: stderr, as: UTF8.self))
}

func temporaryDirectory(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("rw-\(name)-\(getpid())-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func sampleCaller(boot: String, probe: ProbeID = .sysEnterReboot, tid: UInt32 = 10, retval: Int64? = nil,
                  comm: String = "reboot", exe: String = "/usr/sbin/reboot") -> CallerRecord {
    CallerRecord(bootID: boot, time: "2026-11-23T00:00:00.000Z", probe: probe, attach: "tracepoint",
                 cmd: probe == .sysExitReboot ? nil : .restart, cmdArg: nil, magic1: 0xFEE1DEAD,
                 magic2: 672_274_793, retval: retval, pid: tid, tid: tid, ppid: 1, comm: comm, exe: exe,
                 uid: 0, user: "root", gid: 0, euid: 0, loginuid: nil, loginUser: nil, sessionid: nil, tty: nil,
                 cgroup: "/", cgroupID: 1, cgroupV1: false, container: nil, podUID: nil, pidNs: 4_026_531_836,
                 inInitPidNs: true, ancestry: [.init(pid: 1, comm: "systemd")], kernelStack: [], context: "process",
                 count: 1)
}

/// Starts `reboot-witness arm` with `arguments`; its stderr is the pipe
/// returned. Unpinned unless the test pins on purpose (`--pin-dir`): a test
/// that kills arm must not leave programs attached for the next one to adopt.
func launchArm(_ arguments: [String]) throws -> (Process, Pipe) {
    let arm = Process()
    arm.executableURL = URL(fileURLWithPath: Built.witness)
    arm.arguments = ["arm"] + arguments + (arguments.contains("--pin-dir") ? [] : ["--no-pin"])
    let err = Pipe()
    arm.standardError = err
    arm.standardOutput = FileHandle.nullDevice
    try arm.run()
    return (arm, err)
}

/// Starts `reboot-witness arm` with `arguments` and waits for its "armed"
/// line; returns the process and what it wrote on stderr until then.
func startArm(_ arguments: [String]) throws -> (Process, String) {
    let (arm, err) = try launchArm(arguments)
    return (arm, read(err, until: "armed:"))
}

/// What `pipe` carries until `needle` appears, it closes, or `timeout` passes.
func read(_ pipe: Pipe, until needle: String, timeout: TimeInterval = 20) -> String {
    var text = ""
    let deadline = Date().addingTimeInterval(timeout)
    let descriptor = pipe.fileHandleForReading.fileDescriptor
    while !text.contains(needle) {
        // availableData blocks: wait with poll(2) so that a silent process fails the test instead of hanging it.
        let left = Int32(max(0, deadline.timeIntervalSinceNow) * 1000)
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard left > 0, poll(&entry, 1, left) > 0 else { break }
        let chunk = pipe.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        text += String(decoding: chunk, as: UTF8.self)
    }
    return text
}

/// `dump --json`: one record per line, as JSON objects.
func ndjsonObjects(_ text: String) throws -> [[String: Any]] {
    try text.split(separator: "\n").map { line in
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }
}
