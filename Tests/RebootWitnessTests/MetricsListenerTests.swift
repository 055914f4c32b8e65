import Foundation
import NIOCore
@testable import WitnessArm
import XCTest

/// `arm --metrics-address`: the listener answers GET on three paths from
/// what arm published, and nothing a client does holds it or grows it.
final class MetricsListenerTests: XCTestCase {
    var server: MetricsServer!
    let board = MetricsBoard(node: "n")
    var port = 0
    var ready = true

    override func setUpWithError() throws {
        var limits = MetricsServer.Limits()
        limits.requestDeadline = .milliseconds(400)
        limits.maxConnections = 3
        limits.maxConnectionsPerPeer = 3
        for attempt in 0..<20 {
            port = 20_000 + Int((getpid() * 7 + Int32(attempt) * 131) % 20_000)
            do {
                server = try MetricsServer(address: try MetricsAddress(parsing: "127.0.0.1:\(port)"), board: board,
                                           health: { (true, "armed: healthy") },
                                           readiness: { [unowned self] in (ready, ready ? "armed: pid 1" : "not armed: no arm is running") },
                                           limits: limits)
                break
            } catch { continue }
        }
        board.publish("reboot_witness_armed{node=\"n\"} 1\n")
    }

    override func tearDown() { server?.shutdown() }

    func testTheListenerServesWhatArmPublishedAndAnswersTheProbes() throws {
        let metrics = try exchange("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertTrue(metrics.hasPrefix("HTTP/1.1 200 OK"), metrics)
        XCTAssertTrue(metrics.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8"), metrics)
        XCTAssertTrue(metrics.contains("\r\n\r\nreboot_witness_armed{node=\"n\"} 1\n"), metrics)
        board.publish("reboot_witness_armed{node=\"n\"} 0\n")
        let second = try exchange("GET /metrics?x=1 HTTP/1.1\r\n\r\n")
        XCTAssertTrue(second.contains("\r\n\r\nreboot_witness_armed{node=\"n\"} 0\n"), second)
        // The listener's own counters, rendered as it serves (the first scrape counted).
        XCTAssertTrue(second.contains("reboot_witness_http_requests_total{node=\"n\",outcome=\"served\"} 1\n"), second)
        XCTAssertTrue(try exchange("GET /readyz HTTP/1.1\r\n\r\n").hasSuffix("armed: pid 1\n"))
        ready = false
        let unready = try exchange("GET /readyz HTTP/1.1\r\n\r\n")
        XCTAssertTrue(unready.hasPrefix("HTTP/1.1 503"), unready)
        XCTAssertTrue(unready.hasSuffix("not armed: no arm is running\n"), unready)
        XCTAssertTrue(try exchange("GET /healthz HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 200"))
        XCTAssertEqual(board.counts["served"], 4)
        XCTAssertEqual(board.counts["not_ready"], 1)
    }

    func testAnythingButAGetOfTheThreePathsIsRefused() throws {
        let post = try exchange("POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc")
        XCTAssertTrue(post.hasPrefix("HTTP/1.1 405"), post)
        XCTAssertTrue(post.contains("Allow: GET"), post)
        XCTAssertTrue(try exchange("HEAD /metrics HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 405"))
        XCTAssertTrue(try exchange("GET /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello").hasPrefix("HTTP/1.1 413"))
        XCTAssertTrue(try exchange("GET /../etc/shadow HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 404"))
        XCTAssertTrue(try exchange("\u{1b}[2J not http at all\r\n\r\n").hasPrefix("HTTP/1.1 400"))
        settle(until: { $0["bad_request"] == 1 })
        XCTAssertEqual(board.counts["method_not_allowed"], 2)
        XCTAssertEqual(board.counts["body_refused"], 1)
        XCTAssertEqual(board.counts["not_found"], 1)
        XCTAssertEqual(board.counts["bad_request"], 1)
    }

    func testHeadersOverTheLimitAreRefusedWithoutBeingKept() throws {
        let huge = "GET /metrics HTTP/1.1\r\nX-Pad: " + String(repeating: "a", count: 64 * 1024) + "\r\n\r\n"
        XCTAssertTrue(try exchange(huge).hasPrefix("HTTP/1.1 400"))
        let endlessURL = "GET /" + String(repeating: "m", count: 64 * 1024) + " HTTP/1.1\r\n\r\n"
        XCTAssertTrue(try exchange(endlessURL).hasPrefix("HTTP/1.1 400"))
        settle(until: { $0["bad_request"] == 2 })
        XCTAssertEqual(board.counts["bad_request"], 2)
    }

    func testASlowClientIsCutOffAtTheDeadline() throws {
        let started = Date()
        let answer = try exchange("GET /metrics HTTP/1.1\r\n", timeout: 5)
        XCTAssertEqual(answer, "", "a request never finished gets no answer, only a closed connection")
        XCTAssertLessThan(Date().timeIntervalSince(started), 3)
        XCTAssertEqual(board.counts["cut_off"], 1)
    }

    func testConnectionsOverTheLimitAreClosedAtOnce() throws {
        try assertRefused(holding: 3, as: "over_connection_limit")
    }

    /// With `holding` connections open, the next is closed at once and counted as `outcome`.
    private func assertRefused(holding: Int, as outcome: String) throws {
        let held = try (0..<holding).map { _ in try connect() }
        defer { held.forEach { close($0) } }
        Thread.sleep(forTimeInterval: 0.1)
        XCTAssertEqual(try exchange("GET /metrics HTTP/1.1\r\n\r\n"), "")
        XCTAssertEqual(board.counts[outcome], 1)
    }

    func testOneAddressCannotTakeEveryConnection() throws {
        server.shutdown()
        var limits = MetricsServer.Limits()
        limits.maxConnectionsPerPeer = 2
        server = try MetricsServer(address: try MetricsAddress(parsing: "127.0.0.1:\(port)"), board: board,
                                   health: { (true, "") }, readiness: { (true, "") }, limits: limits)
        try assertRefused(holding: 2, as: "over_peer_limit")
    }

    func testAKeptAliveConnectionWithNoNextRequestIsClosedAsIdleNotAsSlow() throws {
        let fd = try connect()
        defer { close(fd) }
        _ = Array("GET /metrics HTTP/1.1\r\n\r\n".utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var buffer = [UInt8](repeating: 0, count: 65536)
        var wait = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        XCTAssertGreaterThan(recv(fd, &buffer, buffer.count, 0), 0, "the answer")
        while recv(fd, &buffer, buffer.count, 0) > 0 {}  // until the server closes the idle connection
        settle(until: { $0["idle_closed"] == 1 })
        XCTAssertEqual(board.counts["idle_closed"], 1)
        XCTAssertNil(board.counts["cut_off"])
    }

    func testTheAddressIsALiteralAddressAndAPort() throws {
        XCTAssertEqual(try MetricsAddress(parsing: "[::1]:9746").description, "[::1]:9746")
        XCTAssertEqual(try MetricsAddress(parsing: "0.0.0.0:9746").port, 9746)
        for bad in ["localhost:9746", "9746", "127.0.0.1:0", "127.0.0.1:70000", "127.0.0.1:", "::1:9746x", "\u{1b}]0;x:1"] {
            XCTAssertThrowsError(try MetricsAddress(parsing: bad), bad) { error in
                XCTAssertFalse("\(error)".contains("\u{1b}"), "the refusal shows the text escaped")
            }
        }
    }

    /// The listener counts after it answered: wait (boundedly) for its thread.
    private func settle(until done: ([String: UInt64]) -> Bool) {
        for _ in 0..<100 where !done(board.counts) { Thread.sleep(forTimeInterval: 0.01) }
    }

    // MARK: - a raw client: the bytes on the wire are the test's, not a library's

    private func connect() throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { close(fd); throw POSIXError(.ECONNREFUSED) }
        return fd
    }

    /// Sends `request` and reads until the server closes or answers a whole response.
    private func exchange(_ request: String, timeout: Double = 3) throws -> String {
        let fd = try connect()
        defer { close(fd) }
        var wait = timeval(tv_sec: Int(timeout), tv_usec: Int(timeout.truncatingRemainder(dividingBy: 1) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        _ = Array(request.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            received += buffer[0..<n]
            let text = String(decoding: received, as: UTF8.self)
            if let split = text.range(of: "\r\n\r\n"),
               let length = text[..<split.lowerBound].split(separator: "\r\n").first(where: { $0.hasPrefix("Content-Length: ") })
                .flatMap({ Int($0.dropFirst(16)) }),
               text.utf8.count - text.utf8.distance(from: text.startIndex, to: split.upperBound) >= length { break }
        }
        return String(decoding: received, as: UTF8.self)
    }
}
