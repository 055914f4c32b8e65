import Foundation
import XCTest

/// What a DaemonSet's pod (or a unit) shows when arming cannot work: one
/// line, a readiness that says why, and no crash loop. Each case runs in a
/// private mount namespace (unshare -m) where this host's BTF is hidden or
/// the store's file system is read-only; the host itself is not touched.
final class ReadinessTests: XCTestCase {
    override func setUpWithError() throws {
        guard geteuid() == 0 else { throw XCTSkip("private mount namespaces need root") }
        guard FileManager.default.fileExists(atPath: "/usr/bin/unshare") else { throw XCTSkip("needs util-linux's unshare") }
    }

    /// Runs `script` with /bin/sh in a new mount namespace; $W is the witness binary.
    func inPrivateMounts(_ script: String) throws -> ProcessResult {
        try runProgram("/usr/bin/unshare", ["-m", "--propagation", "private", "/bin/sh", "-c", script, "sh", Built.witness])
    }

    func testWithoutBTFArmWaitsAndReadinessSaysWhy() throws {
        let store = try temporaryDirectory("nobtf").path
        let result = try inPrivateMounts("""
            W="$1"
            mount -t tmpfs none /sys/kernel/btf || exit 99
            "$W" arm --store \(store) --idle-on-refusal 2>/tmp/rw-nobtf.$$ &
            arm=$!
            sleep 1
            kill -0 $arm && echo "still running"
            "$W" status --ready --store \(store); echo "ready exit $?"
            kill -TERM $arm; wait $arm; echo "arm exit $?"
            cat /tmp/rw-nobtf.$$; rm -f /tmp/rw-nobtf.$$
            """)
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "still running", "no crash loop: \(result.stdout)")
        XCTAssertTrue(lines.contains("not armed: this kernel has no BTF (/sys/kernel/btf/vmlinux); CO-RE needs CONFIG_DEBUG_INFO_BTF=y"),
                      result.stdout)
        XCTAssertTrue(lines.contains("ready exit 1") && lines.contains("arm exit 0"), result.stdout)
        XCTAssertEqual(lines.filter { $0.hasPrefix("Error: ") },
                       ["Error: this kernel has no BTF (/sys/kernel/btf/vmlinux); CO-RE needs CONFIG_DEBUG_INFO_BTF=y; waiting for a signal (--idle-on-refusal)"],
                       "one line in the log")
        // Without --idle-on-refusal: the same line, exit 1.
        let plain = try inPrivateMounts("mount -t tmpfs none /sys/kernel/btf && \"$1\" arm --store \(store)")
        XCTAssertEqual(plain.status, 1)
        XCTAssertEqual(plain.stderr, "Error: this kernel has no BTF (/sys/kernel/btf/vmlinux); CO-RE needs CONFIG_DEBUG_INFO_BTF=y\n")
    }

    func testAReadOnlyStoreIsOneClearLine() throws {
        let parent = try temporaryDirectory("rovarlib").path
        let result = try inPrivateMounts("""
            W="$1"
            mount -t tmpfs -o ro none \(parent) || exit 99
            "$W" arm --store \(parent)/reboot-witness; echo "arm exit $?"
            "$W" status --ready --store \(parent); echo "ready exit $?"
            """)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stderr, "Error: cannot create store \(parent)/reboot-witness: Read-only file system\n")
        XCTAssertEqual(result.stdout, "arm exit 1\nnot armed: store \(parent) is not writable (Read-only file system)\nready exit 1\n")
    }

    func testReadinessOfARunningArm() throws {
        guard FileManager.default.fileExists(atPath: "/sys/kernel/btf/vmlinux") else { throw XCTSkip("needs kernel BTF") }
        let store = try temporaryDirectory("ready").path
        let (arm, _) = try startArm(["--store", store, "--no-dbus"])
        defer { arm.terminate(); arm.waitUntilExit() }
        let ready = try runProgram(Built.witness, ["status", "--ready", "--store", store])
        XCTAssertEqual(ready.status, 0, ready.stdout)
        XCTAssertTrue(ready.stdout.hasPrefix("armed: pid \(arm.processIdentifier) since "), ready.stdout)
    }
}
