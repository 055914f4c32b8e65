@testable import WitnessReport
import WitnessEvidence
import WitnessModel
import XCTest

/// Restarts and power-offs begun inside the kernel: the record of the
/// kernel path, not the process that carried it out, names the cause.
final class KernelCauseTests: XCTestCase, VerdictFixtures {
    func kernelRecord(_ probe: ProbeID, cmd: RebootAction?, comm: String, time: String, argv: String? = nil) -> CallerRecord {
        var r = caller(probe, cmd: cmd, pid: 40, comm: comm, time: time, cgroup: "/", argv: argv)
        r.attach = "fentry"
        r.ancestry = []
        return r
    }

    func testCtrlAltDelWithTheKernelRestartingAtOnceIsACadReboot() {
        let key = kernelRecord(.ctrlAltDel, cmd: .restart, comm: "swapper/0", time: "2026-01-01T09:59:59.100Z")
        let deferred = kernelRecord(.deferredCad, cmd: .restart, comm: "kworker/0:1", time: "2026-01-01T09:59:59.101Z")
        let restart = kernelRecord(.kernelRestart, cmd: .restart, comm: "kworker/0:1", time: "2026-01-01T09:59:59.102Z")
        let v = VerdictEngine.decide(facts { $0.records = [key, deferred, restart] })
        XCTAssertEqual(v.triple, ["reboot", "cad", "high"])
        XCTAssertEqual(v.bootstat, "reboot,cad,")
        XCTAssertNil(v.initiator, "no process asked: not the kworker that carried it out")
        XCTAssertTrue(v.summary.contains("kernel.ctrl-alt-del = 1"), v.summary)
        // deferred_cad waits for its record; the restart's own may not land before the machine resets.
        let waited = VerdictEngine.decide(facts { $0.records = [key, deferred] })
        XCTAssertEqual(waited.triple, ["reboot", "cad", "high"], waited.summary)
    }

    func testCtrlAltDelThatPIDOneCarriedOutIsACadRebootNotAnUnexplainedGracefulOne() {
        let key = kernelRecord(.ctrlAltDel, cmd: .restart, comm: "swapper/0", time: "2026-01-01T09:59:50.000Z")
        let shutdown = caller(pid: 1, comm: "systemd-shutdow", time: "2026-01-01T10:00:03.000Z", cgroup: "/")
        let v = VerdictEngine.decide(facts { $0.records = [key, systemdShutdownExec(), shutdown] })
        XCTAssertEqual(v.triple, ["reboot", "cad", "high"])
        XCTAssertTrue(v.summary.contains("PID 1 was signalled"), v.summary)
    }

    func testACriticalThermalTripIsAThermalPowerOffWithTheKernelsReason() {
        let trip = kernelRecord(.hwProtectionShutdown, cmd: .powerOff, comm: "kworker/0:2", time: "2026-01-01T09:59:50.000Z",
                                argv: "Temperature too high")
        let orderly = kernelRecord(.orderlyPoweroff, cmd: .powerOff, comm: "kworker/0:2", time: "2026-01-01T09:59:50.001Z")
        var helper = caller("sched_process_exec", cmd: .powerOff, pid: 900, comm: "poweroff", time: "2026-01-01T09:59:50.050Z",
                            cgroup: "/", argv: "/sbin/poweroff")
        helper.ancestry = [.init(pid: 41, comm: "kworker/u2:0")]
        let off = caller(cmd: .powerOff, pid: 1, comm: "systemd-shutdow", time: "2026-01-01T09:59:58.000Z", cgroup: "/")
        let v = VerdictEngine.decide(facts { $0.records = [trip, orderly, helper, off] })
        XCTAssertEqual(v.triple, ["poweroff", "thermal", "high"])
        XCTAssertTrue(v.summary.contains("\"Temperature too high\""), v.summary)
        XCTAssertNil(v.initiator)
    }

    func testAnotherProtectionReasonIsNamedAndAnOldTripDoesNotExplainALaterReboot() {
        let trip = kernelRecord(.hwProtectionTrigger, cmd: .restart, comm: "kworker/1:1", time: "2026-01-01T09:59:50.000Z",
                                argv: "Undervoltage on regulator")
        let restart = kernelRecord(.kernelRestart, cmd: .restart, comm: "kworker/1:1", time: "2026-01-01T09:59:55.000Z")
        let v = VerdictEngine.decide(facts { $0.records = [trip, restart] })
        XCTAssertEqual(v.triple, ["reboot", "hw_protection", "high"])
        XCTAssertEqual(v.detail, "Undervoltage on regulator")
        // A trip an hour before a user's reboot says nothing about it.
        let old = kernelRecord(.hwProtectionShutdown, cmd: .powerOff, comm: "kworker/0:2", time: "2026-01-01T09:00:00.000Z",
                               argv: "Temperature too high")
        let user = caller(pid: 4242, comm: "reboot", loginuid: 1000, cgroup: "/user.slice/user-1000.slice/session-3.scope")
        XCTAssertEqual(VerdictEngine.decide(facts { $0.records = [old, user] }).triple, ["reboot", "user", "high"])
    }

    func testAHypervisorsShutdownRequestThroughOrderlyPoweroffNamesTheKernel() {
        let request = kernelRecord(.orderlyPoweroff, cmd: .powerOff, comm: "kworker/0:0", time: "2026-01-01T09:59:50.000Z")
        let off = caller(cmd: .powerOff, pid: 1, comm: "systemd-shutdow", time: "2026-01-01T09:59:58.000Z", cgroup: "/")
        let v = VerdictEngine.decide(facts { $0.records = [request, off] })
        XCTAssertEqual(v.triple, ["poweroff", "kernel", "high"])
        XCTAssertEqual(v.detail, "kworker/0:0")
    }
}

/// Units whose names say they reboot: ours records reboots and never asks for one.
final class RebootingUnitTests: XCTestCase {
    func testTheWitnessesOwnUnitIsNotARebootingService() {
        XCTAssertFalse(JournalEvidence.isRebootingUnit("reboot-witness.service"))
        XCTAssertTrue(JournalEvidence.isRebootingUnit("machine-config-daemon-reboot.service"))
        XCTAssertFalse(JournalEvidence.isRebootingUnit("reboot.target"), "a shutdown target is a step, not a requester")
    }
}
