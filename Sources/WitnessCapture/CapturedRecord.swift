import BPFObjects
import WitnessModel
import CWitness
import WitnessSystem

/// One `rw_record` decoded from the ring buffer: strings terminated, paths
/// joined, flags turned into optionals. No lookups happen here.
public struct CapturedRecord: Sendable, Equatable {
    public var probe: UInt16
    public var attach: AttachMode?
    public var bootNanoseconds: UInt64
    public var pid: UInt32
    public var tid: UInt32
    public var ppid: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var euid: UInt32
    public var loginuid: UInt32?
    public var sessionid: UInt32?
    public var comm: String
    public var exe: String?
    public var exeTruncated: Bool
    public var tty: String?
    public var cgroupID: UInt64
    public var cgroupV1ID: UInt64?
    public var cgroupPath: String
    public var cgroupIsV1: Bool
    public var pidNamespace: UInt32
    public var inInitPidNamespace: Bool
    public var magic1: UInt32
    public var magic2: UInt32
    public var command: UInt32
    public var argument: String?
    /// An exec intent's argv (NUL-separated in the kernel's copy), and
    /// whether it was longer than the record keeps.
    public var argv: [String]?
    public var argumentTruncated: Bool
    public var argumentInt: UInt32
    public var returnValue: Int64?
    /// The kernel denied this reboot(2) so the controller can replay it once
    /// the record is durable.
    public var held: Bool
    /// The caller waits in the kernel until `WitnessProbes.acknowledgeFinal`.
    public var finalWait: Bool
    /// Parent first: (tgid, comm).
    public var ancestry: [(pid: UInt32, comm: String)]
    /// Raw kernel addresses, innermost first; symbolize in the same boot.
    public var kernelStack: [UInt64]
    public var stackError: Int32?

    public var probePoint: ProbePoint? { ProbeCatalog.point(probe: probe) }

    public init(_ r: rw_record) {
        var r = r
        let flags = UInt32(r.flags)
        func has(_ flag: rw_flags) -> Bool { flags & flag.rawValue != 0 }

        probe = r.probe
        attach = AttachMode(raw: r.attach)
        bootNanoseconds = r.boot_ns
        pid = r.pid
        tid = r.tid
        ppid = r.ppid
        uid = r.uid
        gid = r.gid
        euid = r.euid
        loginuid = has(RW_F_LOGINUID_SET) ? r.loginuid : nil
        sessionid = has(RW_F_SESSIONID_SET) ? r.sessionid : nil
        comm = CString.decode(&r.comm)
        let exeParts = CString.decodeSlots(&r.exe, slot: Int(RW_NAME_LEN), count: Int(r.exe_depth))
        exe = exeParts.isEmpty ? nil : "/" + exeParts.reversed().joined(separator: "/")
        exeTruncated = has(RW_F_EXE_TRUNCATED)
        let ttyName = CString.decode(&r.tty)
        tty = ttyName.isEmpty ? nil : ttyName
        cgroupID = r.cgroup_id
        cgroupIsV1 = has(RW_F_CGROUP_V1)
        cgroupV1ID = cgroupIsV1 ? r.cgroup_v1_id : nil
        let cgroupParts = CString.decodeSlots(&r.cgroup, slot: Int(RW_NAME_LEN), count: Int(r.cgroup_depth))
        cgroupPath = "/" + cgroupParts.reversed().joined(separator: "/")
        pidNamespace = r.pid_ns
        inInitPidNamespace = has(RW_F_INIT_PID_NS)
        magic1 = r.magic1
        magic2 = r.magic2
        command = r.cmd
        // Trailing newlines are how shells write to /proc files, not content.
        argumentTruncated = has(RW_F_ARG_TRUNCATED)
        if r.probe == UInt16(RW_PROBE_EXEC_INTENT.rawValue) && has(RW_F_HAS_ARG) {
            let length = min(Int(r.arg_int), Int(RW_ARG_LEN) - 1)
            argv = withUnsafeBytes(of: &r.arg) { raw in
                raw.prefix(length).split(separator: 0, omittingEmptySubsequences: false)
                    .map { String(decoding: $0, as: UTF8.self) }
            }.reversed().drop { $0.isEmpty }.reversed()
        } else {
            argv = nil
        }
        argument = has(RW_F_HAS_ARG) ? String(CString.decode(&r.arg).reversed().drop { $0 == "\n" }.reversed()) : nil
        argumentInt = r.arg_int
        returnValue = has(RW_F_HAS_RETVAL) ? r.retval : nil
        held = has(RW_F_HELD)
        finalWait = has(RW_F_FINAL_WAIT)
        let count = min(Int(r.ancestry_len), Int(RW_ANCESTRY))
        ancestry = withUnsafeBytes(of: &r.ancestry) { raw in
            (0..<count).map { index in
                let base = index * MemoryLayout<rw_ancestor>.stride
                let entry = raw.loadUnaligned(fromByteOffset: base, as: rw_ancestor.self)
                var name = entry.comm
                return (entry.pid, CString.decode(&name))
            }
        }
        if r.stack_bytes >= 0 {
            let frames = min(Int(r.stack_bytes) / 8, Int(RW_STACK_DEPTH))
            kernelStack = withUnsafeBytes(of: &r.kstack) { raw in
                (0..<frames).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self) }
            }
            stackError = nil
        } else {
            kernelStack = []
            stackError = r.stack_bytes
        }
    }

    public static func == (a: CapturedRecord, b: CapturedRecord) -> Bool {
        a.probe == b.probe && a.bootNanoseconds == b.bootNanoseconds && a.tid == b.tid
    }
}
