import BPFObjects
import WitnessModel
import WitnessSystem

/// Kernel addresses to "function+0xoff [module]" through /proc/kallsyms.
/// Nothing is loaded until the first unknown address, and the file is then
/// scanned only for the addresses asked for, so an idle controller stays
/// small and a storm of identical stacks costs one scan.
public final class KernelSymbols {
    private var cache: [UInt64: String] = [:]
    private let path: String

    public init(path: String = "/proc/kallsyms") {
        self.path = path
    }

    /// Symbols for a stack, innermost first. The frames of our own BPF
    /// program and its trampoline (fentry) are dropped: the stack starts at
    /// the probed kernel function, as it does for kprobes.
    public func symbolize(_ addresses: [UInt64]) -> [String] {
        let missing = Set(addresses.filter { cache[$0] == nil })
        if !missing.isEmpty { resolve(missing) }
        let frames = addresses.map { cache[$0] ?? hex($0) }
        if let lastOwn = frames.lastIndex(where: { $0.hasSuffix(" [bpf]") }) {
            return Array(frames[(lastOwn + 1)...])
        }
        return frames
    }

    /// One pass over the file's bytes: most lines cost their address only
    /// (a stopping record waits for this, and /proc/kallsyms has 100,000+
    /// lines: under emulation a String per line took seconds).
    private func resolve(_ wanted: Set<UInt64>) {
        guard let bytes = Files.read(path) else { return }
        // best[address] = (symbol start, line range) with the greatest start <= address
        var best: [UInt64: (start: UInt64, line: Range<Int>)] = [:]
        let sortedWanted = wanted.sorted()
        let lowest = sortedWanted.first ?? 0, highest = sortedWanted.last ?? 0
        var lineStart = 0
        bytes.withUnsafeBufferPointer { text in
            while lineStart < text.count {
                var end = lineStart
                while end < text.count && text[end] != 0x0A { end += 1 }
                defer { lineStart = end + 1 }
                var address: UInt64 = 0, index = lineStart
                while index < end, let digit = Self.hexValue(text[index]) { address = address << 4 | digit; index += 1 }
                // Only wanted addresses at or above this symbol, within 1 MiB, can be inside it.
                guard address != 0, address <= highest, address >= lowest || lowest - address < 1 << 20, index + 2 < end, text[index] == 0x20, "tTwW".utf8.contains(text[index + 1]) else { continue }
                for wantedAddress in sortedWanted where wantedAddress >= address && wantedAddress - address < 1 << 20 {
                    if let current = best[wantedAddress], current.start >= address { continue }
                    best[wantedAddress] = (address, lineStart..<end)
                }
            }
        }
        for address in wanted {
            guard let hit = best[address],
                  let symbol = KallsymsLine(String(decoding: bytes[hit.line], as: UTF8.self)) else {
                cache[address] = hex(address)
                continue
            }
            var name = "\(symbol.name)+0x\(String(address - hit.start, radix: 16))"
            if let module = symbol.module { name += " [\(module)]" }
            cache[address] = name
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt64? {
        switch byte {
        case 0x30...0x39: return UInt64(byte - 0x30)
        case 0x61...0x66: return UInt64(byte - 0x61 + 10)
        case 0x41...0x46: return UInt64(byte - 0x41 + 10)
        default: return nil
        }
    }

    private func hex(_ address: UInt64) -> String { "0x" + String(address, radix: 16) }
}
