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

    private func resolve(_ wanted: Set<UInt64>) {
        guard let bytes = Files.read(path) else { return }
        // best[address] = (symbol start, name, module) with the greatest start <= address
        var best: [UInt64: (start: UInt64, name: Substring, module: Substring?)] = [:]
        let sortedWanted = wanted.sorted()
        let text = String(decoding: bytes, as: UTF8.self)
        for line in text.split(separator: "\n") {
            guard let symbol = KallsymsLine(line), symbol.address != 0, symbol.isText else { continue }
            let start = symbol.address
            // Only wanted addresses at or above this symbol can be inside it.
            for address in sortedWanted where address >= start && address - start < 1 << 20 {
                if let current = best[address], current.start >= start { continue }
                best[address] = (start, symbol.name, symbol.module)
            }
        }
        for address in wanted {
            guard let hit = best[address] else {
                cache[address] = hex(address)
                continue
            }
            var name = "\(hit.name)+0x\(String(address - hit.start, radix: 16))"
            if let module = hit.module { name += " [\(module)]" }
            cache[address] = name
        }
    }

    private func hex(_ address: UInt64) -> String { "0x" + String(address, radix: 16) }
}
