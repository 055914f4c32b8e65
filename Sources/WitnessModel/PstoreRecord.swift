/// A record the kernel left in pstore (ramoops, EFI, …) in an earlier boot,
/// harvested by `arm`: its header and the lines that tell how the boot ended.
public struct PstoreRecord: Codable, Equatable, Sendable {
    /// The boot that wrote it, as far as the store knows (the last boot it
    /// saw before this one), or nil.
    public var bootID: String?
    public var file: String
    /// "Panic#1 Part1", "Emergency#1 Part1", "Shutdown#1 Part1", "Oops#1 Part1"…
    public var header: String
    public var time: String?
    public var bytes: Int
    public var excerpt: [String]

    enum CodingKeys: String, CodingKey { case bootID = "boot_id", file, header, time, bytes, excerpt }

    public init(bootID: String?, file: String, header: String, time: String?, bytes: Int, excerpt: [String]) {
        self.bootID = bootID
        self.file = file
        self.header = header
        self.time = time
        self.bytes = bytes
        self.excerpt = excerpt
    }

    /// Lines that say how a boot ended, out of a dmesg-style pstore record.
    static let tellingMarkers = ["Kernel panic", "panic", "sysrq", "Oops", "BUG:", "RIP:", "Call Trace", "softdog",
                                 "watchdog", "reboot", "Restarting", "Power down", "System halted", "Resetting",
                                 "Out of memory", "oom-kill", "hung_task", "reboot-witness"]

    /// Builds the record from a pstore file's text, keeping the last `limit`
    /// telling lines (slots are 4 KiB).
    public static func from(file: String, text: String, bootID: String?, time: String?, limit: Int = 24) -> PstoreRecord {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        let header = lines.first.map(String.init) ?? ""
        let telling = lines.dropFirst().filter { line in tellingMarkers.contains { line.contains($0) } }
        let excerpt = telling.suffix(limit).map { String($0.prefix(160)) }
        return PstoreRecord(bootID: bootID, file: file, header: header, time: time, bytes: text.utf8.count,
                            excerpt: excerpt)
    }
}
