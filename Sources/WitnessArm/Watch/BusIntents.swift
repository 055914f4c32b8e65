import WitnessReport
import CSystemd
import SystemPackage
import WitnessAttribution
import WitnessCapture
import WitnessStore
import WitnessSystem
import WitnessModel

/// Intents that arrive over D-Bus: the calls to logind and systemd that
/// restart, halt, power off or kexec the machine (`systemctl reboot` from a
/// daemon's library, a privileged container talking to the host's bus…),
/// seen by an sd-bus monitor, attributed from /proc while the sender lives.
public final class BusIntents {
    private let monitor: OpaquePointer
    public let address: String
    private let bootID: String

    /// A monitor on `address` (nil: the system bus), or why there is none.
    public static func open(address: String?, bootID: String) -> Result<BusIntents, SystemError> {
        var error: Int32 = 0
        let monitor = address.map { cw_bus_monitor_open($0, &error) } ?? cw_bus_monitor_open(nil, &error)
        guard let monitor else {
            return .failure(SystemError("D-Bus monitor", address ?? "system bus", errno: Errno(rawValue: -error)))
        }
        return .success(BusIntents(monitor: monitor, address: address ?? "system bus", bootID: bootID))
    }

    private init(monitor: OpaquePointer, address: String, bootID: String) {
        self.monitor = monitor
        self.address = address
        self.bootID = bootID
    }

    deinit { cw_bus_monitor_close(monitor) }

    public var descriptor: CInt { cw_bus_monitor_fd(monitor) }

    /// The intents among the calls seen since the last look. The bus is
    /// asked who a sender is only for an intent, and /proc read once per
    /// sender in a look: a flood of calls (cheap ones, or requests logind
    /// refuses) costs a string compare each, so it neither delays the record
    /// of a request behind it nor outlasts that request's sender.
    public func drain() -> [CallerRecord] {
        var records: [CallerRecord] = []
        var senders: [String: CallerRecord] = [:]  // a unique name is one connection of one process, never reused
        var call = cw_bus_call()
        while cw_bus_monitor_next(monitor, &call) > 0 {
            let interface = CString.decode(&call.interface), member = CString.decode(&call.member)
            let arg0 = CString.decode(&call.arg0)
            let flags = call.has_flags != 0 ? UInt64(call.flags) : nil
            guard let action = IntentFilter.busAction(interface: interface, member: member, arg0: arg0, flags: flags) else { continue }
            let time = call.realtime_usec > 0 ? WallClock.iso8601(realtimeNanoseconds: Int64(call.realtime_usec) * 1000)
                                              : WallClock.now()
            let sender = CString.decode(&call.sender)
            var what = "\(interface).\(member)"
            if !arg0.isEmpty { what += " \(arg0)" }
            if let flags { what += " flags 0x\(String(flags, radix: 16))" }
            what += " from \(sender)"
            var record: CallerRecord
            if let known = senders[sender] {
                record = known
            } else {
                cw_bus_monitor_ask_sender(monitor, &call)
                let ownsLogin1: Bool? = call.sender_owns_login1 < 0 ? nil : call.sender_owns_login1 == 1
                record = ProcessAttribution.record(pid: call.sender_pid, bootID: bootID, time: time, probe: .dbus, cmd: action,
                                                   cmdArg: what, senderOwnsLogin1: ownsLogin1)
                if !sender.isEmpty { senders[sender] = record }
            }
            record.time = time
            record.cmd = action
            record.cmdArg = what
            records.append(record)
        }
        return records
    }
}
