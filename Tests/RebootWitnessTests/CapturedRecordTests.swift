import CWitness
import WitnessArm
import WitnessReport
@testable import WitnessCapture
import WitnessSystem
import XCTest
import WitnessModel

final class CapturedRecordTests: XCTestCase {
    /// Writes `text` NUL-terminated into slot `index` of a fixed 2-D char array.
    static func put<T>(_ text: String, into value: inout T, slot: Int = 0, width: Int) {
        withUnsafeMutableBytes(of: &value) { raw in
            let bytes = Array(text.utf8.prefix(width - 1)) + [0]
            for (i, byte) in bytes.enumerated() { raw[slot * width + i] = byte }
        }
    }

    static func sampleRecord() -> rw_record {
        var r = rw_record()
        r.version = UInt16(RW_RECORD_VERSION)
        r.probe = UInt16(RW_PROBE_KERNEL_RESTART.rawValue)
        r.attach = UInt16(RW_ATTACH_KPROBE.rawValue)
        r.flags = UInt16(RW_F_LOGINUID_SET.rawValue | RW_F_HAS_ARG.rawValue | RW_F_INIT_PID_NS.rawValue)
        r.pid = 812; r.tid = 813; r.ppid = 700; r.uid = 0; r.loginuid = 1000; r.sessionid = 0xFFFF_FFFF
        Self.put("reboot", into: &r.comm, width: Int(RW_COMM_LEN))
        Self.put("now-please", into: &r.arg, width: Int(RW_ARG_LEN))
        let name = Int(RW_NAME_LEN)
        Self.put("reboot", into: &r.exe, slot: 0, width: name)   // leaf first
        Self.put("sbin", into: &r.exe, slot: 1, width: name)
        Self.put("usr", into: &r.exe, slot: 2, width: name)
        r.exe_depth = 3
        Self.put("session-3.scope", into: &r.cgroup, slot: 0, width: name)
        Self.put("user-1000.slice", into: &r.cgroup, slot: 1, width: name)
        Self.put("user.slice", into: &r.cgroup, slot: 2, width: name)
        r.cgroup_depth = 3
        withUnsafeMutableBytes(of: &r.ancestry) { raw in
            for (index, (pid, comm)) in [(UInt32(700), "bash"), (650, "sshd"), (1, "systemd")].enumerated() {
                var entry = rw_ancestor()
                entry.pid = pid
                Self.put(comm, into: &entry.comm, width: Int(RW_COMM_LEN))
                raw.storeBytes(of: entry, toByteOffset: index * MemoryLayout<rw_ancestor>.stride, as: rw_ancestor.self)
            }
        }
        r.ancestry_len = 3
        r.kstack.0 = 0xffff_ffff_8100_1000
        r.kstack.1 = 0xffff_ffff_8100_2000
        r.stack_bytes = 16
        return r
    }

    func testDecodesPathsOptionalsAndAncestry() {
        let record = CapturedRecord(Self.sampleRecord())
        XCTAssertEqual(record.probePoint?.name, "kernel_restart")
        XCTAssertEqual(record.attach, .kprobe)
        XCTAssertEqual(record.exe, "/usr/sbin/reboot")
        XCTAssertEqual(record.cgroupPath, "/user.slice/user-1000.slice/session-3.scope")
        XCTAssertEqual(record.loginuid, 1000)
        XCTAssertNil(record.sessionid, "sessionid flag not set: must decode as unset")
        XCTAssertEqual(record.argument, "now-please")
        XCTAssertTrue(record.inInitPidNamespace)
        XCTAssertEqual(record.ancestry.map(\.pid), [700, 650, 1])
        XCTAssertEqual(record.ancestry.map(\.comm), ["bash", "sshd", "systemd"])
        XCTAssertEqual(record.kernelStack, [0xffff_ffff_8100_1000, 0xffff_ffff_8100_2000])
    }

    func testResolverNamesCommandAndSymbolizesFromKallsyms() throws {
        let kallsyms = FileManager.default.temporaryDirectory.appendingPathComponent("kallsyms-\(getpid())")
        try """
            ffffffff81000000 T _stext
            ffffffff81001000 T kernel_restart
            ffffffff81001f00 t helper
            ffffffff81002000 T __do_sys_reboot
            """.write(to: kallsyms, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: kallsyms) }
        let resolver = RecordResolver(bootID: "boot-1", symbols: KernelSymbols(path: kallsyms.path))
        var raw = Self.sampleRecord()
        raw.kstack.1 = 0xffff_ffff_8100_2010
        let record = resolver.resolve(CapturedRecord(raw))
        XCTAssertEqual(record.cmd, .restart2, "kernel_restart with a command string")
        XCTAssertEqual(record.kernelStack, ["kernel_restart+0x0", "__do_sys_reboot+0x10"])
        XCTAssertEqual(record.user, "root")
        XCTAssertEqual(record.bootID, "boot-1")
        XCTAssertEqual(record.context, "process")
    }

    func testRebootCommandNames() {
        XCTAssertEqual(RebootCommand.action(magic1: 0xFEE1DEAD, magic2: 672_274_793, command: 0x0123_4567), .restart)
        XCTAssertEqual(RebootCommand.action(magic1: 0xFEE1DEAD, magic2: 85_072_278, command: 0xA1B2_C3D4), .restart2)
        XCTAssertEqual(RebootCommand.action(magic1: 0xFEE1DEAD, magic2: 369_367_448, command: 0x4321_FEDC), .powerOff)
        XCTAssertEqual(RebootCommand.action(magic1: 0xFEE1DEAD, magic2: 537_993_216, command: 0), .cadOff)
        XCTAssertEqual(RebootCommand.action(magic1: 0xDEADBEEF, magic2: 672_274_793, command: 0x0123_4567), .invalid)
        XCTAssertEqual(RebootCommand.action(magic1: 0xFEE1DEAD, magic2: 1, command: 0x0123_4567), .invalid)
        XCTAssertEqual(RebootCommand.action(magic1: 0xFEE1DEAD, magic2: 672_274_793, command: 42), .invalid)
    }

    func testWallClockFormat() {
        XCTAssertEqual(WallClock.iso8601(realtimeNanoseconds: 1_743_748_835_979_000_000), "2025-04-04T06:40:35.979Z")
    }
}

final class KernelSymbolsTests: XCTestCase {
    func testFentryStacksStartAtTheProbedFunctionAndModulesAreNamed() throws {
        let kallsyms = FileManager.default.temporaryDirectory.appendingPathComponent("kallsyms-bpf-\(getpid())")
        try "ffffffffa0000000 t bpf_prog_422b_rw_capture\t[bpf]\nffffffffa0001000 t bpf_trampoline_6442\t[bpf]\n"
            .appending("ffffffff81001000 T reboot_pid_ns\nffffffff81002000 T __do_sys_reboot\n")
            .appending("ffffffffc0000000 t softdog_fire\t[softdog]\n")
            .write(to: kallsyms, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: kallsyms) }
        let symbols = KernelSymbols(path: kallsyms.path)
        XCTAssertEqual(symbols.symbolize([0xffff_ffff_a000_07e2, 0xffff_ffff_a000_1044, 0xffff_ffff_8100_1005,
                                          0xffff_ffff_8100_20a0]),
                       ["reboot_pid_ns+0x5", "__do_sys_reboot+0xa0"])
        XCTAssertEqual(symbols.symbolize([0xffff_ffff_c000_0010]), ["softdog_fire+0x10 [softdog]"])
    }
}

final class HoldAllowlistTests: XCTestCase {
    /// The kernel compares MKDEV(major, minor) = major << 20 | minor; stat(2)
    /// gives glibc's encoding. Both must name the same device.
    func testDeviceNumbersConvertToTheKernelEncoding() {
        // st_rdev of well-known character devices is in glibc's encoding.
        for (path, major, minor) in [("/dev/null", UInt32(1), UInt32(3)), ("/dev/zero", 1, 5), ("/dev/tty", 5, 0)] {
            var st = stat()
            XCTAssertEqual(stat(path, &st), 0, path)
            XCTAssertEqual(HoldAllowlist.kernelDevice(UInt64(st.st_rdev)), major << 20 | minor, path)
        }
        // glibc splits large minors: bits 8..19 of the minor live at 20..31.
        XCTAssertEqual(HoldAllowlist.kernelDevice(0x1111_0370), (259 << 20) | 70_000)  // makedev(259, 70000)
    }
}
