import Foundation
import WitnessEvidence
@testable import WitnessReport
import WitnessStore
import WitnessSystem
import XCTest
import WitnessModel

/// systemd's soft reboot keeps the kernel and the boot id: each one ends a
/// part of the boot, which `last --list` shows as an entry of its own.
final class SoftRebootTests: XCTestCase {
    let boot = "5f1c2a9e-0b7d-4c3e-9a11-2f6b8d4e7c01"

    func record(_ probe: ProbeID, pid: UInt32, comm: String, cmd: RebootAction?, argv: String? = nil, second: Int,
                container: ContainerID? = nil, cgroup: String = "/system.slice/rw-scenario.service") -> CallerRecord {
        CallerRecord(bootID: boot, time: Instant(seconds: 1_800_000_000 + Int64(second)).iso8601, probe: probe, attach: "tracepoint",
                     cmd: cmd, cmdArg: argv, magic1: nil, magic2: nil, retval: nil, pid: pid, tid: pid, ppid: 1, comm: comm,
                     exe: "/usr/bin/\(comm)", uid: 0, user: "root", gid: 0, euid: 0, loginuid: nil, loginUser: nil, sessionid: nil,
                     tty: nil, cgroup: cgroup, cgroupID: 1, cgroupV1: false, container: container, podUID: nil, pidNs: 1,
                     inInitPidNs: true, ancestry: [], kernelStack: [], context: "process", count: 1)
    }

    func start(second: Int, softReboots: Int?) -> StoreEntry {
        .start(StoreEntry.BootMarker(bootID: boot, time: Instant(seconds: 1_800_000_000 + Int64(second)).iso8601, kernel: "6.12.0",
                                     pid: 233, softReboots: softReboots))
    }

    /// This host's other sources left out: only the store and the journal given.
    func onlyThese(store: String, journal: String?) -> HostEvidence.Locations {
        var locations = HostEvidence.Locations()
        locations.store = store
        locations.readJournal = journal != nil
        locations.journalDirectory = journal
        locations.syslogDirectory = nil
        locations.auditDirectory = "/nonexistent"
        locations.wtmp = "/nonexistent"
        locations.kernelLog = "/nonexistent"
        locations.watchdogRoot = "/nonexistent"
        locations.pstoreRoots = []
        return locations
    }

    static let reexecArgv = ["/usr/lib/systemd/systemd", "--switched-root", "--system", "--deserialize=43"]

    func testOnlyPidOnesReexecWithASwitchedRootIsASoftReboot() {
        XCTAssertEqual(IntentFilter.action(argv: Self.reexecArgv), .softReboot)
        XCTAssertNil(IntentFilter.action(argv: ["/usr/lib/systemd/systemd", "--system", "--deserialize=43"]), "daemon-reexec ends nothing")
        XCTAssertNil(IntentFilter.action(argv: ["/usr/lib/systemd/systemd", "--user"]), "a user manager")
        XCTAssertTrue(IntentFilter.pidOneToolNames.contains("systemd"))
        XCTAssertFalse(IntentFilter.toolNames.contains("systemd"), "every login starts a user manager named systemd")
    }

    /// [a soft reboot asked for from a container, PID 1's re-exec, its CAD_OFF
    /// at the new start, a forged re-exec by another process, then a real
    /// reboot]: one soft reboot, named for the container's request; the
    /// CAD_OFF names nobody; the reboot names its own requester.
    func testASoftRebootIsFoldedWithItsRequesterAndEndsNoBoot() {
        let container = ContainerID(runtime: "docker", id: String(repeating: "c0ffee00", count: 8))
        let asked = record(.execIntent, pid: 292, comm: "systemctl", cmd: .softReboot, argv: "systemctl soft-reboot", second: 10,
                           container: container, cgroup: "/system.slice/docker-c0ffee.scope")
        let reexec = record(.execIntent, pid: 1, comm: "systemd", cmd: .softReboot, argv: Self.reexecArgv.joined(separator: " "), second: 20)
        let cadOff = record(.sysEnterReboot, pid: 1, comm: "systemd", cmd: .cadOff, second: 25)
        let forged = record(.execIntent, pid: 4242, comm: "systemd", cmd: .softReboot, argv: Self.reexecArgv.joined(separator: " "), second: 30)
        let reboot = record(.execIntent, pid: 500, comm: "systemctl", cmd: .restart, argv: "systemctl reboot", second: 40)
        let final = record(.sysEnterReboot, pid: 1, comm: "systemd-shutdow", cmd: .restart, second: 50)
        let entries: [StoreEntry] = [start(second: 0, softReboots: 0)] + [asked, reexec, cadOff, forged, reboot, final].map { .caller($0) }
        let folded = WitnessBoot.fold(StoreContents(entries: entries, skipped: 0))
        XCTAssertEqual(folded.count, 1, "one boot id")
        let soft = folded[0].softReboots
        XCTAssertEqual(soft.map(\.number), [1])
        XCTAssertEqual(soft.first?.time, reexec.time)
        XCTAssertEqual(soft.first?.intent?.pid, 292)
        let items = folded[0].items.map(\.record)
        XCTAssertNil(items.first { $0.cmd == .cadOff }?.initiator, "PID 1's CAD_OFF at its start is nobody's request")
        XCTAssertEqual(items.last?.initiator?.pid, 500, "the reboot names its own requester, not the soft reboot's")

        let verdict = VerdictEngine.softReboot(soft[0], bootID: boot, armed: folded[0].armed)
        XCTAssertEqual(verdict.bootstat, "soft_reboot,container,c0ffee00c0ff")
        XCTAssertEqual(verdict.confidence, .high)
        XCTAssertEqual(verdict.initiator?.pid, 292)
        XCTAssertTrue(verdict.evidence.contains { $0.excerpt.hasPrefix("PID 1 re-executed itself") }, "\(verdict.evidence)")
    }

    /// [the container's `systemctl soft-reboot`, logind passing it on to
    /// systemd (StartUnit soft-reboot.target), then mallory's own `systemctl
    /// soft-reboot` while the units stop, PID 1's re-exec]: the soft reboot
    /// was queued by logind's relay; mallory asked after it and is not named.
    func testARequestAfterLogindsRelayIsNotTheSoftRebootsRequester() {
        let container = ContainerID(runtime: "docker", id: String(repeating: "c0ffee00", count: 8))
        let asked = record(.execIntent, pid: 292, comm: "systemctl", cmd: .softReboot, argv: "systemctl soft-reboot", second: 10,
                           container: container, cgroup: "/system.slice/docker-c0ffee.scope")
        var relay = record(.dbus, pid: 612, comm: "systemd-logind", cmd: .softReboot,
                           argv: "org.freedesktop.systemd1.Manager.StartUnit soft-reboot.target from :1.2", second: 11,
                           cgroup: "/system.slice/systemd-logind.service")
        relay.senderOwnsLogin1 = true
        var mallory = record(.execIntent, pid: 5150, comm: "systemctl", cmd: .softReboot, argv: "systemctl soft-reboot", second: 15,
                             cgroup: "/user.slice/user-1000.slice/session-4.scope")
        mallory.uid = 1000; mallory.euid = 1000; mallory.loginuid = 1000
        let reexec = record(.execIntent, pid: 1, comm: "systemd", cmd: .softReboot, argv: Self.reexecArgv.joined(separator: " "), second: 20)
        let entries: [StoreEntry] = [start(second: 0, softReboots: 0)] + [asked, relay, mallory, reexec].map { .caller($0) }
        let soft = WitnessBoot.fold(StoreContents(entries: entries, skipped: 0))[0].softReboots
        XCTAssertEqual(soft.map(\.intent?.pid), [292])
    }

    /// arm armed late (SoftRebootsCount 2 already), saw a third, was
    /// restarted: the first two are known from the count only.
    func testSoftRebootsBeforeArmingAreKnownFromTheCount() {
        let reexec = record(.execIntent, pid: 1, comm: "systemd", cmd: .softReboot, argv: Self.reexecArgv.joined(separator: " "), second: 20)
        // A soft-reboot request from before arm was armed asked for one of the first two, not the third.
        let early = record(.execIntent, pid: 77, comm: "systemctl", cmd: .softReboot, argv: "systemctl soft-reboot", second: -60)
        let entries: [StoreEntry] = [.caller(early), start(second: 0, softReboots: 2), .caller(reexec), start(second: 30, softReboots: 3)]
        let boot = WitnessBoot.fold(StoreContents(entries: entries, skipped: 0))[0]
        XCTAssertEqual(boot.softReboots.map(\.number), [1, 2, 3])
        XCTAssertTrue(boot.summary.contains("(last armed after soft reboot 3)"), boot.summary)
        XCTAssertEqual(boot.softReboots.map(\.time), [nil, nil, reexec.time])
        let unseen = VerdictEngine.softReboot(boot.softReboots[0], bootID: boot.bootID, armed: boot.armed)
        XCTAssertEqual(unseen.bootstat, "soft_reboot,graceful,")
        XCTAssertEqual(unseen.confidence, .medium)
        let unasked = VerdictEngine.softReboot(boot.softReboots[2], bootID: boot.bootID, armed: boot.armed)
        XCTAssertEqual(unasked.confidence, .medium, "PID 1's re-exec without a recorded request: \(unasked.summary)")
        XCTAssertNil(unasked.initiator, "the request from before the count is not this one's")
        // A systemd without SoftRebootsCount (nil) adds nothing.
        XCTAssertTrue(WitnessBoot.fold(StoreContents(entries: [start(second: 0, softReboots: nil)], skipped: 0))[0].softReboots.isEmpty)
    }

    func testBootChoicesNameAPartOfABoot() {
        XCTAssertEqual(LastReport.Target("1/0"), LastReport.Target(boot: .back(1), session: 0))
        XCTAssertEqual(LastReport.Target("-1/0"), LastReport.Target(boot: .back(1), session: 0))
        XCTAssertEqual(LastReport.Target("0/2"), LastReport.Target(boot: .back(0), session: 2))
        XCTAssertEqual(LastReport.Target("5f1c2a9e/1"), LastReport.Target(boot: .id("5f1c2a9e"), session: 1))
        XCTAssertEqual(LastReport.Target("2"), LastReport.Target(boot: .back(2)))
        for bad in ["0", "1/", "1/-1", "1/x", "1/0/0", "/0", "1/99999999999999999999"] {
            XCTAssertNil(LastReport.Target(bad), bad)
        }
    }

    /// From the store alone (no journal): the boot is listed twice, the
    /// part its soft reboot ended with the soft reboot's requester.
    func testLastListShowsEachSoftRebootAsAnEntryOfItsOwn() throws {
        let dir = try temporaryDirectory("soft-reboot")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("store"), withIntermediateDirectories: true)
        let store = try SlotStore(directory: dir.appendingPathComponent("store").path, size: 64 * 1024, create: true)
        let asked = record(.execIntent, pid: 292, comm: "systemctl", cmd: .softReboot, argv: "systemctl soft-reboot", second: 10)
        let reexec = record(.execIntent, pid: 1, comm: "systemd", cmd: .softReboot, argv: Self.reexecArgv.joined(separator: " "), second: 20)
        let reboot = record(.execIntent, pid: 500, comm: "reboot", cmd: .restart, argv: "reboot", second: 40)
        let final = record(.sysEnterReboot, pid: 1, comm: "systemd-shutdow", cmd: .restart, second: 50)
        try store.append([start(second: 0, softReboots: 0)] + [asked, reexec, reboot, final].map { .caller($0) })
        let locations = onlyThese(store: dir.appendingPathComponent("store").path, journal: nil)
        let host = HostEvidence(locations, current: "0badc0de-0000-4000-8000-000000000001", currentStart: nil)
        let list = LastReport.list(host: host, count: nil)
        let ofBoot = list.filter { $0.bootID == boot }
        XCTAssertEqual(ofBoot.map(\.softReboots), [1, 0])
        XCTAssertEqual(ofBoot.map(\.endedBySoftReboot), [false, true])
        XCTAssertEqual(ofBoot[0].verdict?.bootstat, "reboot,service,rw-scenario.service")
        XCTAssertEqual(ofBoot[1].verdict?.bootstat, "soft_reboot,service,rw-scenario.service")
        XCTAssertEqual(ofBoot[1].lastSeen, reexec.time)
        let human = LastReport.human(list).joined(separator: "\n")
        XCTAssertTrue(human.contains("\n-1/0 5f1c2a9e0b7d4c3e9a112f6b8d4e7c01 "), human)
        let json = RecordFormatter.json(ofBoot[1])
        XCTAssertTrue(json.contains("\"soft_reboots_count\":0"), json)
        XCTAssertEqual(try LastReport.verdict(LastReport.Target("1/0")!, host: host).get().reason, .softReboot)
        guard case .failure(let error) = LastReport.verdict(LastReport.Target("1/1")!, host: host) else {
            return XCTFail("boot -1 had one soft reboot")
        }
        XCTAssertTrue("\(error)".contains("no soft reboot 2"), "\(error)")
    }

    /// A host never armed: PID 1's "Soft-reboot finished …, counter is now
    /// at 1." (the startup-finished MESSAGE_ID, as systemd 257 writes it)
    /// makes the part of the boot an entry; the same line sent by a user's
    /// program counts for nothing.
    func testTheJournalAloneListsPidOnesSoftReboots() throws {
        let ended = JournalFixture.boot("7"), current = JournalFixture.boot("9")
        var journal = JournalFixture()
        journal.bootStart(ended, at: 0)
        // A user's flood of the startup-finished MESSAGE_ID must not push PID 1's line out of the window.
        for i in 0..<300 {
            journal.forged(boot: ended, second: 10 + Double(i) / 100, "Startup finished in 1s.",
                           ["SYSLOG_IDENTIFIER": "systemd", "MESSAGE_ID": MessageID.startupFinished])
        }
        // The soft reboot's own steps (shutdown.target, final.target): the boot went on.
        for (offset, target) in ["shutdown.target", "final.target"].enumerated() {
            journal.add(boot: ended, second: 40 + Double(offset), "Reached target \(target).",
                        ["SYSLOG_IDENTIFIER": "systemd", "UNIT": target, "MESSAGE_ID": "39f53479d3a045ac8e11786248231fbf"])
        }
        journal.add(boot: ended, second: 56, "Soft-reboot finished in 14.606s, counter is now at 1.",
                    ["SYSLOG_IDENTIFIER": "systemd", "MESSAGE_ID": MessageID.startupFinished, "USERSPACE_USEC": "14606827",
                     "_CMDLINE": "/usr/lib/systemd/systemd --switched-root --system --deserialize=12"])
        journal.forged(boot: ended, second: 70, "Soft-reboot finished in 1.000s, counter is now at 2.",
                       ["SYSLOG_IDENTIFIER": "systemd", "MESSAGE_ID": MessageID.startupFinished])
        journal.bootStart(current, at: 200)
        let dir = try temporaryDirectory("soft-reboot-journal")
        try journal.write(to: dir.appendingPathComponent("journal"))
        let locations = onlyThese(store: dir.appendingPathComponent("no-store").path, journal: dir.appendingPathComponent("journal").path)
        let host = HostEvidence(locations, current: JournalFixture.dashed(current), currentStart: nil)
        let ofBoot = LastReport.list(host: host, count: nil).filter { $0.bootID == JournalFixture.dashed(ended) }
        XCTAssertEqual(ofBoot.map(\.softReboots), [1, 0], "the forged 'counter is now at 2' is not a soft reboot")
        let part = try XCTUnwrap(ofBoot.last?.verdict)
        XCTAssertEqual(part.bootstat, "soft_reboot,graceful,")
        XCTAssertEqual(part.confidence, .medium)
        XCTAssertFalse(ofBoot[0].verdict?.reason.isOrderly ?? true,
                       "PID 1's steps of the soft reboot are not how the boot ended: \(ofBoot[0].verdict?.summary ?? "")")
        XCTAssertTrue(ofBoot[0].verdict?.evidence.contains { $0.excerpt.contains("counter is now at 2") } ?? false,
                      "the forged line is a finding: \(ofBoot[0].verdict?.evidence ?? [])")
        XCTAssertEqual(ofBoot.last?.lastSeen, Instant(microseconds: JournalFixture.epoch + 56_000_000 - 14_606_827).iso8601,
                       "the soft reboot began when the new userspace did")
        XCTAssertEqual(JournalSoftReboot.count(in: "Soft-reboot finished in 1s, counter is now at 12."), 12)
        for other in ["Startup finished in 1.2s (kernel) + 3s (userspace) = 4.2s.", "Soft-reboot finished in 1s, counter is now at x.",
                      "Soft-reboot finished in 1s, counter is now at 3. and more", "Soft-reboot finished in 1s, counter is now at 9999999999."] {
            XCTAssertNil(JournalSoftReboot.count(in: other), other)
        }
    }

    /// What a soft reboot leaves behind (wtmp's shutdown entry, audit's
    /// SYSTEM_SHUTDOWN, PID 1's shutdown.target) is not how the boot ended;
    /// a step that names an end is kept even where the clock was stepped
    /// back behind the soft reboot.
    func testWhatASoftRebootLeftBehindIsNotTheBootsEnd() {
        func at(_ second: Int64) -> Instant { Instant(seconds: 1_800_000_000 + second) }
        let soft = SoftReboot(number: 1, time: at(100).iso8601)
        var facts = BootFacts(bootID: boot)
        facts.wtmp = [WtmpEntry(kind: .shutdown, user: "shutdown", time: at(90).iso8601),
                      WtmpEntry(kind: .shutdown, user: "shutdown", time: at(500).iso8601)]
        facts.audit = [AuditEvent(type: "SYSTEM_SHUTDOWN", time: at(91), serial: 1, fields: [:], location: "audit.log:1"),
                       AuditEvent(type: "USER_CMD", time: at(92), serial: 2, fields: [:], location: "audit.log:2")]
        var journal = JournalBootFacts()
        journal.shutdown = [ShutdownStep(line: JournalLine(time: at(95).iso8601, unit: "shutdown.target", identifier: "systemd",
                                                           message: "Reached target shutdown.target."), action: nil),
                            ShutdownStep(line: JournalLine(time: at(60).iso8601, unit: "reboot.target", identifier: "systemd",
                                                           message: "Reached target reboot.target."), action: .restart)]
        facts.journal = journal
        FactGathering.setAsideSoftReboots([soft], &facts)
        XCTAssertEqual(facts.wtmp.map(\.time), [at(500).iso8601])
        XCTAssertEqual(facts.audit.map(\.type), ["USER_CMD"])
        XCTAssertEqual(facts.journal?.shutdown.map(\.line.unit), ["reboot.target"], "a step naming an end stays")
    }

    /// The store lost the exec record of the first soft reboot (and this
    /// systemd gave no count): PID 1's journal lines number them, and the
    /// store's re-exec is joined to the line of its own time.
    func testTheStoreAndTheJournalAreJoinedByTimeNotByNumber() throws {
        let ended = "5f1c2a9e0b7d4c3e9a112f6b8d4e7c01", current = JournalFixture.boot("9")
        func at(_ second: Double) -> String { Instant(microseconds: JournalFixture.epoch + Int64(second * 1_000_000)).iso8601 }
        var journal = JournalFixture()
        journal.bootStart(ended, at: 0)
        for (number, second) in [(1, 30.0), (2, 80.0)] {
            journal.add(boot: ended, second: second, "Soft-reboot finished in 10.000s, counter is now at \(number).",
                        ["SYSLOG_IDENTIFIER": "systemd", "MESSAGE_ID": MessageID.startupFinished, "USERSPACE_USEC": "10000000"])
        }
        journal.bootStart(current, at: 200)
        let dir = try temporaryDirectory("soft-reboot-join")
        try journal.write(to: dir.appendingPathComponent("journal"))
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("store"), withIntermediateDirectories: true)
        let store = try SlotStore(directory: dir.appendingPathComponent("store").path, size: 64 * 1024, create: true)
        var asked = record(.execIntent, pid: 292, comm: "systemctl", cmd: .softReboot, argv: "systemctl soft-reboot", second: 0)
        asked.time = at(60)
        var reexec = record(.execIntent, pid: 1, comm: "systemd", cmd: .softReboot, argv: Self.reexecArgv.joined(separator: " "), second: 0)
        reexec.time = at(70.5)
        var marker = StoreEntry.BootMarker(bootID: boot, time: at(5), kernel: "6.12.0", pid: 233)
        marker.softReboots = nil
        try store.append([.start(marker), .caller(asked), .caller(reexec)])
        let locations = onlyThese(store: dir.appendingPathComponent("store").path, journal: dir.appendingPathComponent("journal").path)
        let host = HostEvidence(locations, current: JournalFixture.dashed(current), currentStart: nil)
        let listed = try XCTUnwrap(host.timeline.boots.first { $0.id == boot })
        let soft = host.softReboots(of: listed)
        XCTAssertEqual(soft.map(\.number), [1, 2])
        XCTAssertNil(soft[0].reexec, "the first is the journal's alone")
        XCTAssertEqual(soft[1].reexec?.time, reexec.time)
        XCTAssertEqual(try LastReport.verdict(LastReport.Target("1/1")!, host: host).get().initiator?.pid, 292)
        XCTAssertEqual(try LastReport.verdict(LastReport.Target("1/0")!, host: host).get().bootstat, "soft_reboot,graceful,")
    }
}
