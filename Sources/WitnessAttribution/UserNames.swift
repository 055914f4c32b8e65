import Glibc

/// uid → user name through NSS (getpwuid_r), cached: a reboot storm must not
/// cost an NSS lookup per record.
public final class UserNames {
    private var cache: [UInt32: String?] = [:]

    public init() {}

    public func name(_ uid: UInt32) -> String? {
        if let cached = cache[uid] { return cached }
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 1024)
        let rc = getpwuid_r(uid, &entry, &buffer, buffer.count, &result)
        let name = (rc == 0 && result != nil) ? String(cString: entry.pw_name) : nil
        cache[uid] = name
        return name
    }
}
