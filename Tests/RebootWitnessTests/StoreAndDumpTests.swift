import Foundation
import WitnessArm
import WitnessReport
import WitnessStore
import XCTest
import WitnessModel

final class StoreAndDumpTests: XCTestCase {
    func testJSONKeepsEveryContractKeyEvenWhenNull() throws {
        let json = RecordFormatter.json(sampleCaller(boot: "b1"))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        for key in ["boot_id", "time", "probe", "attach", "cmd", "cmd_arg", "pid", "tid", "ppid", "comm", "exe", "uid",
                    "loginuid", "sessionid", "tty", "cgroup", "cgroup_id", "container", "pod_uid", "pid_ns",
                    "in_init_pid_ns", "sender_owns_login1", "ancestry", "kernel_stack", "count", "held"] {
            XCTAssertTrue(object.keys.contains(key), "missing \(key)")
        }
        XCTAssertTrue(object["loginuid"] is NSNull)
        XCTAssertTrue(object["container"] is NSNull)
    }

    func testEntriesWrittenBeforeTheHoldExistedStillDecode() throws {
        var json = RecordFormatter.json(StoreEntry.caller(sampleCaller(boot: "b0")))
        json = json.replacingOccurrences(of: "\"held\":false,", with: "")
        XCTAssertFalse(json.contains("held"))
        let entry = try JSONDecoder().decode(StoreEntry.self, from: Data(json.utf8))
        guard case .caller(let record) = entry else { return XCTFail("not a caller entry") }
        XCTAssertFalse(record.held)
        XCTAssertEqual(record.comm, "reboot")
    }

    func testDumpTellsWhatTheWitnessLeftInEachBoot() {
        func marker(_ boot: String, _ time: String) -> StoreEntry.BootMarker {
            .init(bootID: boot, time: time, kernel: "6.1", pid: 7)
        }
        let contents = StoreContents(entries: [
            .start(marker("a", "t1")), .alive(marker("a", "t2")), .stop(marker("a", "t3")),
            .start(marker("b", "t4")), .alive(marker("b", "t5")),
            .start(marker("c", "t6")),
        ], skipped: 0)
        let report = DumpReport(contents: contents, selection: .all, currentBoot: "c")
        XCTAssertEqual(report.boots, ["a", "b", "c"])
        XCTAssertEqual(report.witness["a"]?.summary, "witness armed t1, last seen alive t2, stopped cleanly t3")
        XCTAssertEqual(report.witness["b"]?.summary,
                       "witness armed t4, last seen alive t5; no clean stop (reset, panic, power loss, or a reboot it did not outlive)")
        XCTAssertEqual(DumpReport(contents: contents, selection: .previous, currentBoot: "c").boots, ["b"])
    }

    func testStoreDirectoryThatIsAFileIsRefused() throws {
        let dir = try temporaryDirectory("file")
        let file = dir.appendingPathComponent("not-a-dir")
        _ = FileManager.default.createFile(atPath: file.path, contents: Data("x".utf8))
        XCTAssertThrowsError(try StoreDirectory.prepare(file.path, create: true)) { error in
            XCTAssertEqual("\(error)", "store \(file.path) is not a directory")
        }
    }

    func testStoreOwnedBySomeoneElseIsRefused() throws {
        guard geteuid() == 0 else { throw XCTSkip("needs root to chown") }
        let dir = try temporaryDirectory("owned")
        XCTAssertEqual(chown(dir.path, 65534, 65534), 0)
        XCTAssertThrowsError(try StoreDirectory.prepare(dir.path, create: true)) { error in
            XCTAssertTrue("\(error)".contains("owned by uid 65534"), "\(error)")
        }
    }

    func testDumpJoinsExitsAndSelectsBoots() {
        let entries: [StoreEntry] = [
            .caller(sampleCaller(boot: "old", tid: 5)),                       // took the old boot down
            .caller(sampleCaller(boot: "prev", tid: 7)),
            .caller(sampleCaller(boot: "prev", probe: "sys_exit_reboot", tid: 7, retval: -22)),
            .caller(sampleCaller(boot: "prev", tid: 8, comm: "systemd-shutdow")),
            .caller(sampleCaller(boot: "now", tid: 9)),
        ]
        let contents = StoreContents(entries: entries, skipped: 0)
        let previous = DumpReport(contents: contents, selection: .previous, currentBoot: "now")
        XCTAssertEqual(previous.boots, ["prev"])
        XCTAssertEqual(previous.items.map(\.record.tid), [7, 8], "exit records fold into their entry")
        XCTAssertEqual(previous.items[0].outcome, "returned -22 (EINVAL)")
        XCTAssertEqual(previous.items[0].record.retval, -22)
        XCTAssertTrue(previous.items[1].outcome?.hasPrefix("no return seen") ?? false)
        XCTAssertEqual(DumpReport(contents: contents, selection: .current, currentBoot: "now").items.map(\.record.tid), [9])
        var held = sampleCaller(boot: "now", tid: 11)
        held.held = true
        let heldReport = DumpReport(contents: StoreContents(entries: [
            .caller(held), .caller(sampleCaller(boot: "now", probe: "sys_exit_reboot", tid: 11, retval: -1))], skipped: 0),
            selection: .current, currentBoot: "now")
        XCTAssertEqual(heldReport.items.first?.outcome,
                       "returned -1 (EPERM) to the caller; the witness replayed the call once durable")
        XCTAssertEqual(DumpReport(contents: contents, selection: .all, currentBoot: "now").items.count, 4)
        // After a boot that never armed, "previous" is the last boot in the store.
        XCTAssertEqual(DumpReport(contents: contents, selection: .previous, currentBoot: "unseen").boots, ["now"])
    }
}

final class PstoreHarvestTests: XCTestCase {
    func testHarvestKeepsTheHeaderAndTheTellingLinesAndNeverDeletes() throws {
        let root = try temporaryDirectory("pstore")
        let record = root.appendingPathComponent("dmesg-ramoops-0")
        try """
            Panic#1 Part1
            <6>[    1.000000] Linux version 6.1.0-56-amd64
            <6>[   12.000000] sysrq: Trigger a crash
            <0>[   12.000100] Kernel panic - not syncing: sysrq triggered crash
            <4>[   12.000200] CPU: 0 PID: 1 Comm: sh
            """.write(to: record, atomically: true, encoding: .utf8)
        let entries = PstoreHarvest.collect(previousBoot: "boot-1", roots: [root.path]).entries
        guard case .pstore(let harvested)? = entries.first else { return XCTFail("nothing harvested") }
        XCTAssertEqual(entries.count, 1)
        XCTAssertEqual(harvested.bootID, "boot-1")
        XCTAssertEqual(harvested.header, "Panic#1 Part1")
        XCTAssertEqual(harvested.excerpt, ["<6>[   12.000000] sysrq: Trigger a crash",
                                           "<0>[   12.000100] Kernel panic - not syncing: sysrq triggered crash"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: record.path), "originals stay")

        // Harvested again in a later boot: still attributed to the first.
        let dir = try temporaryDirectory("pstore-store")
        let store = try SlotStore(directory: dir.path, size: 8 * 4096, create: true)
        try store.append(entries)
        try store.append(PstoreHarvest.collect(previousBoot: "boot-2", roots: [root.path]).entries)
        XCTAssertEqual(try store.load().entries, entries)

        // Asked to (`arm --clear-pstore`), the originals go once stored; a missing one is no error.
        XCTAssertEqual(PstoreHarvest.clear(entries), [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: record.path))
        XCTAssertEqual(PstoreHarvest.clear(entries), [])
        XCTAssertEqual(try store.load().entries, entries, "the store keeps what was harvested")
    }

    /// An archive anyone could have written to, or a record someone other
    /// than root wrote, is not pstore's evidence: said, not read.
    func testRecordsOthersCouldHaveWrittenAreNotHarvested() throws {
        let root = try temporaryDirectory("pstore-open")
        try "Panic#1 Part1\nKernel panic - not syncing: forged".write(to: root.appendingPathComponent("dmesg-efi-1"),
                                                                      atomically: true, encoding: .utf8)
        chmod(root.path, 0o777)
        var (entries, notes) = PstoreHarvest.collect(previousBoot: "b", roots: [root.path])
        XCTAssertTrue(entries.isEmpty)
        XCTAssertTrue(notes.first?.contains("writable by anyone") == true, "\(notes)")
        chmod(root.path, 0o755)
        chown(root.appendingPathComponent("dmesg-efi-1").path, 1000, 1000)
        (entries, notes) = PstoreHarvest.collect(previousBoot: "b", roots: [root.path])
        XCTAssertTrue(entries.isEmpty)
        XCTAssertTrue(notes.first?.contains("owned by uid 1000") == true, "\(notes)")
    }
}

/// The fuzz corpora (Tests/Corpus/TARGET, grown by scripts/fuzz) replayed
/// through their parsers on every test run: each must parse without a
/// crash, and give back something (a corpus that parses to nothing
/// exercises nothing).
final class FuzzCorpusTests: XCTestCase {
    func testEveryCorpusInputOfEveryTargetParsesWithoutCrashing() throws {
        let corpora = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Corpus")
        let targets = try FileManager.default.contentsOfDirectory(atPath: corpora.path).sorted()
        XCTAssertEqual(targets, ["audit", "bmc", "boot-loader", "cgroup", "initramfs", "journal-lines", "modules", "mounts", "proc",
                                 "pstore", "record", "store", "syslog"])
        for target in targets {
            let corpus = corpora.appendingPathComponent(target)
            let inputs = try FileManager.default.contentsOfDirectory(atPath: corpus.path).map { corpus.appendingPathComponent($0).path }
            XCTAssertFalse(inputs.isEmpty, target)
            let replay = try runProgram(Built.directory.appendingPathComponent("witness-fuzz").path, [target] + inputs)
            XCTAssertEqual(replay.status, 0, "\(target): \(replay.stderr)")
            XCTAssertTrue(replay.stdout.hasPrefix("witness-fuzz \(target): replayed \(inputs.count) input(s), "), replay.stdout)
            XCTAssertFalse(replay.stdout.contains(", 0 value(s) understood"), replay.stdout)
        }
    }

    func testAnUnknownTargetIsRefusedInOneLine() throws {
        let replay = try runProgram(Built.directory.appendingPathComponent("witness-fuzz").path, ["grub"])
        XCTAssertEqual(replay.status, 2)
        XCTAssertTrue(replay.stderr.hasPrefix("witness-fuzz: name a target (store, boot-loader, "), replay.stderr)
    }
}
