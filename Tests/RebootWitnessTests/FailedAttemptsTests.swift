@testable import WitnessArm
@testable import WitnessReport
import WitnessEvidence
import WitnessStore
import XCTest
import WitnessModel

/// Boot attempts that never reached userspace, named for the boot before
/// them from what they left elsewhere (seed 002: the VM that never came back).
final class FailedAttemptsTests: XCTestCase {
    func preflight(_ boot: String, _ trigger: String, failing: Bool) -> PreflightRecord {
        PreflightRecord(bootID: boot, time: "2026-01-01T10:00:00.000Z", trigger: trigger, outcome: failing ? "likely_fails" : "bootable",
                        kernel: "/boot/vmlinuz-6.1.0-57-amd64", version: "6.1.0-57-amd64", initrds: ["/boot/initrd.img-6.1.0-57-amd64"],
                        rule: "no boot loader configuration: the newest kernel in /boot",
                        problems: failing ? ["root driver: virtio_blk (driver of virtio1 (under vda)) is neither in /boot/initrd.img-6.1.0-57-amd64 nor built into 6.1.0-57-amd64"] : [])
    }

    func testTheAttemptsAfterABootAreNamedForIt() throws {
        var before = WitnessBoot(bootID: "b1")
        before.preflight = [preflight("b1", "intent: systemctl reboot by alice[812]", failing: true)]
        var after = WitnessBoot(bootID: "b2")
        after.armed = "2026-01-01T10:30:00.000Z"
        after.bootLoader = ["GRUB: recordfail=1 (an earlier boot attempt did not finish booting)"]
        after.preflight = [preflight("b2", "arm started", failing: true)]
        let panic = PstoreRecord(bootID: "b1", file: "/sys/fs/pstore/dmesg-ramoops-0", header: "Panic#1 Part1", time: nil,
                                 bytes: 900, excerpt: ["<0>[    3.1] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)"])
        let found = FailedAttempts.gather(boot: before, next: after, pstore: [panic])
        XCTAssertEqual(found.map(\.source), [Evidence.Source.pstore, .bootLoader, .preflight])
        XCTAssertTrue(found[0].excerpt.contains("VFS: Unable to mount root fs"))
        XCTAssertTrue(found[2].excerpt.contains("still flagged"), found[2].excerpt)
        XCTAssertTrue(FailedAttempts.isAttempt(panic), "not the boot's own panic: it reached userspace")

        // A preflight that no longer fails at the next boot (the image was fixed) names no attempt.
        after.preflight = [preflight("b2", "arm started", failing: false)]
        after.bootLoader = []
        XCTAssertTrue(FailedAttempts.gather(boot: before, next: after, pstore: []).isEmpty)
    }

    func testTheVerdictAndTheListSayIt() {
        var facts = BootFacts(bootID: "b1")
        facts.failedAttempts = [Evidence(source: .bootLoader, time: nil, excerpt: "GRUB: recordfail=1 (an earlier boot attempt did not finish booting)")]
        let verdict = VerdictEngine.decide(facts)
        XCTAssertTrue(verdict.summary.contains("then the next boot failed before one came up (boot-loader: GRUB: recordfail=1"), verdict.summary)
        XCTAssertEqual(verdict.failedAttempts.count, 1)
        XCTAssertTrue(LastReport.human(verdict).contains { $0.contains("failed boot attempt after it: boot-loader") })
        let list = LastReport.human([LastReport.Line(index: -1, bootID: "b1", start: nil, lastSeen: nil, current: false, verdict: verdict)])
        XCTAssertEqual(list.count, 3)
        XCTAssertTrue(list[1].contains("FAILED BOOT ATTEMPT"), list[1])
    }
}

/// A boot that reached userspace but never its default target (no
/// "Startup finished" from PID 1) is a failed attempt of the boot before it.
final class StartupFinishedTests: XCTestCase {
    func testABootWithoutStartupFinished() throws {
        var fixture = JournalFixture()
        let good = JournalFixture.boot("a"), stuck = JournalFixture.boot("b"), empty = JournalFixture.boot("c")
        fixture.add(boot: good, second: 1, "Startup finished in 2.1s (kernel) + 5.0s (userspace) = 7.1s.",
                    ["_PID": "1", "MESSAGE_ID": "b07a249cd024414a82dd00cd181378ff", "SYSLOG_IDENTIFIER": "systemd"])
        fixture.add(boot: good, second: 2, "Startup finished in 1s.", ["_PID": "900", "MESSAGE_ID": "b07a249cd024414a82dd00cd181378ff"])
        fixture.add(boot: stuck, second: 100, "Starting Emergency Shell...", ["_PID": "1", "SYSLOG_IDENTIFIER": "systemd"])
        fixture.add(boot: stuck, second: 101, "Startup finished in 1s.", ["_PID": "905", "MESSAGE_ID": "b07a249cd024414a82dd00cd181378ff"])
        fixture.add(boot: empty, second: 200, "a line from a daemon", ["_PID": "77"])
        let dir = try fixture.write(to: try temporaryDirectory("startup"))
        let journal = try JournalReader(directory: dir.path)
        XCTAssertEqual(JournalEvidence.finishedStartup(good, in: journal), true)
        XCTAssertEqual(JournalEvidence.finishedStartup(stuck, in: journal), false, "a user manager's Startup finished is not PID 1's")
        XCTAssertNil(JournalEvidence.finishedStartup(empty, in: journal), "no line of PID 1: cannot tell")
    }
}
