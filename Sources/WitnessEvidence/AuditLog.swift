import CAudit
import Glibc
import SystemPackage
import WitnessSystem
import WitnessModel

/// One audit event, as libauparse reads it.
public struct AuditEvent: Equatable, Sendable {
    /// The first record's type: USER_CMD, SYSTEM_SHUTDOWN, SERVICE_START…
    public var type: String
    public var time: Instant
    public var serial: UInt64
    /// Interpreted values (as `ausearch -i` prints them) of the event's
    /// fields, the first of each name.
    public var fields: [String: String]
    /// file:line of the event in the log.
    public var location: String

    public init(type: String, time: Instant, serial: UInt64, fields: [String: String], location: String) {
        self.type = type; self.time = time; self.serial = serial; self.fields = fields; self.location = location
    }

    public subscript(_ name: String) -> String? { fields[name] }

    /// Why this event's sender is not the one its type belongs to, or nil.
    /// The kernel stamps a user-space event's pid=, uid= and auid=, and
    /// accepts it only from a process with CAP_AUDIT_WRITE; auditd writes
    /// the file as root. What is checked here is that the sender is the
    /// program the event speaks for: PID 1 for a service's start, a root
    /// process for the boot, shutdown and runlevel records, sudo for a
    /// command, sshd for a login.
    public var distrust: String? {
        let program = self["exe"].map { String($0.split(separator: "/").last ?? "") }
        let root = self["uid"] == "root" || self["uid"] == "0"
        switch type {
        case "SERVICE_START":
            return self["pid"] == "1" ? nil : "a SERVICE_START not sent by PID 1"
        case "SYSTEM_BOOT", "SYSTEM_SHUTDOWN", "SYSTEM_RUNLEVEL":
            return root ? nil : "a \(type) sent by uid \(self["uid"] ?? "?")"
        case "USER_CMD":
            return program == "sudo" ? nil : "a USER_CMD sent by \(self["exe"] ?? "an unknown program"), not sudo"
        case "USER_LOGIN", "USER_START":
            return root ? nil : "a \(type) sent by uid \(self["uid"] ?? "?")"
        default:
            return nil
        }
    }
}

/// The audit log (auditd's files, rotations included) through libauparse,
/// for the events that tell how a boot ended or who asked for it.
public enum AuditLog {
    public static let defaultDirectory = "/var/log/audit"
    public static let types = ["SYSTEM_BOOT", "SYSTEM_SHUTDOWN", "SYSTEM_RUNLEVEL", "USER_CMD", "SERVICE_START",
                               "USER_LOGIN", "USER_START"]
    /// At most this much of the log is read (newest files first); older files are left out and said so.
    public static let byteLimit: Int64 = 256 << 20
    public static let eventLimit = 50_000

    public struct Reading: Sendable {
        public var events: [AuditEvent]
        /// Files left out (too old for the window, or over the byte limit), and read problems.
        public var notes: [String]
    }

    /// Files of the log in `directory`, oldest first (audit.log.N … audit.log.1, audit.log),
    /// with their sizes and modification times.
    static func files(in directory: String) -> [(path: String, size: Int64, modified: Instant)] {
        guard let names = Files.list(directory) else { return [] }
        let numbered = names.compactMap { name -> (Int, String)? in
            if name == "audit.log" { return (0, name) }
            guard name.hasPrefix("audit.log."), let n = Int(name.dropFirst("audit.log.".count)) else { return nil }
            return (n, name)
        }
        return numbered.sorted { $0.0 > $1.0 }.compactMap { _, name in
            let path = directory + "/" + name
            guard let st = SystemCalls.fileStatus(path), (st.st_mode & S_IFMT) == S_IFREG else { return nil }
            return (path, Int64(st.st_size), Instant(seconds: Int64(st.st_mtim.tv_sec)))
        }
    }

    /// At most this much of the records kept (the lines of `types`) goes to libauparse.
    public static let keptByteLimit = 32 << 20

    /// Events of `types` from `start` on (and before `end`), oldest first.
    /// A file last written before `start` holds none and is not read. Each
    /// file is read as a stream, and only the lines of `types` go on to
    /// libauparse (whose cost grows with what it must group into events: a
    /// log of SYSCALL records with no EOE once took it minutes). A file
    /// someone other than root could have written is not read.
    public static func read(directory: String = defaultDirectory, from start: Instant, to end: Instant? = nil,
                            types: [String] = types) -> Result<Reading, SystemError> {
        var notes: [String] = []
        var chosen: [String] = []
        var bytes: Int64 = 0
        for file in files(in: directory).reversed() where file.modified >= start {
            guard bytes + file.size <= byteLimit else {
                notes.append("\(file.path) and older not read (over \(byteLimit >> 20) MiB)")
                break
            }
            bytes += file.size
            chosen.insert(file.path, at: 0)
        }
        guard !chosen.isEmpty else {
            return Files.exists(directory) ? .success(Reading(events: [], notes: notes))
                : .failure(SystemError("read audit log", directory, errno: .noSuchFileOrDirectory))
        }
        let (text, locations) = keptRecords(chosen, types: Set(types), notes: &notes)
        guard !locations.isEmpty else { return .success(Reading(events: [], notes: notes)) }
        var expression = "(" + types.map { "\\record_type == \($0)" }.joined(separator: " || ") + ")"
        expression += " && \\timestamp >= ts:\(start.microseconds / 1_000_000).\(start.microseconds / 1000 % 1000)"
        if let end { expression += " && \\timestamp < ts:\(end.microseconds / 1_000_000).\(end.microseconds / 1000 % 1000)" }
        var error: Int32 = 0
        var message = [CChar](repeating: 0, count: 256)
        guard let handle = cw_audit_open(text, expression, &error, &message, Int32(message.count)) else {
            let detail = error == -ENOENT ? "libauparse.so.0 is not installed"
                : String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return .failure(SystemError("auparse", directory, errno: Errno(rawValue: -error), detail: detail))
        }
        defer { cw_audit_close(handle) }
        var events: [AuditEvent] = []
        var event = cw_audit_event()
        while events.count < eventLimit {
            let rc = cw_audit_next(handle, &event)
            if rc < 0 { notes.append("the log stopped reading at an unreadable event (\(Errno(rawValue: -rc)))"); break }
            guard rc > 0 else { break }
            var fields: [String: String] = [:]
            for pair in CString.decode(&event.fields).split(separator: "\u{1f}") {
                guard let equals = pair.firstIndex(of: "=") else { continue }
                let name = String(pair[..<equals])
                if fields[name] == nil { fields[name] = String(pair[pair.index(after: equals)...]) }
            }
            let index = Int(event.line) - 1
            let location = locations.indices.contains(index) ? locations[index] : "line \(event.line) of the records kept"
            // Every user-space event auditd writes ends with res=; a line cut by a crash does not.
            guard fields["res"] != nil else {
                notes.append("an incomplete event at \(location) left out")
                continue
            }
            events.append(AuditEvent(type: CString.decode(&event.type),
                                     time: Instant(seconds: event.seconds, microseconds: Int64(event.milli) * 1000),
                                     serial: UInt64(event.serial), fields: fields, location: location))
        }
        if events.count == eventLimit { notes.append("stopped after \(eventLimit) events") }
        return .success(Reading(events: events, notes: notes))
    }

    /// The lines of `types` in `paths` (oldest first), as one text for
    /// libauparse, and each kept line's file:line. Only root-owned files no
    /// one else may write are read (auditd writes them as root, 0600 or
    /// 0640): what anyone else could have written is no evidence.
    static func keptRecords(_ paths: [String], types: Set<String>, notes: inout [String]) -> (String, [String]) {
        var kept: [UInt8] = []
        var locations: [String] = []
        for path in paths {
            let reader: LineReader
            do {
                reader = try LineReader(path: path, byteLimit: byteLimit, lineLimit: 16 << 10, gzip: false)
            } catch {
                notes.append("\(path): \(error)")
                continue
            }
            if let distrust = FileTrust.rootOnly(reader.status) {
                notes.append("\(path) not read: \(distrust)")
                continue
            }
            while let line = reader.next() {
                guard !line.cut, let type = recordType(line.bytes), types.contains(type) else { continue }
                guard kept.count + line.bytes.count < keptByteLimit else {
                    notes.append("records past \(keptByteLimit >> 20) MiB not read (from \(path):\(line.number) on)")
                    return (String(decoding: kept, as: UTF8.self), locations)
                }
                kept += line.bytes
                kept.append(10)
                locations.append("\(path):\(line.number)")
            }
            if reader.cutLines > 0 { notes.append("\(path): \(reader.cutLines) line(s) over 16 KiB left out") }
            if let damage = reader.damage { notes.append("\(path): \(damage)") }
        }
        return (String(decoding: kept, as: UTF8.self), locations)
    }

    /// "USER_CMD" of "type=USER_CMD msg=audit(…)" (or "node=h type=USER_CMD …").
    static func recordType(_ line: ArraySlice<UInt8>) -> String? {
        var rest = line
        if rest.starts(with: Array("node=".utf8)) {
            guard let space = rest.firstIndex(of: 32) else { return nil }
            rest = rest[(space + 1)...]
        }
        guard rest.starts(with: Array("type=".utf8)) else { return nil }
        let name = rest.dropFirst(5).prefix { $0 != 32 }
        guard !name.isEmpty, name.count < 40 else { return nil }
        return String(decoding: name, as: UTF8.self)
    }

    /// sudo's USER_CMD events for reboot-family commands, as user commands.
    public static func userCommands(_ events: [AuditEvent]) -> [UserCommand] {
        events.compactMap { event in
            guard event.type == "USER_CMD", event["res"] == "success", let command = event["cmd"],
                  let action = IntentFilter.action(argv: command.split(separator: " ").map(String.init)) else { return nil }
            let auid = event["auid"].flatMap { $0 == "unset" || $0 == "4294967295" ? nil : $0 }
            let user = auid ?? event["uid"] ?? "?"
            let terminal = event["terminal"].flatMap { $0 == "?" ? nil : $0 }
            return UserCommand(time: event.time.iso8601, action: action, command: command, user: user,
                               tty: terminal.map { $0.hasPrefix("/dev/") ? String($0.dropFirst(5)) : $0 },
                               session: event["ses"].flatMap { UInt32($0) }, source: "audit",
                               tool: event["exe"].map { String($0.split(separator: "/").last ?? "") } ?? "sudo",
                               pid: event["pid"].flatMap { UInt32($0) })
        }
    }

    /// The ssh client address of audit session `session`, from sshd's USER_LOGIN or USER_START.
    public static func remoteAddress(session: UInt32, in events: [AuditEvent]) -> String? {
        events.last { event in
            ["USER_LOGIN", "USER_START"].contains(event.type) && event["ses"] == String(session)
                && (event["exe"]?.hasSuffix("sshd") == true || event["exe"]?.hasSuffix("sshd-session") == true)
        }.flatMap { $0["addr"] }.flatMap { $0 == "?" ? nil : $0 }
    }
}
