import WitnessModel
import WitnessReport
import FoundationEssentials
import Glibc
import SystemPackage
import WitnessStore
import WitnessSystem

/// The kernel settings `arm --reboot2panic` changes, each saved before it is
/// changed (DIR/reboot2panic.json) so that a clean stop, or `disarm` after a
/// crash of `arm`, puts every one back.
public struct PanicSettings: Codable, Equatable {
    public struct Change: Codable, Equatable {
        public var path: String
        public var original: String
        public var value: String
    }

    public var changes: [Change] = []

    public static let fileName = "reboot2panic.json"

    /// Trace events, bpf_printk's included, also go to printk: only when the
    /// kernel was booted with tp_printk (the sysctl cannot turn it on later).
    public static var printkReachesKernelLog: Bool {
        Files.readLine("/proc/sys/kernel/tracepoint_printk") == "1"
    }

    /// Where the panic will be kept: a pstore backend, or kdump, or nothing.
    public struct Destinations: Equatable {
        public var pstoreBackend: String?
        public var kdumpLoaded: Bool
        public var crashKexecPostNotifiers: Bool?

        public static func probe(sysfs: String = "/sys") -> Destinations {
            let backend = Files.readLine("\(sysfs)/module/pstore/parameters/backend").flatMap { $0.isEmpty || $0 == "(null)" ? nil : $0 }
            let kdump = Files.readLine("\(sysfs)/kernel/kexec_crash_loaded") == "1"
            let post = Files.readLine("\(sysfs)/module/kernel/parameters/crash_kexec_post_notifiers").map { $0 == "Y" }
            return Destinations(pstoreBackend: backend, kdumpLoaded: kdump, crashKexecPostNotifiers: post)
        }

        /// Why a panic would leave nothing behind, or nil.
        public var refusal: String? {
            pstoreBackend == nil && !kdumpLoaded
                ? "no pstore backend (/sys/module/pstore/parameters/backend) and no kdump kernel loaded: the panic would leave nothing behind (use --force to arm anyway)"
                : nil
        }

        /// What `status` says about where a panic goes.
        public var description: String {
            var parts: [String] = []
            parts.append(pstoreBackend.map { "pstore backend \($0)" } ?? "no pstore backend")
            if kdumpLoaded {
                parts.append(crashKexecPostNotifiers == true
                    ? "kdump loaded (crash_kexec_post_notifiers=Y: pstore sees the panic too)"
                    : "kdump loaded: the crash kernel runs before the panic notifiers, so pstore never sees the panic "
                        + "(arm --crash-kexec-post-notifiers, or boot with crash_kexec_post_notifiers)")
            } else {
                parts.append("no kdump kernel loaded")
            }
            return parts.joined(separator: "; ")
        }
    }

    /// Sets `path` to `value`, remembering the original the first time.
    public mutating func set(_ path: String, _ value: String) throws {
        guard let original = Files.readLine(path) else {
            throw SystemError("read", path, errno: .noSuchFileOrDirectory)
        }
        try Self.write(path, value)
        if !changes.contains(where: { $0.path == path }) {
            changes.append(Change(path: path, original: original, value: value))
        }
    }

    /// Puts every changed setting back; returns what could not be restored.
    public func restore() -> [String] {
        changes.reversed().compactMap { change in
            do {
                try Self.write(change.path, change.original)
                return nil
            } catch {
                return "\(change.path): \(error)"
            }
        }
    }

    static func write(_ path: String, _ value: String) throws {
        let fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open", path, errno: Errno(rawValue: errno)) }
        defer { close(fd) }
        let bytes = Array((value + "\n").utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        if written != bytes.count { throw SystemError("write", path, errno: Errno(rawValue: errno)) }
    }

    /// The panic governor where a watchdog offers one (pretimeouts panic
    /// instead of waiting for the reset).
    public mutating func selectPanicPretimeoutGovernors(sysfs: String = "/sys") -> [String] {
        var selected: [String] = []
        for device in Files.list("\(sysfs)/class/watchdog") ?? [] {
            let base = "\(sysfs)/class/watchdog/\(device)"
            guard let offered = Files.readText("\(base)/pretimeout_available_governors"),
                  offered.split(whereSeparator: { $0 == "\n" || $0 == " " }).contains("panic"),
                  (try? set("\(base)/pretimeout_governor", "panic")) != nil else { continue }
            selected.append(device)
        }
        return selected
    }

    public func save(to directory: String) throws {
        try Files.writeAtomically("\(directory)/\(Self.fileName)", Array(RecordFormatter.json(self).utf8))
    }

    /// The saved originals: nil where nothing was saved. A file that exists
    /// but cannot be read or decoded throws, and is kept as it is: it may be
    /// the only copy of the host's original settings, so nothing may take it
    /// for "nothing saved" and overwrite it.
    public static func load(from directory: String) throws -> PanicSettings? {
        let path = "\(directory)/\(fileName)"
        guard Files.exists(path) else { return nil }
        guard let bytes = Files.read(path) else {
            throw PanicSettingsDamaged(path: path, problem: "cannot be read (\(Errno(rawValue: errno).description))")
        }
        do {
            return try JSONDecoder().decode(PanicSettings.self, from: Data(bytes))
        } catch {
            throw PanicSettingsDamaged(path: path, problem: "is damaged (\(bytes.count) bytes that are not saved settings)")
        }
    }

    public static func forget(in directory: String) {
        unlink("\(directory)/\(fileName)")
    }
}

/// A reboot2panic settings file that exists but cannot be used: refused and kept.
public struct PanicSettingsDamaged: Error, CustomStringConvertible {
    public let path: String
    public let problem: String
    public var description: String {
        "\(path) \(problem): the host's original panic settings are unknown; it is kept as it is (restore the "
            + "settings it names by hand, then remove it)"
    }
}

/// softdog's parameters are fixed at load and not in sysfs: its load message
/// in the kernel log is the only witness of soft_panic.
public enum SoftdogConfiguration {
    /// "1"/"0" from "softdog: initialized. soft_noboot=0 soft_margin=60 sec soft_panic=0 ...", or nil.
    public static func softPanic(kernelLog: String) -> Bool? {
        guard let line = kernelLog.split(separator: "\n").last(where: { $0.contains("softdog: initialized") }),
              let field = line.split(separator: " ").first(where: { $0.hasPrefix("soft_panic=") }) else { return nil }
        return field.dropFirst("soft_panic=".count).first == "1"
    }

    public static let modprobeFile = "/etc/modprobe.d/reboot-witness-softdog.conf"

    /// Processes holding a watchdog device open (softdog cannot be reloaded under them).
    public static func holders(proc: String = "/proc") -> [String] {
        var found: [String] = []
        for pid in Files.list(proc) ?? [] where pid.allSatisfy(\.isNumber) {
            for fd in Files.list("\(proc)/\(pid)/fd") ?? [] {
                if let target = SystemCalls.readLink("\(proc)/\(pid)/fd/\(fd)"), target.hasPrefix("/dev/watchdog") {
                    let comm = Files.readLine("\(proc)/\(pid)/comm") ?? "?"
                    found.append("\(comm)[\(pid)]")
                    break
                }
            }
        }
        return found
    }
}

/// `arm --reboot2panic --reconfigure-softdog`: softdog panics (soft_panic=1)
/// from its next load; reloaded now when nobody holds a watchdog device.
public enum SoftdogReconfiguration {
    public static func apply() -> String {
        let options = "# Written by reboot-witness arm --reconfigure-softdog: a softdog reset becomes a panic.\n"
            + "options softdog soft_panic=1\n"
        do {
            try Files.writeAtomically(SoftdogConfiguration.modprobeFile, Array(options.utf8), mode: [.ownerReadWrite, .groupRead, .otherRead])
        } catch {
            return "softdog: cannot write \(SoftdogConfiguration.modprobeFile): \(error)"
        }
        guard Files.exists("/sys/module/softdog") else {
            return "softdog: not loaded; \(SoftdogConfiguration.modprobeFile) makes it panic when it loads"
        }
        let holders = SoftdogConfiguration.holders()
        guard holders.isEmpty else {
            return "softdog: held open by \(holders.joined(separator: ", ")), so it cannot be reloaded now; it panics "
                + "from its next load (or boot with softdog.soft_panic=1)"
        }
        guard Subprocess.run(["modprobe", "-r", "softdog"]) == 0, Subprocess.run(["modprobe", "softdog"]) == 0 else {
            return "softdog: reload with modprobe failed; it panics from its next load (or boot with softdog.soft_panic=1)"
        }
        return "softdog: reloaded with soft_panic=1"
    }
}
