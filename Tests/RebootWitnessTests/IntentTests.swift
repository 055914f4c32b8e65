import Foundation
import WitnessArm
import WitnessReport
@testable import WitnessAttribution
import WitnessCapture
import WitnessStore
import WitnessSystem
import XCTest
import WitnessModel

final class IntentFilterTests: XCTestCase {
    func testWhichCommandLinesAreIntents() {
        let cases: [([String], RebootAction?)] = [
            (["reboot"], .restart), (["/sbin/reboot", "-f"], .restart), (["reboot", "--help"], nil),
            (["reboot", "-w"], nil), (["poweroff"], .powerOff), (["halt"], .halt), (["halt", "-p"], .powerOff),
            (["shutdown", "-r", "now"], .restart), (["shutdown", "now"], .powerOff), (["shutdown", "-h", "+5"], .powerOff),
            (["shutdown", "-H", "now"], .halt), (["shutdown", "-c"], nil), (["shutdown", "-k", "now"], nil),
            (["systemctl", "reboot"], .restart), (["systemctl", "--force", "reboot"], .restart),
            (["systemctl", "reboot", "--help"], nil), (["systemctl", "status"], nil), (["systemctl"], nil),
            (["systemctl", "poweroff", "-i"], .powerOff), (["systemctl", "kexec"], .kexec),
            (["systemctl", "start", "reboot.target"], .restart), (["systemctl", "isolate", "poweroff.target"], .powerOff),
            (["systemctl", "start", "nginx.service"], nil), (["systemctl", "restart", "sshd"], nil),
            (["init", "6"], .restart), (["telinit", "0"], .powerOff), (["init", "3"], nil), (["init"], nil),
            (["kexec", "-e"], .kexec), (["kexec", "-l", "/boot/vmlinuz"], .kexecLoad),
            (["kexec", "-s", "-l", "/boot/vmlinuz", "--reuse-cmdline"], .kexecLoad), (["kexec", "-p", "/boot/vmlinuz"], nil),
            (["kexec", "-l", "-p", "/boot/vmlinuz"], nil), (["kexec", "-u"], nil),
            (["busctl", "call", "org.freedesktop.login1", "/org/freedesktop/login1", "org.freedesktop.login1.Manager", "Reboot", "b", "false"], .restart),
            (["dbus-send", "--system", "--print-reply", "--dest=org.freedesktop.login1", "/org/freedesktop/login1",
              "org.freedesktop.login1.Manager.PowerOff", "boolean:true"], .powerOff),
            (["busctl", "call", "org.freedesktop.systemd1", "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
              "StartUnit", "ss", "\"reboot.target\"", "replace-irreversibly"], .restart),
            (["busctl", "list"], nil),
            (["/usr/lib/systemd/systemd-shutdown", "reboot", "--timeout", "90000000us"], .restart),
        ]
        for (argv, expected) in cases {
            XCTAssertEqual(IntentFilter.action(argv: argv), expected, argv.joined(separator: " "))
        }
    }

    /// systemd 254+: `systemctl soft-reboot` and `systemctl kexec` reach logind
    /// as RebootWithFlags with a flag, not as a method of their own; a soft
    /// reboot ends no boot (the kernel and the boot id stay).
    func testASoftRebootIsItsOwnRequestAndNotARestart() {
        XCTAssertEqual(IntentFilter.action(argv: ["systemctl", "soft-reboot"]), .softReboot)
        XCTAssertEqual(IntentFilter.action(argv: ["systemctl", "start", "soft-reboot.target"]), .softReboot)
        XCTAssertEqual(IntentFilter.action(argv: ["busctl", "call", "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                                  "org.freedesktop.systemd1.Manager", "SoftReboot", "s", "\"\""]), .softReboot)
        let logind = "org.freedesktop.login1.Manager"
        let cases: [(String, UInt64?, RebootAction)] = [
            ("RebootWithFlags", 1 << 2, .softReboot), ("RebootWithFlags", 1 << 3, .softReboot),
            ("RebootWithFlags", 1 << 1, .kexec), ("RebootWithFlags", 0, .restart), ("RebootWithFlags", 1, .restart),
            ("Reboot", nil, .restart),
        ]
        for (member, flags, expected) in cases {
            XCTAssertEqual(IntentFilter.busAction(interface: logind, member: member, arg0: "", flags: flags), expected, "\(member) \(flags ?? 0)")
        }
        XCTAssertEqual(IntentFilter.busAction(interface: "org.freedesktop.systemd1.Manager", member: "SoftReboot", arg0: ""), .softReboot)
        XCTAssertEqual(IntentFilter.busAction(interface: "org.freedesktop.systemd1.Manager", member: "StartUnit",
                                              arg0: "soft-reboot.target"), .softReboot)
        XCTAssertFalse(RebootAction.softReboot.stops)
        XCTAssertNil(Verdict.Reason(command: .softReboot), "a soft reboot is not how a boot ends")
    }
}

final class SSHPeerTests: XCTestCase {
    func testEnvironmentAndSocketTables() {
        let environ = Array("HOME=/root\0SSH_CONNECTION=10.10.10.34 51234 10.0.0.5 22\0TERM=xterm\0".utf8)
        XCTAssertEqual(SSHPeer.fromEnvironment(environ), "10.10.10.34:51234")
        XCTAssertNil(SSHPeer.fromEnvironment(Array("HOME=/root\0".utf8)))
        let tcp = """
          sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0000000000000000 100 0 0 10 0
           1: 0500000A:0016 220A0A0A:C822 01 00000000:00000000 02:0009F1A4 00000000     0        0 2222 2 0000000000000000 20 4 31 10 -1
        """
        XCTAssertEqual(SSHPeer.peer(inTable: tcp, inodes: ["2222"]), "10.10.10.34:51234")
        XCTAssertNil(SSHPeer.peer(inTable: tcp, inodes: ["1111"]), "a listening socket is nobody's peer")
        XCTAssertEqual(SSHPeer.decodeAddress("0000000000000000FFFF00000100007F"), "127.0.0.1")
        XCTAssertEqual(SSHPeer.decodeAddress("B80D0120000000000000000001000000"), "2001:db8:0:0:0:0:0:1")
    }
}

final class InitiatorLinkTests: XCTestCase {
    func record(probe: ProbeID, pid: UInt32, comm: String, cmd: RebootAction?, argv: String? = nil, time: String) -> CallerRecord {
        CallerRecord(bootID: "b1", time: time, probe: probe, attach: "tracepoint", cmd: cmd, cmdArg: argv, magic1: nil,
                     magic2: nil, retval: nil, pid: pid, tid: pid, ppid: 1, comm: comm, exe: "/bin/\(comm)", uid: 0,
                     user: "root", gid: 0, euid: 0, loginuid: 1000, loginUser: "alice", sessionid: 3, tty: "pts0",
                     cgroup: "/user.slice", cgroupID: 1, cgroupV1: false, container: nil, podUID: nil, pidNs: 1,
                     inInitPidNs: true, ancestry: [], kernelStack: [], context: "process", count: 1)
    }

    func testPidOnesRebootIsLinkedToTheLastIntent() {
        var intent = record(probe: "sched_process_exec", pid: 4242, comm: "systemctl", cmd: .restart,
                            argv: "systemctl reboot", time: "2026-01-01T00:00:01.000Z")
        intent.sshPeer = "10.10.10.34:51234"
        let shutdown = record(probe: "sys_enter_reboot", pid: 1, comm: "systemd-shutdow", cmd: .restart, time: "2026-01-01T00:00:09.000Z")
        let other = record(probe: "sys_enter_reboot", pid: 77, comm: "reboot", cmd: .restart, time: "2026-01-01T00:00:10.000Z")
        let report = DumpReport(contents: StoreContents(entries: [.caller(intent), .caller(shutdown), .caller(other)], skipped: 0),
                                selection: .all, currentBoot: "b2")
        let linked = report.items.map(\.record)
        XCTAssertEqual(linked[1].initiator?.pid, 4242)
        XCTAssertEqual(linked[1].initiator?.argv, "systemctl reboot")
        XCTAssertEqual(linked[1].initiator?.sshPeer, "10.10.10.34:51234")
        XCTAssertEqual(linked[1].initiator?.loginUser, "alice")
        XCTAssertNil(linked[2].initiator, "only PID 1's call is a graceful reboot's end")
        XCTAssertTrue(RecordFormatter.human(linked[1]).contains("initiated by systemctl[4242] \"systemctl reboot\""))
        let json = RecordFormatter.json(linked[1])
        XCTAssertTrue(json.contains("\"initiator\":{"), json)
    }

    /// [alice soft-reboots at 10:00; at 11:00 PID 1 reboots for a reason no
    /// intent names]: alice asked for something else, and is not named.
    func testASoftRebootsRequesterIsNotNamedForALaterReboot() {
        let soft = record(probe: "sched_process_exec", pid: 4242, comm: "systemctl", cmd: .softReboot,
                          argv: "systemctl soft-reboot", time: "2026-01-01T10:00:00.000Z")
        let call = record(probe: "sys_enter_reboot", pid: 1, comm: "systemd-shutdow", cmd: .restart, time: "2026-01-01T11:00:00.000Z")
        XCTAssertNil(CallerRecord.initiatingIntent(in: [soft, call], before: call.time))
        let report = DumpReport(contents: StoreContents(entries: [.caller(soft), .caller(call)], skipped: 0), selection: .all, currentBoot: "b2")
        XCTAssertNil(report.items.map(\.record)[1].initiator)
    }

    /// [a D-Bus call whose sender was gone before it was named, and the
    /// intent logind relayed for it]: `dump` used to name logind and `last`
    /// "(sender gone)". One rule now: someone asked directly, unnamed, which
    /// is truer than naming the system that relayed it; both readers say so.
    func testDumpAndLastNameTheSameInitiator() {
        let gone = record(probe: .dbus, pid: 0, comm: "(sender gone)", cmd: .restart,
                          argv: "org.freedesktop.login1.Manager.Reboot from :1.99", time: "2026-01-01T00:00:00.800Z")
        var relayed = record(probe: .dbus, pid: 612, comm: "systemd-logind", cmd: .restart,
                             argv: "org.freedesktop.systemd1.Manager.StartUnit reboot.target", time: "2026-01-01T00:00:01.000Z")
        relayed.cgroup = "/system.slice/systemd-logind.service"
        relayed.loginuid = nil; relayed.loginUser = nil  // a system service: no login session
        let shutdown = record(probe: .sysEnterReboot, pid: 1, comm: "systemd-shutdow", cmd: .restart, time: "2026-01-01T00:00:09.000Z")
        let contents = StoreContents(entries: [.caller(gone), .caller(relayed), .caller(shutdown)], skipped: 0)
        let dumped = DumpReport(contents: contents, selection: .all, currentBoot: "b2").items.map(\.record)
        XCTAssertEqual(dumped[2].initiator?.comm, "(sender gone)")
        var facts = BootFacts(bootID: "b1")
        facts.records = [gone, relayed, shutdown]
        let verdict = VerdictEngine.decide(facts)
        XCTAssertEqual(verdict.initiator?.comm, dumped[2].initiator?.comm, verdict.summary)
        XCTAssertEqual(CallerRecord.initiatingIntent(in: [gone, relayed], before: shutdown.time)?.pid, 0)
        // A named direct caller still wins over both.
        let named = record(probe: .execIntent, pid: 4242, comm: "systemctl", cmd: .restart, argv: "systemctl reboot",
                           time: "2026-01-01T00:00:00.500Z")
        XCTAssertEqual(CallerRecord.initiatingIntent(in: [named, gone, relayed], before: shutdown.time)?.pid, 4242)
    }

    /// [mallory, a user on the host, names her process "systemd-logind"
    /// (prctl) and asks for the reboot herself]: a relay is logind by what
    /// the kernel says of it (root, logind's unit or binary), not by its
    /// comm, so she is named, not passed over as the system's relay.
    func testAProcessCallingItselfLogindIsNotTakenForLogindsRelay() {
        var mallory = record(probe: .dbus, pid: 5150, comm: "systemd-logind", cmd: .restart,
                             argv: "org.freedesktop.login1.Manager.Reboot from :1.77", time: "2026-01-01T00:00:01.000Z")
        mallory.uid = 1000; mallory.euid = 1000; mallory.user = "mallory"
        mallory.exe = "/home/mallory/systemd-logind"
        mallory.cgroup = "/user.slice/user-1000.slice/session-4.scope"
        var logind = record(probe: .dbus, pid: 612, comm: "systemd-logind", cmd: .restart,
                            argv: "org.freedesktop.systemd1.Manager.StartUnit reboot.target from :1.2", time: "2026-01-01T00:00:02.000Z")
        logind.exe = "/usr/lib/systemd/systemd-logind"
        logind.cgroup = "/system.slice/systemd-logind.service"
        logind.loginuid = nil; logind.loginUser = nil
        let shutdown = record(probe: .sysEnterReboot, pid: 1, comm: "systemd-shutdow", cmd: .restart, time: "2026-01-01T00:00:09.000Z")
        XCTAssertFalse(mallory.isRelayedIntent)
        XCTAssertTrue(logind.isRelayedIntent)
        XCTAssertEqual(CallerRecord.initiatingIntent(in: [mallory, logind], before: shutdown.time)?.pid, 5150)
        // Seen from inside a cgroup namespace (a pod) the path starts with "..": still logind's unit.
        logind.cgroup = "/../../system.slice/systemd-logind.service"
        XCTAssertTrue(logind.isRelayedIntent)
        // Where no cgroup is known (a cgroup v1 host's sender) logind's binary says it; root in a container is not logind.
        logind.cgroup = nil
        XCTAssertTrue(logind.isRelayedIntent)
        logind.container = ContainerID(runtime: "docker", id: String(repeating: "ab", count: 32))
        XCTAssertFalse(logind.isRelayedIntent)
        // An admin's `sudo reboot` from a cgroup she named after logind's unit in her own user@.service:
        // root, but her login uid stays, and the unit is not system.slice's.
        var admin = mallory
        admin.uid = 0; admin.euid = 0; admin.loginuid = 1000
        admin.exe = "/usr/bin/systemctl"
        admin.cgroup = "/user.slice/user-1000.slice/user@1000.service/app.slice/systemd-logind.service"
        XCTAssertFalse(admin.isRelayedIntent)
        admin.loginuid = nil
        XCTAssertFalse(admin.isRelayedIntent, "a leaf named like logind's unit is not logind's unit")
        // A sender gone before /proc was read (no executable) is no one's service.
        var gone = logind
        gone.container = nil; gone.cgroup = nil; gone.exe = nil
        XCTAssertFalse(gone.isRelayedIntent)
    }

    /// [alice asks for a reboot and is refused; then root, to blame her,
    /// moves a process into logind's cgroup, drops its login uid and asks
    /// systemd for reboot.target itself]: every fact /proc gives says
    /// "logind", but the bus says another connection owns logind's name, so
    /// root's call is its own and it is named, not alice.
    func testRootPosingAsLogindIsNamedWhenTheBusSaysLogindsNameIsAnothers() {
        var alice = record(probe: .execIntent, pid: 3100, comm: "systemctl", cmd: .restart, argv: "systemctl reboot",
                           time: "2026-01-01T00:00:01.000Z")
        alice.uid = 1000; alice.euid = 1000; alice.loginuid = 1000; alice.user = "alice"
        var impostor = record(probe: .dbus, pid: 6660, comm: "busctl", cmd: .restart,
                              argv: "org.freedesktop.systemd1.Manager.StartUnit reboot.target from :1.66",
                              time: "2026-01-01T00:00:05.000Z")
        impostor.exe = "/usr/bin/busctl"
        impostor.cgroup = "/system.slice/systemd-logind.service"
        impostor.loginuid = nil; impostor.loginUser = nil
        let shutdown = record(probe: .sysEnterReboot, pid: 1, comm: "systemd-shutdow", cmd: .restart, time: "2026-01-01T00:00:09.000Z")
        // What /proc alone tells (and records of earlier builds, which never asked the bus): a relay.
        XCTAssertTrue(impostor.isRelayedIntent)
        XCTAssertEqual(CallerRecord.initiatingIntent(in: [alice, impostor], before: shutdown.time)?.pid, 3100)
        impostor.senderOwnsLogin1 = false
        XCTAssertFalse(impostor.isRelayedIntent)
        XCTAssertEqual(CallerRecord.initiatingIntent(in: [alice, impostor], before: shutdown.time)?.pid, 6660)
        // busctl's own exec from logind's cgroup (a StartUnit reboot.target command line) is its request too, never a relay.
        var exec = impostor
        exec.probe = .execIntent; exec.senderOwnsLogin1 = nil; exec.time = "2026-01-01T00:00:04.990Z"
        exec.cmdArg = "busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager StartUnit ss reboot.target replace-irreversibly"
        XCTAssertFalse(exec.isRelayedIntent)
        XCTAssertEqual(CallerRecord.initiatingIntent(in: [alice, exec, impostor], before: shutdown.time, ending: .restart)?.pid, 6660)
        // The real logind, vouched for by the bus, is still the relay; the bus alone never makes one.
        var logind = impostor
        logind.pid = 612; logind.comm = "systemd-logind"; logind.exe = "/usr/lib/systemd/systemd-logind"
        logind.senderOwnsLogin1 = true
        XCTAssertTrue(logind.isRelayedIntent)
        logind.cgroup = "/user.slice/user-1000.slice/session-4.scope"
        XCTAssertFalse(logind.isRelayedIntent)
    }

    /// [root's `systemctl reboot`, accepted: logind passes it on to systemd;
    /// then, while the units stop, bob's `systemctl reboot` (refused)]: the
    /// job was queued by logind's relay, so bob, who asked after it, is not
    /// named for the reboot. Without a relay (no D-Bus monitor) the last
    /// direct request is all there is to go on.
    func testARequestMadeAfterLogindPassedOneOnIsNotNamedForIt() {
        let root = record(probe: .execIntent, pid: 4242, comm: "systemctl", cmd: .restart, argv: "systemctl reboot",
                          time: "2026-01-01T00:00:01.000Z")
        var rootsCall = record(probe: .dbus, pid: 4242, comm: "systemctl", cmd: .restart,
                               argv: "org.freedesktop.login1.Manager.RebootWithFlags flags 0x0 from :1.40", time: "2026-01-01T00:00:01.010Z")
        rootsCall.senderOwnsLogin1 = false
        let relay = logindRelay(.restart, "reboot.target", time: "2026-01-01T00:00:01.020Z")
        var bob = record(probe: .execIntent, pid: 5151, comm: "systemctl", cmd: .restart, argv: "systemctl reboot",
                         time: "2026-01-01T00:00:03.000Z")
        bob.uid = 1001; bob.euid = 1001; bob.loginuid = 1001; bob.user = "bob"
        let end = "2026-01-01T00:00:09.000Z"
        XCTAssertEqual(CallerRecord.initiatingIntent(in: [root, rootsCall, relay, bob], before: end, ending: .restart)?.pid, 4242)
        XCTAssertEqual(CallerRecord.initiatingIntent(in: [root, bob], before: end, ending: .restart)?.pid, 5151)
        // A relay the bus did not vouch for (or an earlier build's record) bounds nothing: bob's request stays the last one.
        var unvouched = relay
        unvouched.senderOwnsLogin1 = nil
        XCTAssertEqual(CallerRecord.initiatingIntent(in: [root, rootsCall, unvouched, bob], before: end, ending: .restart)?.pid, 5151)
    }

    /// [alice's `systemctl poweroff`, relayed; a unit hangs; root's `systemctl
    /// reboot -f` straight to PID 1, which restarts]: the poweroff relay does
    /// not bound a restart, root is named. [a relayed reboot cancelled, then
    /// carol's, relayed too]: the last relay bounds, carol is named.
    func testOnlyTheLastRelayOfTheEndingsOwnActionBoundsTheRequests() {
        var alice = record(probe: .execIntent, pid: 3100, comm: "systemctl", cmd: .powerOff, argv: "systemctl poweroff",
                           time: "2026-01-01T00:00:01.000Z")
        alice.user = "alice"
        let poweroff = logindRelay(.powerOff, "poweroff.target", time: "2026-01-01T00:00:01.020Z")
        let root = record(probe: .execIntent, pid: 4242, comm: "systemctl", cmd: .restart, argv: "systemctl reboot -f",
                          time: "2026-01-01T00:00:30.000Z")
        XCTAssertEqual(CallerRecord.initiatingIntent(in: [alice, poweroff, root], before: "2026-01-01T00:00:31.000Z", ending: .restart)?.pid, 4242)
        let first = logindRelay(.restart, "reboot.target", time: "2026-01-01T00:00:01.020Z")
        let carol = record(probe: .execIntent, pid: 5252, comm: "systemctl", cmd: .restart, argv: "systemctl reboot",
                           time: "2026-01-01T00:00:40.000Z")
        let again = logindRelay(.restart, "reboot.target", time: "2026-01-01T00:00:40.020Z")
        let bob = record(probe: .execIntent, pid: 5151, comm: "systemctl", cmd: .restart, argv: "systemctl reboot",
                         time: "2026-01-01T00:00:41.000Z")
        XCTAssertEqual(CallerRecord.initiatingIntent(in: [root, first, carol, again, bob], before: "2026-01-01T00:00:50.000Z",
                                                     ending: .restart)?.pid, 5252)
    }

    /// [root's `systemctl reboot firmware-update`, accepted; bob's refused
    /// request while the units stop; systemd-shutdown restarts with the
    /// argument: RESTART2]: logind's reboot.target relay bounds a RESTART2
    /// as a RESTART, root is named. [the witness stopped before PID 1's
    /// last call]: the end is unknown, the last vouched relay bounds.
    func testLogindsRelayBoundsARestartWithAnArgumentAndAnEndNotSeen() {
        let root = record(probe: .execIntent, pid: 4242, comm: "systemctl", cmd: .restart2,
                          argv: "systemctl reboot firmware-update", time: "2026-01-01T00:00:01.000Z")
        let relay = logindRelay(.restart, "reboot.target", time: "2026-01-01T00:00:01.020Z")
        var bob = record(probe: .execIntent, pid: 5151, comm: "systemctl", cmd: .restart, argv: "systemctl reboot",
                         time: "2026-01-01T00:00:03.000Z")
        bob.user = "bob"
        let end = "2026-01-01T00:00:09.000Z"
        XCTAssertEqual(CallerRecord.initiatingIntent(in: [root, relay, bob], before: end, ending: .restart2)?.pid, 4242)
        XCTAssertEqual(CallerRecord.initiatingIntent(in: [root, relay, bob], before: end)?.pid, 4242)
        XCTAssertEqual(CallerRecord.initiatingIntent(in: [root, relay, bob], before: end, ending: .powerOff)?.pid, 5151,
                       "a reboot relay does not bound a power-off")
        XCTAssertTrue(RebootAction.restart2.endsAlike(.restart))
        XCTAssertFalse(RebootAction.restart.endsAlike(.kexec))
    }

    /// logind asking systemd to start `target`, as the bus vouches for it.
    func logindRelay(_ cmd: RebootAction, _ target: String, time: String) -> CallerRecord {
        var relay = record(probe: .dbus, pid: 612, comm: "systemd-logind", cmd: cmd,
                           argv: "org.freedesktop.systemd1.Manager.StartUnit \(target) from :1.2", time: time)
        relay.exe = "/usr/lib/systemd/systemd-logind"; relay.cgroup = "/system.slice/systemd-logind.service"
        relay.loginuid = nil; relay.loginUser = nil; relay.senderOwnsLogin1 = true
        return relay
    }
}
