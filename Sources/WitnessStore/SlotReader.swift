import SystemPackage

/// Reads a store's slots many at a time (one pread per run of them: every
/// start of `arm`, `status`, `dump` and `last` reads the whole store), and
/// one at a time where a run's read fails or comes back short, so that a
/// read error costs only the slots it hits.
struct SlotReader {
    /// At most this many bytes per read, whatever the slot size.
    static let runBytes = 256 << 10

    /// Reads at an offset into a buffer: the bytes read (fewer at the end
    /// of the file), or nil on an error (EIO…).
    typealias Read = (_ offset: Int, _ into: UnsafeMutableRawBufferPointer) -> Int?

    let slotSize: Int
    let slotCount: Int
    let fileSize: Int
    let read: Read

    init(slotSize: Int, slotCount: Int, fileSize: Int, read: @escaping Read) {
        self.slotSize = slotSize; self.slotCount = slotCount; self.fileSize = fileSize; self.read = read
    }

    init(fd: FileDescriptor, slotSize: Int, slotCount: Int, fileSize: Int) {
        self.init(slotSize: slotSize, slotCount: slotCount, fileSize: fileSize) { offset, buffer in
            try? fd.read(fromAbsoluteOffset: Int64(offset), into: buffer)
        }
    }

    /// Calls `visit` with each slot's index and bytes, in order, up to the
    /// end of the file (a torn last slot is shorter); nil where the read failed.
    func forEach(_ visit: (Int, ArraySlice<UInt8>?) -> Void) {
        let run = max(1, Self.runBytes / slotSize)
        var buffer = [UInt8](repeating: 0, count: slotSize * run)
        var index = 0
        while index < slotCount {
            let offset = slotSize * (index + 1)
            guard offset < fileSize else { return }  // a truncated file: the rest is gone
            let count = min(run, slotCount - index)
            let length = min(slotSize * count, fileSize - offset)
            if read(into: &buffer, at: offset, length: length) == length {
                for k in 0..<count where k * slotSize < length {
                    visit(index + k, buffer[(k * slotSize)..<min((k + 1) * slotSize, length)])
                }
            } else {
                for k in 0..<count where offset + k * slotSize < fileSize {
                    let got = read(into: &buffer, at: offset + k * slotSize, length: min(slotSize, fileSize - offset - k * slotSize))
                    visit(index + k, got.map { buffer[0..<$0] })
                }
            }
            index += count
        }
    }

    private func read(into buffer: inout [UInt8], at offset: Int, length: Int) -> Int? {
        buffer.withUnsafeMutableBytes { read(offset, UnsafeMutableRawBufferPointer(rebasing: $0[0..<length])) }
    }
}
