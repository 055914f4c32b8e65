import WitnessSystem

/// The ssh connection a process came in by, resolved from /proc while the
/// session is alive: the SSH_CONNECTION its environment (or an ancestor's)
/// carries, else the TCP peer of an `sshd` ancestor's socket.
public enum SSHPeer {
    /// "address:port" of the client, or nil. `pids`: the process, then its
    /// ancestors; `comms` their names where known (the BPF record has them).
    /// Without an `sshd` among them only the process and its parent are
    /// asked (a session whose chain was broken by a daemonizing parent):
    /// /proc reads are slow enough to matter while a reboot(2) is held.
    public static func find(pids: [UInt32], comms: [String]? = nil, proc: String = "/proc") -> String? {
        let viaSSHD = comms.map { $0.contains { $0.hasPrefix("sshd") } } ?? true
        for pid in viaSSHD ? pids : Array(pids.prefix(2)) {
            if let bytes = Files.read("\(proc)/\(pid)/environ", limit: 1 << 20),
               let peer = fromEnvironment(bytes) { return peer }
        }
        guard viaSSHD else { return nil }
        for pid in pids where Files.readLine("\(proc)/\(pid)/comm")?.hasPrefix("sshd") == true {
            if let peer = fromSockets(pid: pid, proc: proc) { return peer }
        }
        return nil
    }

    /// SSH_CONNECTION="client port server port" → "client:port".
    public static func fromEnvironment(_ bytes: [UInt8]) -> String? {
        guard let fields = ProcText.environment(bytes, "SSH_CONNECTION")?.split(separator: " "), fields.count == 4 else { return nil }
        return join(String(fields[0]), String(fields[1]))
    }

    static func fromSockets(pid: UInt32, proc: String) -> String? {
        var inodes = Set<String>()
        for fd in Files.list("\(proc)/\(pid)/fd") ?? [] {
            if let target = SystemCalls.readLink("\(proc)/\(pid)/fd/\(fd)"), target.hasPrefix("socket:[") {
                inodes.insert(String(target.dropFirst(8).dropLast()))
            }
        }
        for table in ["tcp", "tcp6"] {
            guard let text = Files.readText("\(proc)/\(pid)/net/\(table)") else { continue }
            if let peer = peer(inTable: text, inodes: inodes) { return peer }
        }
        return nil
    }

    /// The remote end of the established connection owning one of `inodes`
    /// in a /proc/net/tcp{,6} table.
    public static func peer(inTable text: String, inodes: Set<String>) -> String? {
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: " ")
            // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
            guard f.count >= 10, f[3] == "01", inodes.contains(String(f[9])) else { continue }
            let remote = f[2].split(separator: ":")
            guard remote.count == 2, let port = UInt16(remote[1], radix: 16),
                  let address = decodeAddress(String(remote[0])) else { continue }
            return join(address, String(port))
        }
        return nil
    }

    /// /proc/net's hex address: 32-bit words in host (little-endian) order.
    static func decodeAddress(_ hex: String) -> String? {
        guard hex.count == 8 || hex.count == 32 else { return nil }
        var bytes: [UInt8] = []
        var words = Array(hex)
        while !words.isEmpty {
            let word = String(words.prefix(8))
            words.removeFirst(8)
            guard let value = UInt32(word, radix: 16) else { return nil }
            bytes += [UInt8(value & 0xff), UInt8(value >> 8 & 0xff), UInt8(value >> 16 & 0xff), UInt8(value >> 24)]
        }
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
            return bytes[12...].map(String.init).joined(separator: ".")  // v4-mapped
        }
        return stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            .joined(separator: ":")
    }

    static func join(_ address: String, _ port: String) -> String {
        address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
    }
}
