import CWitness
import Glibc
import SystemPackage
import WitnessSystem

/// The BMC through the kernel's OpenIPMI device (`/dev/ipmi0`: ipmi_si and
/// ipmi_devintf). Only Get commands are sent: nothing here changes the BMC.
public final class IPMIDevice {
    public let path: String
    private let descriptor: FileDescriptor
    private var nextID = 1
    /// How long one answer may take (a BMC that does not answer costs this once).
    let timeoutMilliseconds: Int32

    public enum Failure: Error, CustomStringConvertible, Equatable {
        /// The device is not there: no BMC, or its drivers are not loaded.
        case absent
        case open(Errno)
        case noAnswer(command: String, milliseconds: Int32)
        case request(command: String, Errno)
        /// The BMC answered with a completion code other than 0 (0xC1: it does not know the command).
        case completion(command: String, code: UInt8)
        case short(command: String, length: Int)

        public var description: String {
            switch self {
            case .absent: return "no IPMI device"
            case .open(let errno): return "cannot open it: \(errno.description) (\(errno.symbolicName))"
            case .noAnswer(let command, let ms): return "the BMC did not answer \(command) within \(ms) ms"
            case .request(let command, let errno): return "\(command) failed: \(errno.description) (\(errno.symbolicName))"
            case .completion(let command, let code):
                return code == 0xC1 ? "this BMC does not implement \(command)"
                    : "the BMC refused \(command) (completion code 0x\(String(code, radix: 16)))"
            case .short(let command, let length): return "\(command): a short answer (\(length) bytes)"
            }
        }
    }

    public init(path: String = "/dev/ipmi0", timeoutMilliseconds: Int32 = 1000) throws(Failure) {
        self.path = path
        self.timeoutMilliseconds = timeoutMilliseconds
        let fd = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            let errno = Errno(rawValue: Glibc.errno)
            throw errno == .noSuchFileOrDirectory || errno == .noSuchAddressOrDevice || errno == .operationNotSupportedByDevice ? .absent : .open(errno)
        }
        descriptor = FileDescriptor(rawValue: fd)
    }

    deinit { try? descriptor.close() }

    /// One request; the answer's data after a completion code of 0, at least `minimum` bytes.
    public func request(_ command: IPMICommand, _ data: [UInt8] = [], minimum: Int = 0) throws(Failure) -> [UInt8] {
        var reply = [UInt8](repeating: 0, count: 64)
        nextID += 1
        let length = Int(cw_ipmi_request(descriptor.rawValue, command.netFunction, command.code, data, UInt16(data.count),
                                         nextID, &reply, UInt16(reply.count), timeoutMilliseconds))
        if length == -Int(ETIMEDOUT) { throw .noAnswer(command: command.name, milliseconds: timeoutMilliseconds) }
        guard length >= 0 else { throw .request(command: command.name, Errno(rawValue: Int32(-length))) }
        guard length >= 1 else { throw .short(command: command.name, length: 0) }
        guard reply[0] == 0 else { throw .completion(command: command.name, code: reply[0]) }
        guard length - 1 >= minimum else { throw .short(command: command.name, length: length) }
        return Array(reply[1..<length])
    }
}

/// The few IPMI commands the reader sends (IPMI 2.0, all of them Get).
public struct IPMICommand: Sendable {
    public let netFunction: UInt8
    public let code: UInt8
    public let name: String

    public static let deviceID = IPMICommand(netFunction: 0x06, code: 0x01, name: "Get Device ID")
    public static let watchdogTimer = IPMICommand(netFunction: 0x06, code: 0x25, name: "Get Watchdog Timer")
    public static let systemRestartCause = IPMICommand(netFunction: 0x00, code: 0x07, name: "Get System Restart Cause")
    public static let selInfo = IPMICommand(netFunction: 0x0A, code: 0x40, name: "Get SEL Info")
    public static let selEntry = IPMICommand(netFunction: 0x0A, code: 0x43, name: "Get SEL Entry")
    public static let selTime = IPMICommand(netFunction: 0x0A, code: 0x48, name: "Get SEL Time")
}
