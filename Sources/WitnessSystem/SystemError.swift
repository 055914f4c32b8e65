import CWitness
import Glibc
import SystemPackage

/// A failed system or library call: the operation, what it acted on, and errno.
public struct SystemError: Error, CustomStringConvertible, Equatable {
    public var operation: String
    public var subject: String?
    public var errno: Errno
    /// Extra words from the library that failed (libbpf's last log lines).
    public var detail: String?

    public init(_ operation: String, _ subject: String? = nil, errno: Errno, detail: String? = nil) {
        self.operation = operation
        self.subject = subject
        self.errno = errno
        self.detail = detail
    }

    public var description: String {
        var text = operation
        if let subject { text += " \(subject)" }
        text += ": \(errno.description) (\(errno.symbolicName))"
        if let detail, !detail.isEmpty { text += "\n\(detail)" }
        return text
    }
}

extension Errno {
    /// "EINVAL", "EPERM"…: what kernel people grep for (glibc's strerrorname_np).
    public var symbolicName: String {
        if rawValue == 524 { return "ENOTSUPP" }  // kernel-internal, returned by BPF
        return cw_errno_name(rawValue).map { String(cString: $0) } ?? "E\(rawValue)"
    }
}
