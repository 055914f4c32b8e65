@testable import RebootWitness
import WitnessAttribution
import WitnessStore
import XCTest

/// `last` over fixtures in the forms the real sources produce, one per verdict.
final class VerdictTests: XCTestCase {
    func caller(_ probe: String = "sys_enter_reboot", cmd: String? = "RESTART", pid: UInt32 = 812, comm: String = "reboot",
                time: String = "2026-01-01T10:00:00.000Z", loginuid: UInt32? = nil, cgroup: String = "/system.slice/x.service",
                container: ContainerID? = nil, argv: String? = nil, count: UInt64 = 1) -> CallerRecord {
        CallerRecord(bootID: "b1", time: time, probe: probe, attach: "tracepoint", cmd: cmd, cmdArg: argv, magic1: nil,
                     magic2: nil, retval: nil, pid: pid, tid: pid, ppid: 1, comm: comm, exe: "/usr/sbin/\(comm)", uid: 0,
                     user: "root", gid: 0, euid: 0, loginuid: loginuid, loginUser: loginuid.map { _ in "alice" },
                     sessionid: loginuid.map { _ in 3 }, tty: nil, cgroup: cgroup, cgroupID: 7, cgroupV1: false,
                     container: container, podUID: nil, pidNs: 1, inInitPidNs: true,
                     ancestry: [.init(pid: 700, comm: "bash"), .init(pid: 1, comm: "systemd")],
                     kernelStack: [], context: "process", count: count)
    }

    /// `systemctl reboot` typed in a container, 2 s before the reboot.
    func containerSystemctl() -> CallerRecord {
        caller("sched_process_exec", pid: 300, comm: "systemctl", time: "2026-01-01T09:59:58.000Z",
               container: ContainerID(runtime: "docker", id: String(repeating: "c0ffee00", count: 8)), argv: "systemctl reboot")
    }

    /// PID 1 becoming `systemd-shutdown reboot`.
    func systemdShutdownExec() -> CallerRecord {
        caller("sched_process_exec", pid: 1, comm: "systemd-shutdow", time: "2026-01-01T09:59:58.900Z",
               cgroup: "/", argv: "/usr/lib/systemd/systemd-shutdown reboot")
    }

    func facts(_ build: (inout BootFacts) -> Void) -> BootFacts {
        var f = BootFacts(bootID: "b1")
        f.armed = "2026-01-01T09:00:00.000Z"
        f.lastAlive = "2026-01-01T09:59:55.000Z"
        build(&f)
        return f
    }

    func testContainerInitiatedReboot() {
        let id = String(repeating: "c0ffee00", count: 8)
        let v = VerdictEngine.decide(facts { $0.records = [caller(container: ContainerID(runtime: "docker", id: id))] })
        XCTAssertEqual([v.reason, v.subreason, v.confidence], ["reboot", "container", "high"])
        XCTAssertEqual(v.bootstat, "reboot,container,c0ffee00c0ff")
        XCTAssertEqual(v.initiator?.pid, 812)
    }

    func testUserRebootThroughPIDOneNamesTheHumanAndTheSSHClient() {
        var intent = caller("sched_process_exec", pid: 4242, comm: "systemctl", time: "2026-01-01T09:59:58.000Z",
                            loginuid: 1000, cgroup: "/user.slice/user-1000.slice/session-3.scope", argv: "systemctl reboot")
        intent.sshPeer = "10.10.10.34:51234"
        let shutdown = caller(pid: 1, comm: "systemd-shutdow", time: "2026-01-01T10:00:03.000Z", cgroup: "/")
        let v = VerdictEngine.decide(facts { $0.records = [intent, shutdown]; $0.cleanStop = "2026-01-01T10:00:02.000Z" })
        XCTAssertEqual([v.reason, v.subreason, v.confidence], ["reboot", "user", "high"])
        XCTAssertEqual(v.initiator?.argv, "systemctl reboot")
        XCTAssertTrue(v.summary.contains("via ssh from 10.10.10.34:51234"), v.summary)
        XCTAssertEqual(v.bootstat, "reboot,user,alice")
    }

    func testAGracefulRebootWhoseFinalCallCameAfterTheWitnessStopped() {
        let intent = containerSystemctl()
        // systemctl asks logind over D-Bus, logind asks systemd: the relays are not the initiator.
        let relay = caller("dbus", pid: 225, comm: "systemd-logind", time: "2026-01-01T09:59:58.500Z",
                           cgroup: "/system.slice/systemd-logind.service",
                           argv: "org.freedesktop.systemd1.Manager.StartUnit reboot.target from :1.2")
        let shutdown = systemdShutdownExec()
        let v = VerdictEngine.decide(facts { $0.records = [intent, relay, shutdown]; $0.cleanStop = "2026-01-01T09:59:59.000Z" })
        XCTAssertEqual([v.reason, v.subreason, v.detail], ["reboot", "container", "c0ffee00c0ff"])
        XCTAssertTrue(v.evidence.contains { $0.excerpt.hasPrefix("PID 1 went on") }, "\(v.evidence)")
        let dumped = DumpReport(contents: StoreContents(entries: [intent, relay, shutdown].map { .caller($0) }, skipped: 0),
                                selection: .all, currentBoot: "b2").items.map(\.record)
        XCTAssertEqual(dumped[2].initiator?.comm, "systemctl", "PID 1's systemd-shutdown is linked to who asked")
        XCTAssertEqual(v.initiator?.comm, "systemctl")
        // An intent with no orderly shutdown after it is not enough (it may have been cancelled).
        let cancelled = VerdictEngine.decide(facts { $0.records = [intent] })
        XCTAssertEqual(cancelled.reason, "hard_reset")
    }

    func testPIDOnesFinalStageRebootIsLinkedToTheIntentAndItsSystemdShutdown() {
        let intent = containerSystemctl()
        let shutdown = systemdShutdownExec()
        var final = caller(pid: 1, comm: "systemd-shutdow", time: "2026-01-01T10:00:01.000Z", cgroup: "/")
        final.finalStage = true
        // The stop marker comes before PID 1's call: arm closed the store for systemd-shutdown.
        let v = VerdictEngine.decide(facts { $0.records = [intent, shutdown, final]; $0.cleanStop = "2026-01-01T09:59:59.000Z" })
        XCTAssertEqual([v.reason, v.subreason, v.confidence], ["reboot", "container", "high"])
        XCTAssertEqual(v.initiator?.comm, "systemctl")
        XCTAssertEqual(v.evidence.map { String($0.excerpt.prefix(12)) }, ["intent: sche", "PID 1 went o", "sys_enter_re"])
        XCTAssertTrue(v.evidence[2].excerpt.hasSuffix("final-stage"), v.evidence[2].excerpt)
        let dumped = DumpReport(contents: StoreContents(entries: [intent, shutdown, final].map { .caller($0) }, skipped: 0),
                                selection: .all, currentBoot: "b2").items.map(\.record)
        XCTAssertEqual(dumped.first { $0.finalStage }?.initiator?.comm, "systemctl", "PID 1's reboot(2) names who asked")
    }

    func testServiceInitiatedReboot() {
        let intent = caller("sched_process_exec", pid: 900, comm: "systemctl", time: "2026-01-01T09:59:58.000Z",
                            cgroup: "/system.slice/machine-config-daemon.service", argv: "systemctl reboot")
        let v = VerdictEngine.decide(facts { $0.records = [intent, caller(pid: 1, comm: "systemd-shutdow")] })
        XCTAssertEqual([v.reason, v.subreason], ["reboot", "service"])
        XCTAssertEqual(v.detail, "machine-config-daemon.service")
    }

    func testHypervisorPowerButton() {
        let journal = JournalFacts.parse("""
        {"__REALTIME_TIMESTAMP":"1767261590000000","_SYSTEMD_UNIT":"systemd-logind.service","SYSLOG_IDENTIFIER":"systemd-logind","MESSAGE":"Power key pressed short."}
        {"__REALTIME_TIMESTAMP":"1767261590100000","SYSLOG_IDENTIFIER":"systemd-logind","MESSAGE":"Powering off..."}
        {"__REALTIME_TIMESTAMP":"1767261590200000","SYSLOG_IDENTIFIER":"kernel","MESSAGE":[1,2,3]}
        {"__REALTIME_TIMESTAMP":"1767261591000000","SYSLOG_IDENTIFIER":"systemd","MESSAGE":"Reached target poweroff.target - System Power Off."}
        """)
        XCTAssertEqual(journal.map(\.message), ["Power key pressed short.", "Powering off...",
                                                "Reached target poweroff.target - System Power Off."])
        XCTAssertEqual(journal.first?.unit, "systemd-logind.service")
        XCTAssertEqual(journal.first?.time, "2026-01-01T09:59:50.000Z")
        let v = VerdictEngine.decide(facts {
            $0.records = [caller(cmd: "POWER_OFF", pid: 1, comm: "systemd-shutdow")]
            $0.journal = journal
        })
        XCTAssertEqual([v.reason, v.subreason], ["poweroff", "acpi"])
        XCTAssertTrue(v.evidence.contains { $0.source == "journal" && $0.excerpt.contains("Power key") })
        // Without the witness, the journal alone still says so, less surely.
        let journalOnly = VerdictEngine.decide(facts { $0.journal = journal; $0.armed = nil; $0.lastAlive = nil })
        XCTAssertEqual([journalOnly.reason, journalOnly.subreason, journalOnly.confidence], ["poweroff", "acpi", "medium"])
    }

    func testHardResetWithUncleanFilesystemsAndAContradictingWtmpEntry() {
        let v = VerdictEngine.decide(facts {
            $0.uncleanMarkers = ["EXT4-fs (vda): recovery complete"]
            $0.wtmp = [WtmpEntry(kind: "shutdown", user: "shutdown", time: "2026-01-01T09:59:56.000Z")]
        })
        XCTAssertEqual([v.reason, v.subreason, v.confidence], ["hard_reset", "no_shutdown_path", "high"])
        XCTAssertTrue(v.summary.contains("last seen alive 2026-01-01T09:59:55.000Z"), v.summary)
        XCTAssertTrue(v.evidence.contains { $0.source == "kernel-log" && $0.supports })
        XCTAssertTrue(v.evidence.contains { $0.source == "wtmp" && !$0.supports }, "a wtmp shutdown entry contradicts it")
    }

    func testOutOfMemoryThenResetWithACrashLoop() {
        let journal = JournalFacts.parse("""
        {"__REALTIME_TIMESTAMP":"1767261000000000","_SYSTEMD_UNIT":"serial-getty@ttyS0.service","MESSAGE":"serial-getty@ttyS0.service: Scheduled restart job, restart counter is at 421491."}
        {"__REALTIME_TIMESTAMP":"1767261500000000","SYSLOG_IDENTIFIER":"kernel","MESSAGE":"Out of memory: Killed process 4121 (agetty) total-vm:10kB"}
        """)
        let v = VerdictEngine.decide(facts { $0.journal = journal })
        XCTAssertEqual([v.reason, v.subreason], ["hard_reset", "oom_then_reset"])
        XCTAssertEqual(v.crashLoop?.count, 421_491)
        XCTAssertEqual(v.crashLoop?.what, "serial-getty@ttyS0.service")
        XCTAssertTrue(v.summary.contains("crash loop: serial-getty@ttyS0.service ×421491"), v.summary)
    }

    func testKernelPanicFromPstore() {
        let pstore = PstoreRecord.from(file: "/sys/fs/pstore/dmesg-ramoops-0", text: """
        Panic#1 Part1
        <6>[   12.0] sysrq: Trigger a crash
        <0>[   12.1] Kernel panic - not syncing: sysrq triggered crash
        """, bootID: "b1", time: "2026-01-01T10:00:00.000Z")
        let v = VerdictEngine.decide(facts { $0.pstore = [pstore] })
        XCTAssertEqual([v.reason, v.subreason, v.confidence], ["panic", "sysrq", "high"])
        XCTAssertEqual(v.summary, "kernel panic: sysrq triggered crash")
    }

    func testWatchdogResetNamesTheStarvedFeeder() {
        let pstore = PstoreRecord.from(file: "/sys/fs/pstore/dmesg-ramoops-0", text: """
        Panic#1 Part1
        <0>[   40.0] softdog: Initiating panic
        <0>[   40.1] Kernel panic - not syncing: Software Watchdog Timer expired
        """, bootID: "b1", time: nil)
        let hunt = WatchdogRecord(bootID: "b1", time: "2026-01-01T10:00:00.000Z", device: "watchdog0", timeoutSeconds: 60,
                                  sinceKeepaliveSeconds: 58.2, keepalives: 120, lastKeepaliveBootNs: 1,
                                  lastKeepaliveTime: "2026-01-01T09:59:02.000Z",
                                  pinger: .init(pid: 812, tid: 812, comm: "sbd", exe: "/usr/sbin/sbd", state: "D",
                                                stateName: "uninterruptible (disk sleep)", wchan: "nfs_wait_bit_killable",
                                                kernelStack: ["nfs_wait_bit_killable+0x1c/0x90"]))
        let v = VerdictEngine.decide(facts { $0.pstore = [pstore]; $0.watchdog = [hunt] })
        XCTAssertEqual([v.reason, v.subreason, v.confidence, v.detail], ["watchdog", "softdog", "high", "sbd"])
        XCTAssertTrue(v.summary.contains("last by sbd[812] (/usr/sbin/sbd), in D state"), v.summary)
    }

    func testKexecAndTheUnknown() {
        let kexec = VerdictEngine.decide(facts { $0.records = [caller(cmd: "KEXEC", comm: "kexec", loginuid: 0)] })
        XCTAssertEqual(kexec.reason, "kexec")
        let nothing = VerdictEngine.decide(BootFacts(bootID: "b1"))
        XCTAssertEqual([nothing.reason, nothing.confidence], ["unknown", "low"])
        var unclean = BootFacts(bootID: "b1")
        unclean.uncleanMarkers = ["XFS (sda1): Starting recovery (logdev: internal)"]
        XCTAssertEqual(VerdictEngine.decide(unclean).subreason, "unclean")
    }

    func testAGracefulVerdictIsContradictedByRecovery() {
        let v = VerdictEngine.decide(facts {
            $0.records = [caller(loginuid: 1000)]
            $0.uncleanMarkers = ["EXT4-fs (sda1): recovery complete"]
        })
        XCTAssertEqual(v.reason, "reboot")
        XCTAssertTrue(v.evidence.contains { !$0.supports && $0.excerpt.contains("recovery complete") })
        XCTAssertEqual(FactGathering.uncleanMarkers(in: "a\nEXT4-fs (vda): recovery complete\nb"), ["EXT4-fs (vda): recovery complete"])
    }

    func testWtmpEntriesBelongToTheBootThatWroteThem() {
        let entries = [WtmpEntry(kind: "runlevel", user: "runlevel", time: "2026-01-01T09:00:05.000Z"),
                       WtmpEntry(kind: "shutdown", user: "shutdown", time: "2026-01-01T10:00:02.000Z"),
                       WtmpEntry(kind: "reboot", user: "reboot", time: "2026-01-01T10:01:00.000Z"),
                       WtmpEntry(kind: "shutdown", user: "shutdown", time: "2026-01-01T12:00:00.000Z")]
        let kept = FactGathering.wtmp(entries, start: "2026-01-01T09:00:00.000Z", end: "2026-01-01T10:00:00.000Z",
                                      nextBootStart: "2026-01-01T10:01:30.000Z")
        XCTAssertEqual(kept.map(\.time), ["2026-01-01T09:00:05.000Z", "2026-01-01T10:00:02.000Z"],
                       "the next boot's shutdown is not this boot's")
    }

    func testChoosingBootsBack() throws {
        let marker = { (boot: String) in StoreEntry.start(.init(bootID: boot, time: "t", kernel: "k", pid: 1)) }
        let contents = StoreContents(entries: [marker("b1"), marker("b2"), marker("b3")], skipped: 0)
        XCTAssertEqual(try FactGathering.chooseBoot(in: contents, back: 1, current: "b3").get(), "b2")
        XCTAssertEqual(try FactGathering.chooseBoot(in: contents, back: 2, current: "b3").get(), "b1")
        XCTAssertEqual(try FactGathering.chooseBoot(in: contents, back: 1, current: "b4").get(), "b3", "arm has not run yet")
        XCTAssertThrowsError(try FactGathering.chooseBoot(in: contents, back: 3, current: "b3").get())
    }
}
