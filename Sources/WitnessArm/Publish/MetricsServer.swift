import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import WitnessSystem

/// `arm --metrics-address ADDR:PORT`: a literal IPv4 or [IPv6] address and a
/// port. Never a host name: arm does no name lookups.
public struct MetricsAddress: CustomStringConvertible, Sendable {
    public let host: String
    public let port: Int
    let socketAddress: SocketAddress

    public init(parsing text: String) throws(Invalid) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port)
        else { throw Invalid(text: text) }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let address = try? SocketAddress(ipAddress: host, port: port) else { throw Invalid(text: text) }
        self.host = host
        self.port = port
        socketAddress = address
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public struct Invalid: Error, CustomStringConvertible {
        let text: String
        public var description: String {
            "--metrics-address wants a literal address and a port (127.0.0.1:9746, [::1]:9746, 0.0.0.0:9746), not \"\(TerminalText.escape(text))\""
        }
    }
}

/// What the listener serves. arm's loop sets it (a swap under a lock, never
/// a wait on a client); the listener's thread reads it. Nothing the listener
/// does, or fails to do, reaches the capture loop or the hold.
final class MetricsBoard: Sendable {
    /// The node the listener's own counters name (as every series does).
    let node: String
    private let text = Mutex<[UInt8]>([])
    private let beat = Mutex<Int64>(0)
    private let outcomes = Mutex<[String: UInt64]>([:])

    init(node: String = Metrics.nodeName()) { self.node = node }

    func publish(_ body: String) { text.withLock { $0 = Array(body.utf8) } }
    var current: [UInt8] { text.withLock { $0 } }

    /// arm's loop went round (CLOCK_BOOTTIME ns): /healthz fails when this is old.
    func beat(at boottime: Int64) { beat.withLock { $0 = boottime } }
    var lastBeat: Int64 { beat.withLock { $0 } }

    /// A request answered or refused (served, not_found, method_not_allowed,
    /// body_refused, bad_request, cut_off, idle_closed, over_connection_limit,
    /// over_peer_limit, not_ready).
    func count(_ outcome: String) { outcomes.withLock { $0[outcome, default: 0] += 1 } }
    var counts: [String: UInt64] { outcomes.withLock { $0 } }
}

/// The HTTP listener of `--metrics-address`: SwiftNIO's HTTP/1 codec on one
/// event-loop thread of its own. GET only; headers bounded by the decoder; a
/// request must be complete within `requestDeadline` of the connection (or of
/// the previous answer) or the connection is cut; at most `maxConnections`
/// at once, `maxConnectionsPerPeer` from one address (one pod cannot crowd
/// Prometheus out), and `maxRequestsPerConnection` on one.
public final class MetricsServer {
    public struct Limits: Sendable {
        public var maxConnections = 64
        public var maxConnectionsPerPeer = 4
        public var maxRequestsPerConnection = 100
        public var requestDeadline = TimeAmount.seconds(5)
        public var headers: NIOHTTPDecoderLimitConfiguration = {
            var limits = NIOHTTPDecoderLimitConfiguration()
            limits.maxHeaderFieldSize = 8 * 1024
            limits.maxHeaderListSize = 16 * 1024
            limits.maxHeaderFieldCount = 64
            return limits
        }()
        public init() {}
    }

    /// What /healthz and /readyz answer: ready, and one line saying why.
    public typealias Probe = @Sendable () -> (ready: Bool, line: String)

    public let address: MetricsAddress
    let board: MetricsBoard
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel

    /// Binds now, so a port in use is said before arm reports armed.
    init(address: MetricsAddress, board: MetricsBoard, health: @escaping Probe, readiness: @escaping Probe,
         limits: Limits = Limits()) throws {
        self.address = address
        self.board = board
        group = Self.withStopSignalsBlocked { MultiThreadedEventLoopGroup(numberOfThreads: 1) }
        let open = ConnectionCount()
        do {
            channel = try ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 16)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { child in
                    let peer = child.remoteAddress?.ipAddress ?? "?"
                    if let refusal = open.enter(peer: peer, limits: limits) {
                        board.count(refusal)
                        return child.close()
                    }
                    child.closeFuture.whenComplete { _ in open.leave(peer: peer) }
                    return child.eventLoop.makeCompletedFuture {
                        let sync = child.pipeline.syncOperations
                        try sync.addHandler(HTTPResponseEncoder())
                        try sync.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes,
                                                                                    informationalResponseStrategy: .drop,
                                                                                    limitConfiguration: limits.headers),
                                                                 maximumBufferSize: 32 * 1024))
                        try sync.addHandler(HTTPServerPipelineHandler())
                        try sync.addHandler(HTTPServerProtocolErrorHandler())
                        try sync.addHandler(MetricsHTTPHandler(board: board, health: health, readiness: readiness, limits: limits))
                    }
                }
                .bind(to: address.socketAddress).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw ListenFailure(address: address, error: error)
        }
    }

    /// The listener's thread never takes arm's SIGINT or SIGTERM (a thread
    /// that does not block them would get them, and die of them): it is
    /// started with them blocked, and inherits that.
    private static func withStopSignalsBlocked<T>(_ body: () -> T) -> T {
        var stop = sigset_t(), previous = sigset_t()
        sigemptyset(&stop)
        sigaddset(&stop, SIGINT)
        sigaddset(&stop, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &stop, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        return body()
    }

    /// Closes the listener and every connection; waits for the thread to end.
    public func shutdown() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }

    struct ListenFailure: Error, CustomStringConvertible {
        let address: MetricsAddress
        let error: any Error
        var description: String { "--metrics-address \(address): cannot listen (\(error))" }
    }
}

/// Connections open at once, in all and by peer address.
private final class ConnectionCount: Sendable {
    private let open = Mutex((total: 0, byPeer: [String: Int]()))

    /// nil when the connection may stay; else the outcome it is refused with.
    func enter(peer: String, limits: MetricsServer.Limits) -> String? {
        open.withLock { open in
            guard open.total < limits.maxConnections else { return "over_connection_limit" }
            guard open.byPeer[peer, default: 0] < limits.maxConnectionsPerPeer else { return "over_peer_limit" }
            open.total += 1
            open.byPeer[peer, default: 0] += 1
            return nil
        }
    }

    func leave(peer: String) {
        open.withLock { open in
            open.total -= 1
            open.byPeer[peer, default: 1] -= 1
            if open.byPeer[peer] == 0 { open.byPeer[peer] = nil }
        }
    }
}
