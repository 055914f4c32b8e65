/// The two mount tables preflight reads: the kernel's /proc/PID/mountinfo
/// and an image's /etc/fstab. Fields are split at blanks; a line that does
/// not have the fields is skipped, never guessed at.

/// "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw": the optional fields
/// between the mount options and "-" vary in number.
public struct MountInfoLine: Equatable, Sendable {
    public var majorMinor: String
    public var mountPoint: String
    public var fileSystem: String
    public var source: String

    public init?<S: StringProtocol>(_ line: S) {
        let fields = line.split(separator: " ")
        guard fields.count >= 5, let dash = fields.dropFirst(6).firstIndex(of: "-"), dash + 2 < fields.count else { return nil }
        majorMinor = String(fields[2])
        mountPoint = String(fields[4])
        fileSystem = String(fields[dash + 1])
        source = String(fields[dash + 2])
    }

    /// The mount of / that is in effect: the last one listed.
    public static func root(in mountinfo: String) -> MountInfoLine? {
        mountinfo.split(separator: "\n").lazy.reversed().compactMap { MountInfoLine($0) }.first { $0.mountPoint == "/" }
    }
}

/// "UUID=… / ext4 errors=remount-ro 0 1"; comments start with "#".
public struct FstabLine: Equatable, Sendable {
    public var spec: String
    public var mountPoint: String
    public var fileSystem: String

    public init?<S: StringProtocol>(_ line: S) {
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count >= 3, !fields[0].hasPrefix("#") else { return nil }
        spec = String(fields[0])
        mountPoint = String(fields[1])
        fileSystem = String(fields[2])
    }

    /// The first entry for /, as mount -a would take it.
    public static func root(in fstab: String) -> FstabLine? {
        fstab.split(separator: "\n").lazy.compactMap { FstabLine($0) }.first { $0.mountPoint == "/" }
    }
}
