import Foundation
import WitnessArm
import WitnessReport
import XCTest
import WitnessModel

/// The built binary's user-facing contract: help with examples, one clear
/// line and a non-zero exit for bad input.
final class CLITests: XCTestCase {
    func testHelpCarriesExamplesForEveryCommand() throws {
        for arguments in [["--help"], ["arm", "--help"], ["status", "--help"], ["dump", "--help"], ["last", "--help"],
                          ["disarm", "--help"]] {
            let result = try runProgram(Built.witness, arguments)
            XCTAssertEqual(result.status, 0, arguments.joined(separator: " "))
            XCTAssertTrue(result.stdout.contains("EXAMPLES:"), arguments.joined(separator: " "))
        }
        let arm = try runProgram(Built.witness, ["arm", "--help"]).stdout
        XCTAssertTrue(arm.contains("--store <DIR>") && arm.contains("--json"), arm)
    }

    func testVersionComesFromTheOneVersionSource() throws {
        let result = try runProgram(Built.witness, ["--version"])
        XCTAssertEqual(result.status, 0)
        XCTAssertEqual(result.stdout, Version.string + "\n")
        let parts = Version.string.split(separator: ".", omittingEmptySubsequences: false)
        XCTAssertTrue(parts.count == 3 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) },
                      "a version dpkg and rpm both order: \(Version.string)")
    }

    func testUnknownFlagIsAUsageError() throws {
        let result = try runProgram(Built.witness, ["dump", "--bogus"])
        XCTAssertEqual(result.status, 64)
        XCTAssertTrue(result.stderr.contains("Unknown option '--bogus'"), result.stderr)
    }

    /// `arm` parses its own arguments; what it does not take, the root's
    /// parse reports, naming the command as `reboot-witness arm`.
    func testArmsHelpAndMistakesAreTheRootCommandsAsEver() throws {
        let help = try runProgram(Built.witness, ["arm", "--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("USAGE: reboot-witness arm "), help.stdout)
        let mistake = try runProgram(Built.witness, ["arm", "--bogus"])
        XCTAssertEqual(mistake.status, 64)
        XCTAssertTrue(mistake.stderr.contains("Unknown option '--bogus'") && mistake.stderr.contains("Usage: reboot-witness arm "),
                      mistake.stderr)
        let missing = try runProgram(Built.witness, ["arm", "--store"])
        XCTAssertEqual(missing.status, 64)
        XCTAssertTrue(missing.stderr.contains("Missing value for '--store <DIR>'"), missing.stderr)
    }

    func testBadBootSelectionIsRefused() throws {
        let result = try runProgram(Built.witness, ["dump", "--boot", "yesterday"])
        XCTAssertEqual(result.status, 64)
        XCTAssertTrue(result.stderr.contains("yesterday"), result.stderr)
    }

    func testBadValuesForLastAndReboot2PanicAreRefused() throws {
        let last = try runProgram(Built.witness, ["last", "--boot", "0"])
        XCTAssertEqual(last.status, 64)
        XCTAssertTrue(last.stderr.contains("--boot counts back from the current boot"), last.stderr)
        let panic = try runProgram(Built.witness, ["arm", "--reboot2panic", "--panic-timeout", "0"])
        XCTAssertEqual(panic.status, 64)
        XCTAssertTrue(panic.stderr.contains("--panic-timeout must be 1…3600 seconds"), panic.stderr)
        let orphan = try runProgram(Built.witness, ["arm", "--force"])
        XCTAssertEqual(orphan.status, 64)
        XCTAssertTrue(orphan.stderr.contains("go with --reboot2panic"), orphan.stderr)
        let far = try runProgram(Built.witness, ["last", "--boot", "400", "--store", "/nonexistent", "--no-journal"])
        XCTAssertEqual(far.status, 1)
        XCTAssertTrue(far.stderr.hasPrefix("Error: this host knows ") && far.stderr.contains("--boot 400 is not among them"),
                      far.stderr)
        XCTAssertEqual(far.stderr.split(separator: "\n").count, 1, "one line")
    }

    func testStoreThatIsAFileGivesOneLine() throws {
        let dir = try temporaryDirectory("cli")
        let file = dir.appendingPathComponent("file")
        _ = FileManager.default.createFile(atPath: file.path, contents: Data())
        for command in ["dump", "arm"] {
            let result = try runProgram(Built.witness, [command, "--store", file.path])
            XCTAssertEqual(result.status, 1, command)
            XCTAssertEqual(result.stderr, "Error: store \(file.path) is not a directory\n", command)
        }
        // `last` answers from the other sources and names the store's problem as evidence.
        let last = try runProgram(Built.witness, ["last", "--store", file.path, "--no-journal"])
        XCTAssertEqual(last.status, 0, last.stderr)
        XCTAssertTrue(last.stdout.contains("· witness") && last.stdout.contains("store unreadable: store \(file.path) is not a directory"),
                      last.stdout)
    }

    func testMissingStoreForDump() throws {
        let dir = try temporaryDirectory("cli-missing")
        let result = try runProgram(Built.witness, ["dump", "--store", dir.appendingPathComponent("nope").path])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("no store at"), result.stderr)
    }

    func testArmRefusesWithoutPrivileges() throws {
        guard geteuid() == 0, FileManager.default.fileExists(atPath: "/usr/bin/setpriv") else {
            throw XCTSkip("needs root and setpriv to run as an unprivileged user")
        }
        let result = try runProgram("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups",
                                                  Built.witness, "arm", "--store", "/tmp/rw-unprivileged"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.hasPrefix("Error: arm needs root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN)"),
                      result.stderr)
    }

    func testArmRejectsAnAllowlistPathThatDoesNotExist() throws {
        guard geteuid() == 0 else { throw XCTSkip("arm needs root") }
        let dir = try temporaryDirectory("allow")
        let result = try runProgram(Built.witness, ["arm", "--store", dir.path, "--allow-exe", "/nonexistent/fence"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("--allow-exe /nonexistent/fence"), result.stderr)
    }

    /// A store that exists but cannot be read was once shown as "(not created yet)".
    func testStatusSaysAStoreItCannotReadIsThereAndWhy() throws {
        let dir = try temporaryDirectory("status-store")
        chmod(dir.path, 0o700)
        try Data("not a store at all".utf8).write(to: dir.appendingPathComponent("witness.store"))
        chmod(dir.appendingPathComponent("witness.store").path, 0o600)
        let result = try runProgram(Built.witness, ["status", "--json", "--store", dir.path])
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let store = try XCTUnwrap(object["store"] as? [String: Any])
        XCTAssertEqual(store["state"] as? String, "failed", "\(store)")
        XCTAssertTrue((store["reason"] as? String)?.contains("not a reboot-witness store") == true, "\(store)")
        let missing = try runProgram(Built.witness, ["status", "--json", "--store", dir.path + "/none"])
        let none = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(missing.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((none["store"] as? [String: Any])?["state"] as? String, "unavailable")
        let human = try runProgram(Built.witness, ["status", "--store", dir.path])
        XCTAssertTrue(human.stdout.contains("(failed: "), human.stdout)
    }

    func testStatusJSONIsOneObject() throws {
        let result = try runProgram(Built.witness, ["status", "--json", "--store", "/nonexistent-store"])
        XCTAssertEqual(result.status, 0)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let probes = try XCTUnwrap(object["probes"] as? [[String: Any]])
        XCTAssertTrue(probes.contains { $0["name"] as? String == "sys_enter_reboot" })
        XCTAssertNotNil(object["kernel"] as? String)
    }
}
