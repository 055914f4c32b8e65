import Foundation
@testable import WitnessArm
@testable import WitnessReport
import WitnessAttribution
import WitnessStore
import WitnessSystem
import XCTest
import WitnessModel

/// What leaves the host: node_exporter's textfile (checked by promtool and
/// served by a real node_exporter), the NDJSON export file, `last --check`
/// for node-problem-detector, and the journal fields of records and verdicts.
final class OutputsTests: XCTestCase {
    func verdict(_ reason: Verdict.Reason, _ subreason: Verdict.Subreason, detail: String = "") -> Verdict {
        Verdict(reason: reason, subreason: subreason, summary: "\(reason.rawValue) \(subreason.rawValue)",
                confidence: .medium, bootID: "3f2a4c6e-8d1b-4f0a-9e7c-5b3d1f2e4a6c", detail: detail)
    }

    func testCheckExitCodesForEveryKindOfEnd() {
        let intended: [Verdict] = [verdict(.reboot, .user, detail: "alice"), verdict(.reboot, .service, detail: "mcd-reboot.service"),
                                   verdict(.poweroff, .container, detail: "c0ffee00c0ff"), verdict(.kexec, .process, detail: "kexec")]
        let unexpected: [Verdict] = [verdict(.hardReset, .noShutdownPath), verdict(.hardReset, .oomThenReset),
                                     verdict(.hardReset, .hangThenReset), verdict(.panic, .kernel), verdict(.watchdog, .softdog),
                                     verdict(.watchdog, .hardware), verdict(.reboot, .acpi), verdict(.reboot, .graceful),
                                     verdict(.reboot, .sysrq), verdict(.unknown, .noEvidence), verdict(.unknown, .unclean)]
        for v in intended {
            let (status, line) = LastReport.check(.success(v))
            XCTAssertEqual(status, 0, v.bootstat)
            XCTAssertEqual(line, "ended as intended: \(v.bootstat) (medium): \(v.summary)")
        }
        for v in unexpected {
            let (status, line) = LastReport.check(.success(v))
            XCTAssertEqual(status, 1, v.bootstat)
            XCTAssertTrue(line.hasPrefix("unexpected end: \(v.bootstat) (medium)"), line)
        }
        XCTAssertEqual(LastReport.check(.failure(StoreError("this host knows 0 boot(s) before this one"))).0, 2)
        var firstBoot = verdict(.unknown, .noEvidence)
        firstBoot.bootID = "unlisted-previous-boot"
        XCTAssertEqual(LastReport.check(.success(firstBoot)).0, 2, "no earlier boot known: cannot tell, not unexpected")
    }

    func testCheckThroughTheCLIOnRealJournals() throws {
        var journal = JournalFixture()
        let (ended, next) = (HostEvidenceTests.ended, HostEvidenceTests.next)
        journal.bootStart(ended, at: 0)
        journal.add(boot: ended, second: 200, "alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/sbin/reboot",
                    ["SYSLOG_IDENTIFIER": "sudo", "_PID": "1500", "_AUDIT_SESSION": "4"])
        journal.orderlyEnd(ended, at: 201)
        journal.bootStart(next, at: 300)
        journal.bootStart(JournalFixture.boot("3"), at: 900, unclean: true)
        let dir = try temporaryDirectory("check")
        try journal.write(to: dir)
        func check(_ boot: String) throws -> ProcessResult {
            try runProgram(Built.witness, ["last", "--check", "--journal-dir", dir.path, "--no-syslog", "--store", "/nonexistent",
                                           "--audit-dir", "/nonexistent", "--boot", String(boot.prefix(8))])
        }
        let intended = try check(ended)
        XCTAssertEqual(intended.status, 0, intended.stdout)
        XCTAssertTrue(intended.stdout.hasPrefix("ended as intended: reboot,user,alice (medium): "), intended.stdout)
        XCTAssertEqual(intended.stdout.split(separator: "\n").count, 1)
        let reset = try check(next)
        XCTAssertEqual(reset.status, 1, reset.stdout)
        XCTAssertTrue(reset.stdout.hasPrefix("unexpected end: hard_reset,no_shutdown_path, (medium)"), reset.stdout)
        let unknown = try check("deadbeefdeadbeef")
        XCTAssertEqual(unknown.status, 2, unknown.stdout)
        XCTAssertTrue(unknown.stdout.hasPrefix("cannot tell: no boot deadbeef "), unknown.stdout)
    }

    func metricsSample() -> Metrics {
        var m = Metrics()
        m.armed = true
        m.probesAttached = 12
        m.recordsByProbe = ["sys_enter_reboot": 3, "sched_process_exec": 1]
        m.lostByClass = ["stopping": 0, "bad_magic": 2]
        m.aggregatedCalls = 40
        m.lastBoot = verdict(.reboot, .user, detail: "alice \"the\" admin\\")
        m.bootsByReason = ["reboot": 4, "hard_reset": 1]
        m.lastAlive = Instant(seconds: 1_767_225_600, microseconds: 123_000)
        m.node = "node-7"
        m.bootStart = Instant(seconds: 1_767_225_000)
        m.preflightOutcome = "likely_fails"
        return m
    }

    func testMetricsPassPromtool() throws {
        let text = metricsSample().render()
        // The label's value is the escaped text (a backslash doubled, so an escape
        // stays distinguishable from one typed by a caller), then exposition-escaped.
        XCTAssertTrue(text.contains(#"reboot_witness_last_boot_info{node="node-7",reason="reboot",subreason="user",detail="alice \"the\" admin\\\\",confidence="medium",bootstat="reboot,user,alice \"the\" admin\\\\",initiator="alice \"the\" admin\\\\"} 1"#), text)
        XCTAssertTrue(text.contains(#"reboot_witness_armed{node="node-7"} 1"#), text)
        XCTAssertTrue(text.contains(#"reboot_witness_boot_start_timestamp_seconds{node="node-7"} 1767225000"#), text)
        XCTAssertTrue(text.contains(#"reboot_witness_preflight_next_boot{node="node-7",outcome="likely_fails"} 1"#), text)
        XCTAssertTrue(text.contains("reboot_witness_last_alive_timestamp_seconds{node=\"node-7\"} 1767225600.123\n"), text)
        XCTAssertTrue(text.contains("reboot_witness_records_total{node=\"node-7\",probe=\"sys_enter_reboot\"} 3\n"), text)
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool") else {
            return XCTFail("promtool is missing: apt-get install prometheus (CI installs it)")
        }
        let file = try temporaryDirectory("promtool").appendingPathComponent("m.prom")
        try text.write(to: file, atomically: true, encoding: .utf8)
        let lint = try runProgram("/bin/sh", ["-c", "promtool check metrics < \"$0\"", file.path])
        XCTAssertEqual(lint.status, 0, lint.stdout + lint.stderr)
        XCTAssertEqual(lint.stdout + lint.stderr, "", "no lint problems")
    }

    /// arm writes the textfile; a real node_exporter on 127.0.0.1 serves it.
    func testNodeExporterServesTheArmedWitness() throws {
        guard geteuid() == 0, FileManager.default.fileExists(atPath: "/sys/kernel/btf/vmlinux") else {
            throw XCTSkip("arm needs root and BTF")
        }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/prometheus-node-exporter") else {
            return XCTFail("prometheus-node-exporter is missing (CI installs it)")
        }
        let store = try temporaryDirectory("metrics-store").path
        let textfiles = try temporaryDirectory("textfiles").path
        let (arm, _) = try startArm(["--store", store, "--no-dbus", "--metrics-dir", textfiles])
        defer { arm.terminate(); arm.waitUntilExit() }
        try runProgram(Built.selftest, ["bad-magic"])
        let prom = textfiles + "/reboot-witness.prom"
        var text = ""
        for _ in 0..<40 where !text.contains("sys_enter_reboot") {
            Thread.sleep(forTimeInterval: 0.1)
            text = (try? String(contentsOfFile: prom, encoding: .utf8)) ?? ""
        }
        XCTAssertTrue(text.contains("reboot_witness_armed{node=\"\(Metrics.nodeName())\"} 1.0\n")
                      && text.contains("reboot_witness_records_total{node=\"\(Metrics.nodeName())\",probe=\"sys_enter_reboot\"} 1"), text)
        let port = 19100 + Int(getpid() % 500)
        let exporter = Process()
        exporter.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus-node-exporter")
        exporter.arguments = ["--web.listen-address=127.0.0.1:\(port)", "--collector.disable-defaults", "--collector.textfile",
                              "--collector.textfile.directory=\(textfiles)"]
        exporter.standardError = FileHandle.nullDevice
        exporter.standardOutput = FileHandle.nullDevice
        try exporter.run()
        defer { exporter.terminate(); exporter.waitUntilExit() }
        var served = ""
        for _ in 0..<50 where !served.contains("reboot_witness_armed") {
            Thread.sleep(forTimeInterval: 0.1)
            served = (try? runProgram("/usr/bin/curl", ["-s", "http://127.0.0.1:\(port)/metrics"]).stdout) ?? ""
        }
        XCTAssertTrue(served.contains("\nreboot_witness_armed{node=\"\(Metrics.nodeName())\"} 1\n"), String(served.suffix(800)))
        XCTAssertTrue(served.contains("\nnode_textfile_scrape_error 0\n"), "node_exporter read the file")
        arm.terminate()
        arm.waitUntilExit()
        XCTAssertTrue((try String(contentsOfFile: prom, encoding: .utf8)).contains("reboot_witness_armed{node=\"\(Metrics.nodeName())\"} 0.0\n"), "a clean stop says so")
    }

    /// A storm of distinct records (one caller binary copied to 150 paths)
    /// through --export: files bounded by size, every line a whole JSON
    /// object, every stored record exported once.
    func testExportRotatesWithoutSplittingOrLosingRecords() throws {
        guard geteuid() == 0, FileManager.default.fileExists(atPath: "/sys/kernel/btf/vmlinux") else {
            throw XCTSkip("arm needs root and BTF")
        }
        let store = try temporaryDirectory("export-store").path
        let export = try temporaryDirectory("export").appendingPathComponent("records.ndjson").path
        let callers = try temporaryDirectory("callers")
        let copies = (0..<150).map { callers.appendingPathComponent("caller-\($0)").path }
        for copy in copies { try FileManager.default.copyItem(atPath: Built.selftest, toPath: copy) }
        let (arm, _) = try startArm(["--store", store, "--store-size", "4M", "--no-dbus", "--no-metrics", "--export", export,
                                     "--export-size", "16K", "--export-count", "60"])
        let storm = try runProgram("/bin/sh", ["-c", "for c in \"$@\"; do \"$c\" bad-magic >/dev/null || exit 1; done", "sh"] + copies)
        XCTAssertEqual(storm.status, 0, storm.stderr)
        Thread.sleep(forTimeInterval: 1)
        arm.terminate()
        arm.waitUntilExit()
        let files = [export] + (1...60).map { "\(export).\($0)" }.filter { FileManager.default.fileExists(atPath: $0) }
        XCTAssertGreaterThan(files.count, 2, "150 records rotate 16K files")
        var exported: [String] = []
        for file in files {
            let attributes = try FileManager.default.attributesOfItem(atPath: file)
            XCTAssertLessThanOrEqual((attributes[.size] as? Int) ?? 0, 16 << 10, file)
            XCTAssertEqual((attributes[.posixPermissions] as? Int) ?? 0, 0o600, file)
            let text = try String(contentsOfFile: file, encoding: .utf8)
            XCTAssertTrue(text.hasSuffix("\n"), "\(file) ends with a whole line")
            exported += try ndjsonObjects(text).map(identity)
        }
        let stored = try ndjsonObjects(try runProgram(Built.witness, ["dump", "--json", "--store", store]).stdout)
            .filter { $0["probe"] as? String == "sys_enter_reboot" }.map(identity)
        XCTAssertEqual(stored.count, 150, "one record per caller")
        XCTAssertEqual(Set(exported.filter { $0.hasPrefix("sys_enter_reboot/") }), Set(stored),
                       "every stored record exported, and nothing else")
        XCTAssertEqual(exported.count, Set(exported).count, "none twice")
    }

    func identity(_ object: [String: Any]) -> String {
        "\(object["probe"] ?? "")/\(object["exe"] ?? "")/\(object["tid"] ?? "")/\(object["time"] ?? "")"
    }

    func testJournalFieldsOfARecordAndAVerdict() {
        var record = sampleCaller(boot: "b4ff9e73-b315-434b-8d4e-7e4ea00b4856")
        record.container = ContainerID(runtime: "docker", id: String(repeating: "ab", count: 32))
        record.sshPeer = "10.0.0.5:51633"
        let fields = Dictionary(JournalFields.of(record), uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(fields["MESSAGE_ID"], WitnessMessageID.record)
        XCTAssertEqual(fields["REBOOT_WITNESS_PROBE"], "sys_enter_reboot")
        XCTAssertEqual(fields["REBOOT_WITNESS_CMD"], "RESTART")
        XCTAssertEqual(fields["REBOOT_WITNESS_CONTAINER_RUNTIME"], "docker")
        XCTAssertEqual(fields["REBOOT_WITNESS_CONTAINER_ID"], String(repeating: "ab", count: 32))
        XCTAssertEqual(fields["REBOOT_WITNESS_SSH_PEER"], "10.0.0.5:51633")
        XCTAssertNil(fields["REBOOT_WITNESS_LOGIN_USER"], "absent values are left out, never empty")
        var ended = verdict(.hardReset, .oomThenReset)
        ended.lastSeen = "2026-01-01T10:00:00.000Z"
        let v = Dictionary(JournalFields.of(ended), uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(v["MESSAGE_ID"], WitnessMessageID.verdict)
        XCTAssertEqual(v["REBOOT_WITNESS_BOOTSTAT"], "hard_reset,oom_then_reset,")
        XCTAssertEqual(v["REBOOT_WITNESS_BOOT_ID_ENDED"], "3f2a4c6e-8d1b-4f0a-9e7c-5b3d1f2e4a6c")
        XCTAssertEqual(v["PRIORITY"], "4", "an unexpected end is a warning")
        let check = PreflightRecord(bootID: "b1", time: "t", trigger: "intent: systemctl reboot by alice[812]", outcome: "likely_fails",
                                    kernel: "/boot/vmlinuz-6.1", version: "6.1", initrds: ["/boot/initrd.img-6.1"], rule: nil,
                                    problems: ["root driver: virtio_blk missing"])
        let p = Dictionary(JournalFields.of(check), uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(p["MESSAGE_ID"], WitnessMessageID.preflight)
        XCTAssertEqual(p["PRIORITY"], "3", "a boot that would fail is an error")
        // Every field the catalog's texts name is one these entries carry.
        let catalog = (try? String(contentsOfFile: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../scripts/packaging/reboot-witness.catalog").path, encoding: .utf8)) ?? ""
        XCTAssertTrue(catalog.contains("-- \(WitnessMessageID.record)") && catalog.contains("-- \(WitnessMessageID.verdict)")
                      && catalog.contains("-- \(WitnessMessageID.preflight)"))
        let named = Set(catalog.split(separator: "@").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) })
        let carried = Set(fields.keys).union(v.keys).union(p.keys)
        XCTAssertTrue(named.isSubset(of: carried), "catalog fields no entry carries: \(named.subtracting(carried))")
    }
}
