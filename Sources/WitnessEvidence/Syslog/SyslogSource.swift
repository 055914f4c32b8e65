import WitnessSystem

/// One boot as a host's text logs tell it: from the kernel's "Linux
/// version" line to the last line before the next one.
public struct SyslogBoot: Equatable, Sendable {
    /// When its "Linux version" line was logged (rsyslog's receive time: a
    /// few seconds after the boot began); nil when that line was rotated away.
    public var start: Instant?
    public var first: Instant?
    public var last: Instant?
    /// "6.1.0-26-amd64", from the boot line.
    public var kernel: String?
    public var startLine: SyslogEntry?
    /// The lines that tell how it ended, from every stream, oldest first.
    public var telling: [SyslogEntry] = []
    /// Its last lines (the last is its last sign of life).
    public var tail: [SyslogEntry] = []
    /// What reading its files met (damage, foreign hosts, clock steps).
    public var notes: [String] = []
    /// PID 1's first "running in system mode" line in it.
    public var managerLine: SyslogEntry?
    /// PID 1 said "Startup finished" in it.
    public var finishedStartup = false

    public init(start: Instant?) { self.start = start }
}

/// A host's text syslog (rsyslog's files and their rotations), read only as
/// far back as the boots asked for: newest file first, each read forward
/// once, within a byte budget.
public final class SyslogSource {
    public let directory: String
    public let files: [SyslogFile]
    /// What was not read, and why (files not trusted, too many rotations, the budget).
    public private(set) var notes: [String]
    private var scans: [Int: SyslogFileScan] = [:]
    private var budget: Int64

    /// Bytes read in one run at most, and of one file (its newest part).
    public static let runLimit: Int64 = 8 << 30, fileLimit: Int64 = 2 << 30

    public init(directory: String = "/var/log", budget: Int64 = SyslogSource.runLimit) {
        self.directory = directory
        (files, notes) = SyslogFiles.find(in: directory)
        self.budget = budget
    }

    /// The boots the text logs know, oldest first: at least the newest
    /// `count` of them (every boot when nil) once the files hold that many.
    public func boots(newest count: Int?) -> [SyslogBoot] {
        let main = files.indices.filter { files[$0].stream == .main }
        var starts = 0
        var readAll = true
        for index in main.reversed() {
            if let count, starts >= count {
                readAll = false
                break
            }
            starts += scan(index).entries.filter { $0.kind == .bootStart }.count
        }
        var boots = assemble(main.filter { scans[$0] != nil }, keepHeadless: readAll)
        guard let oldest = boots.first?.start ?? boots.first?.first else { return boots }
        // The authentication log, newest first, back to the oldest boot kept.
        for index in files.indices.filter({ files[$0].stream == .auth }).reversed() {
            let scan = scan(index)
            for entry in scan.entries where entry.kind == .telling {
                guard let time = entry.time, let owner = boots.lastIndex(where: { ($0.start ?? $0.first).map { $0 <= time } ?? false })
                    ?? (boots.first?.start == nil ? 0 : nil) else { continue }
                boots[owner].telling.append(entry)
            }
            if let first = scan.firstTime, first < oldest { break }
        }
        for index in boots.indices { boots[index].telling.sort(by: SyslogEntry.inOrder) }
        return boots
    }

    private func scan(_ index: Int) -> SyslogFileScan {
        if let done = scans[index] { return done }
        let limit = min(Self.fileLimit, budget)
        var scan: SyslogFileScan
        if limit <= 0 {
            scan = SyslogFileScan(files[index], rank: index, byteLimit: 0)
            notes.append("\(files[index].path) not read: the \(Self.runLimit >> 30) GiB read budget of this run was spent")
        } else {
            scan = SyslogFileScan(files[index], rank: index, byteLimit: limit)
            budget -= scan.bytesRead
        }
        scans[index] = scan
        return scan
    }

    /// Does `entry` begin a boot after `current`? The kernel's line does
    /// unless the boot already began at PID 1's (rsyslog's imklog reads the
    /// kernel's lines late: the early lines journald forwarded come first);
    /// PID 1's does once the boot before finished starting up (the next
    /// boot, or a soft reboot), not before (dracut's initrd runs a manager
    /// of its own before the root's).
    static func beginsBoot(_ entry: SyslogEntry, after current: SyslogBoot?) -> Bool {
        switch entry.kind {
        case .bootStart:
            guard let current, current.managerLine != nil, current.startLine == nil else { return true }
            return current.finishedStartup
        case .managerStart: return current == nil || current?.finishedStartup == true
        case .telling, .tail: return false
        }
    }

    /// Boots out of the main stream's files (oldest first): each boot line
    /// starts one; the lines before the first belong to a boot whose start
    /// was rotated away (kept only when every file was read).
    private func assemble(_ indices: [Int], keepHeadless: Bool) -> [SyslogBoot] {
        var boots: [SyslogBoot] = []
        var current: SyslogBoot?
        for index in indices {
            let scan = scans[index]!
            let local = scan.localHosts
            let fileNotes = scan.notes
            let firstLocal = scan.entries.first { local.contains($0.line.host) }
            if current == nil && keepHeadless, let firstLocal, firstLocal.kind == .telling || firstLocal.kind == .tail {
                current = SyslogBoot(start: nil)
                current?.notes.append("\(files[index].path) begins inside a boot: its start was rotated away")
            }
            current?.notes += fileNotes
            for entry in scan.entries where local.contains(entry.line.host) {
                if Self.beginsBoot(entry, after: current) {
                    if let done = current { boots.append(done) }
                    current = SyslogBoot(start: entry.time)
                    current?.notes = fileNotes
                }
                if entry.kind == .managerStart, current != nil, current!.managerLine == nil { current!.managerLine = entry }
                if entry.kind == .bootStart, current != nil {
                    current!.startLine = entry
                    current!.kernel = entry.line.message.locate("Linux version ").map { String(entry.line.message[$0.upperBound...].prefix { $0 != " " }) }
                    // PID 1's line, when it came first, is the closer stamp of the boot's start.
                    current!.start = [current!.start, entry.time].compactMap { $0 }.min()
                }
                if entry.kind == .telling, entry.line.ident == "systemd", entry.line.message.hasPrefix("Startup finished") {
                    current?.finishedStartup = true
                }
                guard current != nil else { continue }
                if current!.first == nil { current!.first = entry.time }
                if let time = entry.time { current!.last = time }
                if entry.kind == .tail {
                    current!.tail.append(entry)
                    if current!.tail.count > SyslogFileScan.tailLength * 2 { current!.tail.removeFirst(SyslogFileScan.tailLength) }
                } else {
                    current!.telling.append(entry)
                    current!.tail.append(entry)
                }
            }
        }
        if let done = current { boots.append(done) }
        for index in boots.indices {
            boots[index].tail = Array(boots[index].tail.sorted { ($0.rank, $0.number) < ($1.rank, $1.number) }.suffix(SyslogFileScan.tailLength))
        }
        return boots
    }
}
