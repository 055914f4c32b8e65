import NIOCore
import NIOHTTP1
import WitnessModel
import WitnessSystem

/// One connection of the metrics listener: answers GET /metrics, /healthz
/// and /readyz from the board, and nothing else. Runs on the listener's own
/// event loop; it reads the board and never calls into arm.
final class MetricsHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let board: MetricsBoard
    private let health: MetricsServer.Probe
    private let readiness: MetricsServer.Probe
    private let limits: MetricsServer.Limits
    private var request: HTTPRequestHead?
    private var answered = 0
    private var deadline: Scheduled<Void>?
    private var refused = false

    init(board: MetricsBoard, health: @escaping MetricsServer.Probe, readiness: @escaping MetricsServer.Probe,
         limits: MetricsServer.Limits) {
        self.board = board
        self.health = health
        self.readiness = readiness
        self.limits = limits
    }

    func handlerAdded(context: ChannelHandlerContext) { armDeadline(context) }

    func handlerRemoved(context: ChannelHandlerContext) { deadline?.cancel() }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            // A GET has no body: refused at its head, not read to its end.
            if head.headers.contains(name: "transfer-encoding")
                || head.headers["content-length"].contains(where: { !$0.allSatisfy { $0 == "0" || $0 == " " } }) {
                deadline?.cancel()
                refused = true
                let reply = head.method == .GET
                    ? Reply(status: .payloadTooLarge, outcome: "body_refused", body: Array("a GET has no body\n".utf8))
                    : route(head)  // (anything but a GET: refused there)
                answer(head, with: reply, context: context)
                return
            }
            request = head
        case .body:
            break
        case .end:
            deadline?.cancel()
            guard let head = request else { return }
            request = nil
            answer(head, with: route(head), context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // HTTPServerProtocolErrorHandler has answered 400 (headers over the limits, not HTTP).
        if !refused { board.count("bad_request") }
        refused = true
        context.close(promise: nil)
    }

    /// The next request must be complete within the deadline, or the
    /// connection is cut: a first request not complete in time is a slow
    /// client (cut_off); a kept-alive connection with no next one is idle.
    private func armDeadline(_ context: ChannelHandlerContext) {
        deadline?.cancel()
        let board = board
        let channel = context.channel
        let outcome = answered == 0 ? "cut_off" : "idle_closed"
        deadline = context.eventLoop.scheduleTask(in: limits.requestDeadline) {
            board.count(outcome)
            channel.close(promise: nil)
        }
    }

    private func answer(_ head: HTTPRequestHead, with reply: Reply, context: ChannelHandlerContext) {
        board.count(reply.outcome)
        answered += 1
        let keepAlive = !refused && head.isKeepAlive && reply.status.code < 400 && answered < limits.maxRequestsPerConnection
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: reply.contentType)
        headers.add(name: "Content-Length", value: String(reply.body.count))
        headers.add(name: "Cache-Control", value: "no-store")
        if reply.status == .methodNotAllowed { headers.add(name: "Allow", value: "GET") }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: reply.status, headers: headers))),
                      promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: reply.body)))), promise: nil)
        let written = context.writeAndFlushPromise(for: wrapOutboundOut(.end(nil)))
        if keepAlive {
            armDeadline(context)
        } else {
            written.whenComplete { _ in context.close(promise: nil) }
        }
    }

    private struct Reply {
        var status: HTTPResponseStatus
        var outcome: String
        var body: [UInt8]
        var contentType = "text/plain; charset=utf-8"
    }

    private func route(_ head: HTTPRequestHead) -> Reply {
        guard head.method == .GET else {
            return Reply(status: .methodNotAllowed, outcome: "method_not_allowed", body: Array("GET only\n".utf8))
        }
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        switch path {
        case "/metrics":
            return Reply(status: .ok, outcome: "served", body: board.current + Array(Metrics.renderRequests(board.counts, node: board.node).utf8),
                         contentType: "text/plain; version=0.0.4; charset=utf-8")
        case "/healthz", "/readyz":
            let (ready, line) = path == "/healthz" ? health() : readiness()
            return Reply(status: ready ? .ok : .serviceUnavailable, outcome: ready ? "served" : "not_ready",
                         body: Array((TerminalText.escape(line) + "\n").utf8))
        default:
            return Reply(status: .notFound, outcome: "not_found", body: Array("/metrics, /healthz, /readyz\n".utf8))
        }
    }
}

private extension ChannelHandlerContext {
    func writeAndFlushPromise(for part: NIOAny) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        writeAndFlush(part, promise: promise)
        return promise.futureResult
    }
}
