import CZlib
import Glibc
import SystemPackage

/// A log file read line by line, forward, with every cost bounded: regular
/// files only (a FIFO or a device named like a log is refused, not read),
/// opened non-blocking; at most `byteLimit` bytes read; a line longer than
/// `lineLimit` is cut there and said to be. gzip-compressed files (rotated
/// logs) are inflated by zlib as they are read, under the same limits.
public final class LineReader {
    public struct Line {
        public var bytes: ArraySlice<UInt8>
        /// 1-based line number in the file.
        public var number: Int
        /// The line went on past `lineLimit`; the rest was skipped.
        public var cut: Bool

        public var text: String { String(decoding: bytes, as: UTF8.self) }
    }

    public static let defaultLineLimit = 64 << 10
    /// Bytes read (or inflated) at a time.
    static let chunk = 256 << 10

    public let path: String
    /// Bytes of the file (uncompressed ones for gzip) read so far.
    public private(set) var bytesRead: Int64 = 0
    /// The read stopped at `byteLimit` before the end of the file.
    public private(set) var truncated = false
    /// Lines cut at `lineLimit`.
    public private(set) var cutLines = 0
    /// A read error or damaged compressed data stopped the read early.
    public private(set) var damage: String?

    private let fd: CInt
    private var gzip: gzFile?
    private let byteLimit: Int64
    private let lineLimit: Int
    /// Allocated once (chunk + line limit): lines are slices of it, between `start` and `end`.
    private var buffer: [UInt8]
    private var start = 0, end = 0
    private var atEnd = false
    private var number = 0
    private var skippingRest = false

    /// Opens `path` (a regular file, else throws) for reading up to
    /// `byteLimit` bytes; `gzip`: nil decides from the file's magic bytes.
    /// `tail`: for an uncompressed file longer than `byteLimit`, read its
    /// last `byteLimit` bytes instead of its first (from the first line that
    /// starts there): where a log's newest lines are. `skippedBytes` says
    /// how much was passed over.
    public init(path: String, byteLimit: Int64 = 1 << 30, lineLimit: Int = LineReader.defaultLineLimit,
                gzip: Bool? = nil, tail: Bool = false) throws {
        self.path = path
        self.byteLimit = byteLimit
        self.lineLimit = lineLimit
        buffer = [UInt8](unsafeUninitializedCapacity: Self.chunk + lineLimit) { raw, count in
            memset(raw.baseAddress!, 0, raw.count)
            count = raw.count
        }
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { throw SystemError("open", path, errno: Errno(rawValue: errno)) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let code = errno
            close(fd)
            throw SystemError("stat", path, errno: Errno(rawValue: code))
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw SystemError("read", path, errno: .invalidArgument, detail: "not a regular file")
        }
        status = st
        let compressed = gzip ?? Self.hasGzipMagic(fd)
        if compressed {
            // zlib takes its own descriptor: ours stays for fstat and is closed in deinit.
            let copy = dup(fd)
            guard copy >= 0, let handle = gzdopen(copy, "rb") else {
                if copy >= 0 { close(copy) }
                close(fd)
                throw SystemError("gzdopen", path, errno: .ioError)
            }
            self.gzip = handle
        } else if tail, Int64(st.st_size) > byteLimit {
            skippedBytes = Int64(st.st_size) - byteLimit
            lseek(fd, off_t(skippedBytes), SEEK_SET)
            skippingRest = true  // the line cut by the seek is not a line
        }
    }

    /// Bytes at the start of the file not read (`tail`).
    public private(set) var skippedBytes: Int64 = 0

    deinit {
        if let gzip { gzclose(gzip) }
        close(fd)
    }

    /// The file's status when it was opened (owner, mode, size, mtime).
    public let status: stat

    private static func hasGzipMagic(_ fd: CInt) -> Bool {
        var magic: [UInt8] = [0, 0]
        let n = pread(fd, &magic, 2, 0)
        return n == 2 && magic == [0x1f, 0x8b]
    }

    /// The next line without its newline, or nil at the end (or the limit).
    public func next() -> Line? {
        while true {
            if let newline = nextNewline() {
                let line = buffer[start..<newline]
                start = newline + 1
                if skippingRest {
                    skippingRest = false
                    continue
                }
                number += 1
                return Line(bytes: line, number: number, cut: false)
            }
            if end - start >= lineLimit {
                // No newline within the limit: the line is cut here, its rest skipped.
                let line = buffer[start..<(start + lineLimit)]
                let wasSkipping = skippingRest
                start = end
                skippingRest = true
                if wasSkipping { continue }
                number += 1
                cutLines += 1
                return Line(bytes: line, number: number, cut: true)
            }
            guard !atEnd else {
                guard start < end, !skippingRest else { return nil }
                let line = buffer[start..<end]
                start = end
                number += 1
                return Line(bytes: line, number: number, cut: false)
            }
            fill()
        }
    }

    /// The index of the next "\n" at or after `start` (memchr: this is the hot loop of every log read).
    private func nextNewline() -> Int? {
        guard start < end else { return nil }
        return buffer.withUnsafeBytes { raw -> Int? in
            let base = raw.baseAddress!
            guard let hit = memchr(base + start, 10, end - start) else { return nil }
            return base.distance(to: UnsafeRawPointer(hit))
        }
    }

    private func fill() {
        if start > 0 {
            let (from, count) = (start, end - start)
            buffer.withUnsafeMutableBytes { raw in _ = memmove(raw.baseAddress!, raw.baseAddress! + from, count) }
            end = count
            start = 0
        }
        let room = Int(min(Int64(min(Self.chunk, buffer.count - end)), byteLimit - bytesRead))
        guard room > 0 else {
            truncated = true
            atEnd = true
            return
        }
        let old = end
        let n: Int = buffer.withUnsafeMutableBytes { raw in
            let target = raw.baseAddress!.advanced(by: old)
            if let gzip { return Int(gzread(gzip, target, UInt32(room))) }
            while true {
                let got = read(fd, target, room)
                if got < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                return got
            }
        }
        if n <= 0 {
            atEnd = true
            if n < 0 {
                damage = gzip != nil ? "damaged or truncated compressed data" : "read error (\(Errno(rawValue: errno)))"
            } else if let gzip, gzeof(gzip) == 0 || Self.gzipError(gzip) != nil {
                damage = Self.gzipError(gzip) ?? "damaged or truncated compressed data"
            }
            return
        }
        end += n
        bytesRead += Int64(n)
    }

    private static func gzipError(_ gzip: gzFile) -> String? {
        var code: Int32 = 0
        let message = gzerror(gzip, &code)
        guard code != Z_OK, code != Z_STREAM_END, let message else { return nil }
        // zlib names the stream "<fd:N>: …" for a descriptor: the file is named by the caller.
        let text = String(cString: message)
        return text.hasPrefix("<fd:") ? String(text.drop { $0 != " " }.dropFirst()) : text
    }
}
