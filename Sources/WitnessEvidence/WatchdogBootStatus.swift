import WitnessSystem

/// What a hardware watchdog says about the last reset: its driver's
/// `bootstatus`, trusted only where the driver advertises WDIOF_CARDRESET
/// in its `options` (linux/watchdog.h).
public struct WatchdogBootStatus: Equatable, Sendable {
    public static let cardReset: UInt32 = 0x0020  // WDIOF_CARDRESET

    public var device: String
    public var identity: String?
    public var bootstatus: UInt32?
    /// nil where the kernel has no `options` attribute (older than 6.x) or it cannot be read.
    public var options: UInt32?

    public init(device: String, identity: String?, bootstatus: UInt32?, options: UInt32?) {
        self.device = device; self.identity = identity; self.bootstatus = bootstatus; self.options = options
    }

    /// true: the watchdog reset the machine; false: it says it did not;
    /// nil: it cannot tell (the driver does not report card resets).
    public var resetTheMachine: Bool? {
        guard let options, options & Self.cardReset != 0, let bootstatus else { return nil }
        return bootstatus & Self.cardReset != 0
    }

    public var summary: String {
        let name = "\(device)" + (identity.map { " (\($0))" } ?? "")
        switch resetTheMachine {
        case true?: return "\(name): bootstatus has WDIOF_CARDRESET: the watchdog reset the machine"
        case false?: return "\(name): bootstatus without WDIOF_CARDRESET: not reset by this watchdog"
        case nil:
            return options == nil ? "\(name): unsupported (the kernel exposes no watchdog options to check bootstatus against)"
                : "\(name): unsupported (the driver does not report card resets)"
        }
    }

    /// Every watchdog under `root` (/sys/class/watchdog).
    public static func read(root: String = "/sys/class/watchdog") -> [WatchdogBootStatus] {
        (Files.list(root) ?? []).filter { $0.hasPrefix("watchdog") }.map { device in
            let dir = root + "/" + device
            return WatchdogBootStatus(device: device, identity: Files.readLine(dir + "/identity"),
                                      bootstatus: Files.readLine(dir + "/bootstatus").flatMap(number),
                                      options: Files.readLine(dir + "/options").flatMap(number))
        }
    }

    /// "0x8180" or "32".
    static func number(_ text: String) -> UInt32? {
        let trimmed = Substring(text).trimming([" ", "\n"])
        return trimmed.hasPrefix("0x") ? UInt32(trimmed.dropFirst(2), radix: 16) : UInt32(trimmed)
    }
}
