import Foundation
import XCTest

/// A real sshd on loopback, in a network namespace of its own: a bad-magic
/// reboot(2) run over ssh must carry the client's address and port. The
/// session's environment is stripped of SSH_CONNECTION, so the peer can only
/// come from the TCP socket of the `sshd` ancestor (its netns's /proc/net/tcp).
final class SSHPeerLiveTests: XCTestCase {
    private var directory: URL!
    private var namespace = "rwtest-\(getpid())"

    override func setUpWithError() throws {
        guard geteuid() == 0, FileManager.default.fileExists(atPath: "/sys/kernel/btf/vmlinux") else {
            throw XCTSkip("live tests need root and kernel BTF")
        }
        guard ["/usr/sbin/sshd", "/usr/bin/ssh", "/usr/bin/ssh-keygen", "/usr/sbin/ip"].allSatisfy(FileManager.default.fileExists) else {
            throw XCTSkip("needs openssh-server, openssh-client and iproute2")
        }
        guard try runProgram("/usr/sbin/ip", ["netns", "add", namespace]).status == 0 else {
            throw XCTSkip("cannot create a network namespace here")
        }
        XCTAssertEqual(try runProgram("/usr/sbin/ip", ["-n", namespace, "link", "set", "lo", "up"]).status, 0)
        directory = try temporaryDirectory("sshd")
        try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)  // privilege separation
        for key in ["host", "client"] {
            XCTAssertEqual(try runProgram("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path(key)]).status, 0)
        }
        try FileManager.default.copyItem(atPath: path("client.pub"), toPath: path("authorized_keys"))
        let config = """
            ListenAddress 127.0.0.1:2222
            HostKey \(path("host"))
            AuthorizedKeysFile \(path("authorized_keys"))
            PermitRootLogin prohibit-password
            StrictModes no
            UsePAM no
            PidFile \(path("sshd.pid"))
            """
        try config.write(toFile: path("sshd_config"), atomically: true, encoding: .utf8)
        // Daemonized (no -D): Foundation's Process reaper blocks on a child that never exits.
        let started = try runProgram("/usr/sbin/ip", ["netns", "exec", namespace, "/usr/sbin/sshd", "-f", path("sshd_config")])
        XCTAssertEqual(started.status, 0, started.stderr)
    }

    override func tearDownWithError() throws {
        if let directory, let text = try? String(contentsOfFile: directory.appendingPathComponent("sshd.pid").path, encoding: .utf8),
           let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            kill(pid, SIGTERM)
        }
        _ = try? runProgram("/usr/sbin/ip", ["netns", "delete", namespace])
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func testRebootOverSSHNamesTheClientFromTheSSHDSocket() throws {
        let store = try temporaryDirectory("sshd-store")
        defer { try? FileManager.default.removeItem(at: store) }
        let (arm, text) = try startArm(["--store", store.path, "--no-dbus"])
        defer { if arm.isRunning { arm.terminate() } }
        XCTAssertTrue(text.contains("armed:"), text)

        // The remote command prints the connection, then drops it from the environment. The
        // session stays up a moment after the call, as a held reboot(2) keeps it: the peer is
        // read from /proc while the session lives (a bad-magic call returns at once).
        let command = "echo \"$SSH_CONNECTION\"; exec env -u SSH_CONNECTION -u SSH_CLIENT sh -c '\(Built.selftest) bad-magic; sleep 1'"
        var session = ProcessResult(status: -1, stdout: "", stderr: "")
        for _ in 0..<50 {  // until sshd listens
            session = try runProgram("/usr/sbin/ip", ["netns", "exec", namespace, "/usr/bin/ssh", "-p", "2222", "-i", path("client"),
                                                      "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                                                      "-o", "UserKnownHostsFile=/dev/null", "root@127.0.0.1", command])
            if session.status != 255 { break }
            usleep(100_000)
        }
        XCTAssertEqual(session.status, 0, session.stderr)
        let connection = session.stdout.split(separator: "\n").first?.split(separator: " ") ?? []
        XCTAssertEqual(connection.count, 4, session.stdout)
        let client = connection.prefix(2).joined(separator: ":")
        let caller = session.stdout.split(separator: "\n").dropFirst().first.flatMap { line in
            line.split(separator: " ").first { $0.hasPrefix("pid=") }?.dropFirst(4)
        }

        arm.interrupt()
        arm.waitUntilExit()
        let dump = try runProgram(Built.witness, ["dump", "--store", store.path, "--json"])
        let records = try ndjsonObjects(dump.stdout)
        let entry = try XCTUnwrap(records.first { $0["probe"] as? String == "sys_enter_reboot" && "\($0["pid"] ?? "")" == caller.map(String.init) },
                                  "no record of pid \(caller ?? "?"): \(dump.stdout)")
        XCTAssertEqual(entry["ssh_peer"] as? String, client, "the sshd session's peer, as sshd itself saw it: \(entry)")
        let ancestry = (entry["ancestry"] as? [[String: Any]] ?? []).compactMap { $0["comm"] as? String }
        XCTAssertTrue(ancestry.contains { $0.hasPrefix("sshd") }, "\(ancestry)")
    }
}
