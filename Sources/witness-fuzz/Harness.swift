import CWitness
import Glibc
import WitnessAttribution
import WitnessCapture
import WitnessEvidence
import WitnessModel
import WitnessPreflight
import WitnessStore
import WitnessSystem

/// One function per target: the parser's public entry points, as the
/// witness calls them, on the fuzzer's bytes.
enum Harness {
    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    static func store(_ bytes: [UInt8]) {
        _ = scratchFile(SlotStore.fileName, bytes)
        guard let store = try? SlotStore(directory: scratch, create: false), let contents = try? store.load() else { return }
        understood += contents.entries.count
    }

    static func bootLoader(_ bytes: [UInt8]) {
        let text = text(bytes)
        let menu = GrubMenu.parse(text)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for line in lines.prefix(8) { shown(menu.entry(for: String(line))?.title) }
        // grubenv is exactly 1024 bytes: shape the input so the parser gets past its size check.
        var block = Array(bytes.prefix(GrubEnvironment.size))
        block += Array(repeating: UInt8(ascii: "#"), count: GrubEnvironment.size - block.count)
        _ = GrubEnvironment.parse(bytes)
        if case .success(let env) = GrubEnvironment.parse(block) { env.values.forEach { shown($0.key); shown($0.value) } }
        let entry = BootLoaderEntry.parse(fileName: "fuzz.conf", text: text, base: "/boot")
        shown(entry.title)
        shown(entry.linux)
        if lines.count >= 2 {
            // loader.conf's default against an entry id (a file name: at most 255 bytes).
            let pattern = NextBootResolver.loaderDefault(text) ?? String(lines[0])
            _ = NextBootResolver.glob(pattern, String(lines[1].prefix(255)))
            _ = VersionOrder.compare(String(lines[0]), String(lines[1]))
            if !pattern.contains(where: { $0 == "*" || $0 == "?" }) {
                precondition(NextBootResolver.glob(pattern, pattern), "a pattern without wildcards must match itself")
            }
        }
        shown(NextBootResolver.version(ofKernel: text))
        if case .success(let value) = LoaderVariable.decode(bytes) { shown(value) }
    }

    static func mounts(_ bytes: [UInt8]) {
        let text = text(bytes)
        if let root = MountInfoLine.root(in: text) { shown(root.source); shown(root.fileSystem) }
        if let root = FstabLine.root(in: text) { shown(root.spec); shown(root.fileSystem) }
    }

    static func modules(_ bytes: [UInt8]) {
        let text = text(bytes)
        let half = text.index(text.startIndex, offsetBy: text.count / 2)
        let index = ModuleIndex(modulesDep: String(text[..<half]), modulesBuiltin: String(text[half...]))
        for name in index.dependencies.keys.prefix(16) {
            let closure = index.closure(of: name)
            precondition(Set(closure).count == closure.count && !closure.contains(name), "a closure repeats a module")
        }
        for line in text.split(separator: "\n").prefix(64) { shown(Initramfs.moduleName(String(line))) }
    }

    static func initramfs(_ bytes: [UInt8]) {
        let path = scratchFile("tree/boot/initrd.img", bytes)
        guard let tree = try? TreeFiles(root: scratch + "/tree") else { return }
        let budget = PreflightBudget(unpackedBytes: 4 << 20, entries: 50_000, seconds: 10)
        guard let contents = try? Initramfs.read(path, tree: tree, version: "6.1.0-fuzz", budget: budget) else { return }
        precondition(contents.unpackedBytes <= 4 << 20, "the walk unpacked past its budget")
        shown(contents.failure)
        contents.compressions.forEach { shown($0) }
        contents.wanted?.modules.forEach { shown($0) }
    }

    static func pstore(_ bytes: [UInt8]) {
        let record = PstoreRecord.from(file: "dmesg-efi-1", text: text(bytes), bootID: nil, time: nil)
        shown(record.header)
        record.excerpt.forEach { shown($0) }
    }

    static func journalLines(_ bytes: [UInt8]) {
        let text = text(bytes)
        for identifier in ["sudo", "pkexec"] {
            if let command = UserCommandLine.parse(text, identifier: identifier, time: "") {
                shown(command.user)
                shown(command.command)
            }
        }
        if let (_, requester) = JournalEvidence.clientRequest(text) { shown(requester.comm); shown(requester.unit) }
        shown(JournalEvidence.peer(in: text))
        _ = JournalEvidence.isUncleanMarker(text)
        _ = JournalEvidence.logindAction(text)
        // The same bytes as a journal entry's fields, one NAME=value per line.
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            fields[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        let entry = JournalEntry(realtime: 0, fields: fields)
        _ = JournalEvidence.restartCounter(entry)
        let writer = JournalWriter(entry)
        shown(writer.description)
        for voucher in JournalVoucher.allCases where !voucher.vouches(for: writer) {
            shown(ForgedLine(line: JournalLine(entry), posingAs: voucher, writer: writer).finding)
        }
    }

    static func audit(_ bytes: [UInt8]) {
        _ = scratchFile("audit/audit.log", bytes)
        guard case .success(let reading) = AuditLog.read(directory: scratch + "/audit", from: Instant(microseconds: 0)) else { return }
        for command in AuditLog.userCommands(reading.events) { shown(command.user); shown(command.command) }
        shown(AuditLog.remoteAddress(session: 1, in: reading.events))
        reading.notes.forEach { shown($0) }
    }

    static func cgroup(_ bytes: [UInt8]) {
        for line in text(bytes).split(separator: "\n").prefix(64) {
            let attribution = CgroupAttribution(cgroupPath: String(line))
            shown(attribution.container?.id)
            shown(attribution.container?.runtime)
            shown(attribution.podUID)
            // The kubelet's log directory and link names, which name the pod.
            shown(PodIndex.podDirectory(String(line))?.qualified)
            if let (pod, id) = PodIndex.containerLog(String(line)) { shown(pod.container); shown(id) }
        }
    }

    static func proc(_ bytes: [UInt8]) {
        let text = text(bytes)
        if let stat = ProcTaskStat(text) { shown(stat.comm); shown(stat.state) }
        let status = ProcStatus(text)
        _ = status.ids("Uid")
        _ = status.capabilities("CapEff")
        _ = ProcText.bootTime(stat: text)
        shown(ProcText.unifiedCgroup(text))
        shown(ProcText.systemdCgroup(text)?.path)
        _ = ProcText.auditID(text)
        _ = ProcText.namespaceInode(link: text)
        shown(SSHPeer.fromEnvironment(bytes))
        let inodes = Set(text.split(whereSeparator: { !$0.isNumber }).prefix(8).map(String.init))
        shown(SSHPeer.peer(inTable: text, inodes: inodes))
        for line in text.split(separator: "\n").prefix(256) {
            if let symbol = KallsymsLine(line) { shown(symbol.name); shown(symbol.module) }
        }
    }

    static func syslog(_ bytes: [UInt8]) {
        for line in bytes.split(separator: 10).prefix(64) {
            if let parsed = SyslogLine(Array(line)) { shown(parsed.quoted) }
        }
        let path = scratchFile("syslog/messages", bytes)
        chmod(path, 0o600)
        let source = SyslogSource(directory: scratch + "/syslog")
        for boot in source.boots(newest: nil) {
            let facts = SyslogEvidence.facts(of: boot)
            facts.tail.forEach { shown($0.quoted) }
            facts.commands.forEach { shown($0.user); shown($0.command) }
            facts.shutdown.forEach { shown($0.line.quoted) }
            SyslogEvidence.uncleanMarkers(nextBoot: boot).forEach { shown($0.quoted) }
            boot.notes.forEach { shown($0) }
        }
    }

    /// The answers a BMC gives, cut as the reader cuts them: 16-byte SEL records, then the watchdog's and the restart cause's.
    static func bmc(_ bytes: [UInt8]) {
        var offset = 0
        while offset + 16 <= bytes.count {
            if let record = SELRecord(bytes[offset..<offset + 16]) {
                shown(record.line)
                shown(record.ending?.words)
                _ = record.time
            }
            offset += 16
        }
        let rest = Array(bytes[offset...])
        shown(BMCWatchdog(rest)?.summary)
        if let code = rest.first { shown(RestartCause(code: code & 0x0F).words); shown(RestartCause(code: code).words) }
    }

    static func record(_ bytes: [UInt8]) {
        var raw = rw_record()
        withUnsafeMutableBytes(of: &raw) { target in
            let count = min(target.count, bytes.count)
            bytes.withUnsafeBytes { target.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: count) }
        }
        let record = CapturedRecord(raw)
        shown(record.comm)
        shown(record.exe)
        shown(record.cgroupPath)
        shown(record.argument)
        record.argv?.forEach { shown($0) }
        record.ancestry.forEach { shown($0.comm) }
        _ = record.probePoint
    }
}
