@testable import WitnessArm
@testable import WitnessReport
import WitnessAttribution
import WitnessEvidence
import WitnessStore
import WitnessSystem
import XCTest
import WitnessModel

/// Records and facts in the forms the real sources produce.
protocol VerdictFixtures {}

extension VerdictFixtures {
    func caller(_ probe: ProbeID = .sysEnterReboot, cmd: RebootAction? = .restart, pid: UInt32 = 812, comm: String = "reboot",
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
}

/// `last` over fixtures in the forms the real sources produce, one per verdict.
final class VerdictTests: XCTestCase, VerdictFixtures {
    func testContainerInitiatedReboot() {
        let id = String(repeating: "c0ffee00", count: 8)
        let v = VerdictEngine.decide(facts { $0.records = [caller(container: ContainerID(runtime: "docker", id: id))] })
        XCTAssertEqual(v.triple, ["reboot", "container", "high"])
        XCTAssertEqual(v.bootstat, "reboot,container,c0ffee00c0ff")
        XCTAssertEqual(v.initiator?.pid, 812)
    }

    func testUserRebootThroughPIDOneNamesTheHumanAndTheSSHClient() {
        var intent = caller("sched_process_exec", pid: 4242, comm: "systemctl", time: "2026-01-01T09:59:58.000Z",
                            loginuid: 1000, cgroup: "/user.slice/user-1000.slice/session-3.scope", argv: "systemctl reboot")
        intent.sshPeer = "10.10.10.34:51234"
        let shutdown = caller(pid: 1, comm: "systemd-shutdow", time: "2026-01-01T10:00:03.000Z", cgroup: "/")
        let v = VerdictEngine.decide(facts { $0.records = [intent, shutdown]; $0.cleanStop = "2026-01-01T10:00:02.000Z" })
        XCTAssertEqual(v.triple, ["reboot", "user", "high"])
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
        XCTAssertEqual([v.reason.rawValue, v.subreason.rawValue, v.detail], ["reboot", "container", "c0ffee00c0ff"])
        XCTAssertTrue(v.evidence.contains { $0.excerpt.hasPrefix("PID 1 went on") }, "\(v.evidence)")
        let dumped = DumpReport(contents: StoreContents(entries: [intent, relay, shutdown].map { .caller($0) }, skipped: 0),
                                selection: .all, currentBoot: "b2").items.map(\.record)
        XCTAssertEqual(dumped[2].initiator?.comm, "systemctl", "PID 1's systemd-shutdown is linked to who asked")
        XCTAssertEqual(v.initiator?.comm, "systemctl")
        // An intent with no orderly shutdown after it is not enough (it may have been cancelled).
        let cancelled = VerdictEngine.decide(facts { $0.records = [intent] })
        XCTAssertEqual(cancelled.reason, .hardReset)
    }

    /// Root stopped the witness (disarm, `systemctl stop`) an hour before
    /// the machine went down: the verdict says the end was not witnessed.
    func testAWitnessStoppedLongBeforeTheEndIsAFindingAgainstTheVerdict() {
        var journal = JournalBootFacts()
        journal.last = JournalLine(time: "2026-01-01T11:00:00.000Z", unit: nil, identifier: "cron", message: "still running")
        let stoppedEarly = VerdictEngine.decide(facts {
            $0.cleanStop = "2026-01-01T10:00:00.000Z"
            $0.journal = journal
            $0.lastSeen = "2026-01-01T11:00:00.000Z"
        })
        XCTAssertTrue(stoppedEarly.evidence.contains {
            $0.stance == .contradicts && $0.excerpt == "the witness was stopped at 2026-01-01T10:00:00.000Z and the boot went on until "
                + "2026-01-01T11:00:00.000Z: how it ended was not witnessed"
        }, "\(stoppedEarly.evidence)")
        // Stopped by the shutdown itself (seconds after it began): no finding.
        var orderly = journal
        orderly.shutdown = [ShutdownStep(line: JournalLine(time: "2026-01-01T10:59:58.000Z", unit: nil, identifier: "systemd-logind",
                                                           message: "System is rebooting."), action: .restart)]
        let stoppedByShutdown = VerdictEngine.decide(facts {
            $0.cleanStop = "2026-01-01T10:59:59.000Z"
            $0.journal = orderly
            $0.lastSeen = "2026-01-01T11:00:00.000Z"
        })
        XCTAssertFalse(stoppedByShutdown.evidence.contains { $0.excerpt.contains("not witnessed") }, "\(stoppedByShutdown.evidence)")
        // Stopped, then the shutdown an hour later.
        let stoppedBeforeShutdown = VerdictEngine.decide(facts {
            $0.cleanStop = "2026-01-01T10:00:00.000Z"
            $0.journal = orderly
        })
        XCTAssertTrue(stoppedBeforeShutdown.evidence.contains {
            $0.excerpt.hasPrefix("the witness was stopped at 2026-01-01T10:00:00.000Z, before the shutdown began at 2026-01-01T10:59:58")
        }, "\(stoppedBeforeShutdown.evidence)")
        // Killed an hour before the end: the heartbeat stops.
        let killed = VerdictEngine.decide(facts {
            $0.lastAlive = "2026-01-01T10:00:05.000Z"
            $0.journal = journal
            $0.lastSeen = "2026-01-01T11:00:00.000Z"
        })
        XCTAssertTrue(killed.evidence.contains {
            $0.excerpt.hasPrefix("the witness was last seen alive at 2026-01-01T10:00:05.000Z with no clean stop (killed, or hung)")
        }, "\(killed.evidence)")
        // Alive to the end (a hard reset 8 s after the last heartbeat): no finding.
        let reset = VerdictEngine.decide(facts { $0.lastSeen = "2026-01-01T09:59:59.000Z" })
        XCTAssertFalse(reset.evidence.contains { $0.excerpt.contains("not witnessed") }, "\(reset.evidence)")
        // Stopped and armed again (an upgrade restarted it): the stop did not end the witnessing.
        func marker(_ time: String) -> StoreEntry.BootMarker { .init(bootID: "b1", time: time, kernel: "6.1.0", pid: 42) }
        let restarted = WitnessBoot.fold(StoreContents(entries: [.start(marker("2026-01-01T09:00:00.000Z")),
                                                                 .stop(marker("2026-01-01T10:00:00.000Z")),
                                                                 .start(marker("2026-01-01T10:00:02.000Z"))], skipped: 0))
        XCTAssertEqual(restarted.first?.armed, "2026-01-01T09:00:00.000Z")
        XCTAssertNil(restarted.first?.stopped)
    }

    func testPIDOnesFinalStageRebootIsLinkedToTheIntentAndItsSystemdShutdown() {
        let intent = containerSystemctl()
        let shutdown = systemdShutdownExec()
        var final = caller(pid: 1, comm: "systemd-shutdow", time: "2026-01-01T10:00:01.000Z", cgroup: "/")
        final.finalStage = true
        // The stop marker comes before PID 1's call: arm closed the store for systemd-shutdown.
        let v = VerdictEngine.decide(facts { $0.records = [intent, shutdown, final]; $0.cleanStop = "2026-01-01T09:59:59.000Z" })
        XCTAssertEqual(v.triple, ["reboot", "container", "high"])
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
        XCTAssertEqual(v.triple, ["reboot", "service", "high"])
        XCTAssertEqual(v.detail, "machine-config-daemon.service")
    }

    func journal(_ build: (inout JournalBootFacts) -> Void) -> JournalBootFacts {
        var j = JournalBootFacts()
        j.first = "2026-01-01T09:00:00.000Z"
        j.last = JournalLine(time: "2026-01-01T09:59:59.000Z", unit: nil, identifier: "systemd", message: "last")
        build(&j)
        return j
    }

    func line(_ time: String, _ identifier: String, _ message: String, unit: String? = nil) -> JournalLine {
        JournalLine(time: time, unit: unit, identifier: identifier, message: message)
    }

    func testHypervisorPowerButton() {
        let j = journal {
            $0.powerKey = line("2026-01-01T09:59:50.000Z", "systemd-logind", "Power key pressed short.")
            $0.shutdown = [ShutdownStep(line: line("2026-01-01T09:59:50.100Z", "systemd-logind", "System is powering down."),
                                        action: .powerOff)]
        }
        let v = VerdictEngine.decide(facts {
            $0.records = [caller(cmd: .powerOff, pid: 1, comm: "systemd-shutdow")]
            $0.journal = j
        })
        XCTAssertEqual(v.triple, ["poweroff", "acpi", "high"])
        XCTAssertTrue(v.evidence.contains { $0.source == .journal && $0.excerpt.contains("Power key") })
        // Without the witness, the journal alone still says so, less surely.
        let journalOnly = VerdictEngine.decide(facts { $0.journal = j; $0.witness = nil })
        XCTAssertEqual(journalOnly.triple, ["poweroff", "acpi", "medium"])
    }

    func testHardResetWithUncleanFilesystemsAndAContradictingWtmpEntry() {
        let v = VerdictEngine.decide(facts {
            $0.uncleanMarkers = [Evidence(source: .kernelLog, time: nil, excerpt: "next boot: EXT4-fs (vda): recovery complete")]
            $0.wtmp = [WtmpEntry(kind: .shutdown, user: "shutdown", time: "2026-01-01T09:59:56.000Z")]
            $0.lastSeen = "2026-01-01T09:59:55.000Z"
        })
        XCTAssertEqual(v.triple, ["shutdown", "graceful", "medium"], "a wtmp shutdown entry is an orderly shutdown")
        let reset = VerdictEngine.decide(facts {
            $0.uncleanMarkers = [Evidence(source: .kernelLog, time: nil, excerpt: "next boot: EXT4-fs (vda): recovery complete")]
            $0.lastSeen = "2026-01-01T09:59:55.000Z"
        })
        XCTAssertEqual(reset.triple, ["hard_reset", "no_shutdown_path", "high"])
        XCTAssertTrue(reset.summary.contains("last seen alive 2026-01-01T09:59:55.000Z"), reset.summary)
        XCTAssertTrue(reset.evidence.contains { $0.source == .kernelLog && $0.supports })
        XCTAssertTrue(v.evidence.contains { $0.source == .kernelLog && $0.stance == .contradicts },
                      "recovery at the next boot contradicts an orderly shutdown")
    }

    func testOutOfMemoryThenResetWithACrashLoopFromTheJournalAlone() {
        let j = journal {
            $0.restarts = [RestartCount(unit: "serial-getty@ttyS0.service", count: 421_491, time: "2026-01-01T09:50:00.000Z")]
            $0.kernelTrouble = [line("2026-01-01T09:58:20.000Z", "kernel", "Out of memory: Killed process 4121 (agetty) total-vm:10kB")]
        }
        let v = VerdictEngine.decide(facts {
            $0.witness = nil
            $0.journal = j
            $0.lastSeen = "2026-01-01T09:59:59.000Z"
            $0.uncleanMarkers = [Evidence(source: .journal, time: nil, excerpt: "next boot: kernel: EXT4-fs (vda1): recovery complete")]
        })
        XCTAssertEqual(v.triple, ["hard_reset", "oom_then_reset", "medium"], "never high without a witness record")
        XCTAssertEqual(v.crashLoop?.count, 421_491)
        XCTAssertEqual(v.crashLoop?.what, "serial-getty@ttyS0.service")
        XCTAssertTrue(v.summary.contains("crash loop: serial-getty@ttyS0.service ×421491"), v.summary)
        XCTAssertTrue(v.summary.contains("last seen alive 2026-01-01T09:59:59.000Z"), v.summary)
        // The journal simply ending, with nothing at the next boot, is a reset said with little confidence.
        let bare = VerdictEngine.decide(facts { $0.witness = nil; $0.journal = journal { _ in } })
        XCTAssertEqual(bare.triple, ["hard_reset", "no_shutdown_path", "low"])
    }

    func testKernelPanicFromPstore() {
        let pstore = PstoreRecord.from(file: "/sys/fs/pstore/dmesg-ramoops-0", text: """
        Panic#1 Part1
        <6>[   12.0] sysrq: Trigger a crash
        <0>[   12.1] Kernel panic - not syncing: sysrq triggered crash
        """, bootID: "b1", time: "2026-01-01T10:00:00.000Z")
        let v = VerdictEngine.decide(facts { $0.pstore = [pstore] })
        XCTAssertEqual(v.triple, ["panic", "sysrq", "high"])
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
        XCTAssertEqual(v.triple + [v.detail], ["watchdog", "softdog", "high", "sbd"])
        XCTAssertTrue(v.summary.contains("last by sbd[812] (/usr/sbin/sbd), in D state"), v.summary)
    }

    func testHardwareWatchdogBootStatusIsTrustedOnlyWhereTheDriverReportsIt() {
        let card = WatchdogBootStatus(device: "watchdog0", identity: "i6300ESB timer", bootstatus: 0x20, options: 0x8120)
        let v = VerdictEngine.decide(facts { $0.witness = nil; $0.watchdogStatus = [card] })
        XCTAssertEqual(v.triple + [v.detail], ["watchdog", "hardware", "medium", "watchdog0"])
        let silent = WatchdogBootStatus(device: "watchdog0", identity: "Software Watchdog", bootstatus: 0x20, options: 0x8180)
        XCTAssertNil(silent.resetTheMachine, "softdog does not advertise WDIOF_CARDRESET")
        XCTAssertTrue(silent.summary.contains("unsupported"), silent.summary)
        let old = WatchdogBootStatus(device: "watchdog0", identity: nil, bootstatus: 0x20, options: nil)
        XCTAssertNil(old.resetTheMachine)
        XCTAssertEqual(VerdictEngine.decide(facts { $0.witness = nil; $0.watchdogStatus = [silent, old] }).reason, .unknown)
    }

    func testKexecAndTheUnknown() {
        let kexec = VerdictEngine.decide(facts { $0.records = [caller(cmd: .kexec, comm: "kexec", loginuid: 0)] })
        XCTAssertEqual(kexec.reason, .kexec)
        let nothing = VerdictEngine.decide(BootFacts(bootID: "b1"))
        XCTAssertEqual(nothing.triple, ["unknown", "no_evidence", "low"])
        var unclean = BootFacts(bootID: "b1")
        unclean.uncleanMarkers = [Evidence(source: .journal, time: nil, excerpt: "next boot: XFS (sda1): Starting recovery (logdev: internal)")]
        XCTAssertEqual(VerdictEngine.decide(unclean).subreason, .unclean)
    }

    /// `kexec -l` then `systemctl kexec`: PID 1's KEXEC names systemctl, and
    /// the image loaded before it is evidence, with who loaded it; a crash
    /// kernel's load (`kexec -p`) is no such thing.
    func testAKexecSaysWhichImageItBootedAndWhoLoadedIt() {
        let load = caller("sched_process_exec", cmd: IntentFilter.action(argv: ["kexec", "-l", "/boot/vmlinuz-6.1.0-57-amd64",
                                                                                 "--initrd=/boot/initrd.img-6.1.0-57-amd64", "--reuse-cmdline"]),
                          pid: 410, comm: "kexec", time: "2026-01-01T09:59:50.000Z", loginuid: 1000,
                          argv: "kexec -l /boot/vmlinuz-6.1.0-57-amd64 --initrd=/boot/initrd.img-6.1.0-57-amd64 --reuse-cmdline")
        XCTAssertEqual(load.cmd, .kexecLoad)
        let asked = caller("sched_process_exec", cmd: .kexec, pid: 420, comm: "systemctl", time: "2026-01-01T09:59:57.000Z",
                           loginuid: 1000, argv: "systemctl kexec")
        let final = caller(cmd: .kexec, pid: 1, comm: "systemd-shutdow", time: "2026-01-01T10:00:00.000Z", cgroup: "/")
        let verdict = VerdictEngine.decide(facts { $0.records = [load, asked, final] })
        XCTAssertEqual(verdict.bootstat, "kexec,user,alice")
        XCTAssertEqual(verdict.initiator?.comm, "systemctl", "loading an image is not asking for the kexec")
        XCTAssertTrue(verdict.evidence.contains { $0.excerpt.hasPrefix("image loaded by kexec[410] \"kexec -l /boot/vmlinuz-6.1.0-57-amd64") },
                      "\(verdict.evidence.map(\.excerpt))")
        let reboot = VerdictEngine.decide(facts { $0.records = [load, caller(time: "2026-01-01T10:00:00.000Z")] })
        XCTAssertFalse(reboot.evidence.contains { $0.excerpt.hasPrefix("image loaded") }, "a reboot boots no kexec image")
    }

    /// systemd 252's `systemctl kexec`, as the kexec scenario recorded it:
    /// systemd-kexec.service relays it as `systemctl --force kexec`, and
    /// systemd-shutdown forks `/sbin/kexec -e`, whose reboot(2) ends the
    /// boot. Neither is who asked: the scenario's systemctl is.
    func testSystemdsOwnKexecStepsAreNotWhoAsked() {
        let scenario = "/system.slice/rw-scenario.service"
        let load = caller("sched_process_exec", cmd: .kexecLoad, pid: 327, comm: "kexec", time: "2026-01-01T09:59:50.000Z",
                          cgroup: scenario, argv: "kexec -l /boot/vmlinuz-6.1.0-57-amd64")
        let asked = caller("sched_process_exec", cmd: .kexec, pid: 328, comm: "systemctl", time: "2026-01-01T09:59:51.000Z",
                           cgroup: scenario, argv: "systemctl kexec")
        let bus = caller(.dbus, cmd: .kexec, pid: 328, comm: "systemctl", time: "2026-01-01T09:59:51.100Z", cgroup: scenario,
                         argv: "org.freedesktop.login1.Manager.RebootWithFlags flags 0x2 from :1.4")
        var relayed = caller("sched_process_exec", cmd: .kexec, pid: 350, comm: "systemctl", time: "2026-01-01T09:59:54.000Z",
                             cgroup: "/system.slice/systemd-kexec.service", argv: "systemctl --force kexec")
        relayed.ancestry = [.init(pid: 1, comm: "systemd")]
        let shutdown = caller("sched_process_exec", cmd: .kexec, pid: 1, comm: "systemd-shutdow", time: "2026-01-01T09:59:55.000Z",
                              cgroup: "/init.scope", argv: "/lib/systemd/systemd-shutdown kexec --timeout=90000000us")
        var forked = caller("sched_process_exec", cmd: .kexec, pid: 356, comm: "kexec", time: "2026-01-01T09:59:59.900Z",
                            cgroup: "/init.scope", argv: "/sbin/kexec -e")
        forked.ancestry = [.init(pid: 1, comm: "systemd-shutdow")]
        var call = caller(cmd: .kexec, pid: 356, comm: "kexec", time: "2026-01-01T10:00:00.000Z", cgroup: "/init.scope")
        call.ancestry = forked.ancestry
        call.held = true
        let records = [load, asked, bus, relayed, shutdown, forked, call]
        XCTAssertTrue(relayed.isRelayedIntent && forked.isRelayedIntent && call.isPidOnesOwnStep)
        XCTAssertFalse(asked.isRelayedIntent)
        let verdict = VerdictEngine.decide(facts { $0.records = records })
        XCTAssertEqual(verdict.bootstat, "kexec,service,rw-scenario.service", verdict.summary)
        XCTAssertEqual(verdict.initiator?.pid, 328)
        let dumped = WitnessBoot.fold(StoreContents(entries: records.map { .caller($0) }, skipped: 0))[0].records
        XCTAssertEqual(dumped.last?.initiator?.pid, 328, "dump names the same requester")
        // The same steps in a container are not the host's: a container's systemctl there is who asked.
        var inContainer = forked
        inContainer.container = ContainerID(runtime: "docker", id: String(repeating: "ab", count: 32))
        XCTAssertFalse(inContainer.isRelayedIntent)
    }

    func testAGracefulVerdictIsContradictedByRecovery() {
        let v = VerdictEngine.decide(facts {
            $0.records = [caller(loginuid: 1000)]
            $0.uncleanMarkers = [Evidence(source: .journal, time: nil, excerpt: "next boot: EXT4-fs (sda1): recovery complete")]
        })
        XCTAssertEqual(v.reason, .reboot)
        XCTAssertTrue(v.evidence.contains { $0.stance == .contradicts && $0.excerpt.contains("recovery complete") })
        XCTAssertTrue(JournalEvidence.isUncleanMarker("EXT4-fs (vda): recovery complete"))
        XCTAssertFalse(JournalEvidence.isUncleanMarker("EXT4-fs (vda): mounted filesystem with ordered data mode"))
    }

    func testAPersonFromTheJournalAndTheAuditLog() {
        let sudo = UserCommand(time: "2026-01-01T09:59:40.000Z", action: .restart, command: "/usr/sbin/reboot", user: "alice",
                               runAs: "root", tty: "pts/0", session: 4, sshPeer: "10.10.10.34:51633", source: "journal", pid: 1500)
        let steps = [ShutdownStep(line: line("2026-01-01T09:59:41.000Z", "systemd-logind", "System is rebooting."), action: .restart)]
        let v = VerdictEngine.decide(facts { $0.witness = nil; $0.journal = journal { $0.commands = [sudo]; $0.shutdown = steps } })
        XCTAssertEqual(v.triple + [v.detail], ["reboot", "user", "medium", "alice"])
        XCTAssertEqual(v.initiator?.sshPeer, "10.10.10.34:51633")
        XCTAssertEqual(v.initiator?.tty, "pts/0")
        XCTAssertEqual(v.initiator?.argv, "/usr/sbin/reboot")
        // A command an hour before the shutdown is not its cause.
        var old = sudo
        old.time = "2026-01-01T08:50:00.000Z"
        let stale = VerdictEngine.decide(facts { $0.witness = nil; $0.journal = journal { $0.commands = [old]; $0.shutdown = steps } })
        XCTAssertEqual(stale.triple, ["reboot", "graceful", "medium"])
    }
}

extension Verdict {
    /// reason, subreason, confidence: what most assertions compare.
    var triple: [String] { [reason.rawValue, subreason.rawValue, confidence.rawValue] }
}
