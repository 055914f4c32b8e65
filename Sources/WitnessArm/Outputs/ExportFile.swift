import WitnessModel
import WitnessReport
import Glibc
import SystemPackage
import WitnessSystem

/// `arm --export FILE`: one JSON object per line, for shippers that do not
/// read journald. Rotated by size like Tetragon's export file: when the next
/// line would pass `maxBytes`, FILE becomes FILE.1 (FILE.1 becomes FILE.2…,
/// the oldest beyond `keep` is deleted). A line is never split across files.
/// Mode 0600: records name users and their ssh clients.
public final class ExportFile {
    /// `arm --export FILE --export-size SIZE --export-count N`.
    public struct Options {
        public var path: String
        public var maxBytes = 10 << 20
        public var keep = 5
        public init(path: String) { self.path = path }
    }

    public let path: String
    public let maxBytes: Int
    public let keep: Int
    private var fd: FileDescriptor
    private var size: Int

    public convenience init(_ options: Options) throws {
        try self.init(path: options.path, maxBytes: options.maxBytes, keep: options.keep)
    }

    public init(path: String, maxBytes: Int, keep: Int) throws {
        self.path = path
        self.maxBytes = maxBytes
        self.keep = max(0, keep)
        (fd, size) = try Self.open(path)
    }

    deinit { try? fd.close() }

    private static func open(_ path: String) throws -> (FileDescriptor, Int) {
        let fd = try FileDescriptor.open(FilePath(path), .writeOnly, options: [.create, .append, .closeOnExec],
                                         permissions: [.ownerReadWrite])
        let size = SystemCalls.fileStatus(path).map { Int($0.st_size) } ?? 0
        return (fd, size)
    }

    /// Appends one line (a trailing newline is added).
    public func write(_ line: String) throws {
        let bytes = Array((line + "\n").utf8)
        if size > 0 && size + bytes.count > maxBytes { try rotate() }
        _ = try fd.writeAll(bytes)
        size += bytes.count
    }

    private func rotate() throws {
        try fd.close()
        if keep == 0 {
            unlink(path)
        } else {
            unlink("\(path).\(keep)")
            for n in stride(from: keep - 1, through: 1, by: -1) { rename("\(path).\(n)", "\(path).\(n + 1)") }
            try SystemCalls.rename(path, "\(path).1")
        }
        (fd, size) = try Self.open(path)
    }
}
