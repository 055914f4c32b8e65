import BPFObjects
import WitnessModel
import CLibbpf
import CWitness
import Glibc
import SystemPackage
import WitnessSystem

/// Typed reader over a BPF ring buffer of `rw_record`s (libbpf ring_buffer).
/// Poll its `descriptor` with others, then `drain()`.
public final class RingBufferReader {
    private final class Sink {
        let deliver: (rw_record) -> Void
        var malformed = 0
        var otherVersion = 0
        /// Records still to deliver in this drain; at 0 the callback stops libbpf.
        var budget = Int.max
        init(_ deliver: @escaping (rw_record) -> Void) { self.deliver = deliver }
    }

    /// What the callback returns to stop ring_buffer__consume at the budget
    /// (the record it stops on is consumed and delivered).
    private static let budgetSpent: CInt = -EALREADY

    private let ring: OpaquePointer
    private let sink: Sink
    private let sinkPointer: Unmanaged<Sink>

    /// ring_buffer__new() on the map `fd`; `deliver` gets each record in order.
    init(mapFD fd: CInt, deliver: @escaping (rw_record) -> Void) throws {
        sink = Sink(deliver)
        sinkPointer = Unmanaged.passRetained(sink)
        let callback: ring_buffer_sample_fn = { context, data, size in
            let sink = Unmanaged<RingBufferReader.Sink>.fromOpaque(context!).takeUnretainedValue()
            guard let data, size >= MemoryLayout<rw_record>.size else {
                sink.malformed += 1
                return 0
            }
            let record = data.loadUnaligned(as: rw_record.self)
            // A pinned ring adopted across builds may hold records of another
            // layout: its version is the only guard, so they are refused, counted.
            guard record.version == RW_RECORD_VERSION else {
                sink.otherVersion += 1
                return 0
            }
            sink.deliver(record)
            sink.budget -= 1
            return sink.budget > 0 ? 0 : RingBufferReader.budgetSpent
        }
        guard let ring = ring_buffer__new(fd, callback, sinkPointer.toOpaque(), nil) else {
            sinkPointer.release()
            throw SystemError("ring_buffer__new", nil, errno: Errno(rawValue: Glibc.errno))
        }
        self.ring = ring
    }

    deinit {
        ring_buffer__free(ring)
        sinkPointer.release()
    }

    /// An epoll descriptor that is readable when records are waiting.
    public var descriptor: CInt { ring_buffer__epoll_fd(ring) }

    /// Records the kernel submitted with a size we do not understand.
    public var malformedCount: Int { sink.malformed }
    /// Records of another layout version (an older build's programs still writing to an adopted ring), refused.
    public var otherVersionCount: Int { sink.otherVersion }

    /// ring_buffer__consume(): delivers what is waiting, at most `limit`
    /// records (a flood must not keep the loop, and its heartbeat, here).
    /// Returns whether the limit stopped it (more may be waiting).
    @discardableResult
    public func drain(limit: Int = .max) throws -> Bool {
        sink.budget = limit
        let rc = ring_buffer__consume(ring)
        if rc == Self.budgetSpent { return true }
        if rc < 0 && rc != -EINTR {
            throw SystemError("ring_buffer__consume", nil, errno: Errno(rawValue: -rc))
        }
        return false
    }
}
