import WitnessModel
import WitnessSystem

/// The D-Bus side of intents: the monitor when there is a bus, a retry
/// every second when there is none yet (armed early in boot, before
/// dbus.service), and what `status` says of it.
final class BusWatch {
    static let systemBusSocket = "/run/dbus/system_bus_socket"

    private let options: ArmOptions.Bus
    private let bootID: String
    private(set) var monitor: BusIntents?
    private(set) var state: Capability = .unavailable("off (--no-dbus)")

    init(_ options: ArmOptions.Bus, bootID: String) {
        self.options = options
        self.bootID = bootID
    }

    /// Opens the monitor if it is not open. Returns whether it opened now.
    @discardableResult
    func open() -> Bool {
        guard options.enabled, monitor == nil else { return false }
        guard options.address != nil || Files.exists(Self.systemBusSocket) else {
            state = .unavailable("no system bus (\(Self.systemBusSocket))")
            return false
        }
        switch BusIntents.open(address: options.address, bootID: bootID) {
        case .success(let opened):
            monitor = opened
            state = .available(via: opened.address, active: true)
            return true
        case .failure(let error):
            state = .failed("\(error)")
            return false
        }
    }

    /// The monitor's descriptor, to poll with the rings.
    var descriptors: [CInt] { monitor.map { [$0.descriptor] } ?? [] }

    /// The intents seen since the last look (ask while their senders are connected).
    func drain() -> [CallerRecord] { monitor?.drain() ?? [] }

    /// dbus-daemon is gone (or going) in the final stage: its socket would only wake the loop.
    func close() {
        monitor = nil
        if options.enabled { state = .unavailable("closed for the final stage") }
    }
}
