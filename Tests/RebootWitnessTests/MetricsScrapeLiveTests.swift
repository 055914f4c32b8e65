import Foundation
import WitnessArm
import XCTest

/// A real Prometheus (Debian's `prometheus`) scrapes a real `arm
/// --metrics-address`, as a PodMonitor makes it do in a cluster.
final class MetricsScrapeLiveTests: XCTestCase {
    func testPrometheusScrapesTheArmedWitnessOverHTTP() throws {
        guard geteuid() == 0, FileManager.default.fileExists(atPath: "/sys/kernel/btf/vmlinux") else {
            throw XCTSkip("arm needs root and BTF")
        }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/prometheus") else {
            return XCTFail("prometheus is missing: apt-get install prometheus (CI installs it)")
        }
        let work = try temporaryDirectory("scrape")
        let armPort = 21_000 + Int(getpid() % 2000), promPort = armPort + 2000
        let (arm, armed) = try startArm(["--store", work.appendingPathComponent("store").path, "--no-dbus", "--no-metrics",
                                         "--metrics-address", "127.0.0.1:\(armPort)"])
        defer { arm.terminate(); arm.waitUntilExit() }
        XCTAssertTrue(armed.contains("armed:"), armed)
        try runProgram(Built.selftest, ["bad-magic"])

        let config = work.appendingPathComponent("prometheus.yml")
        try """
        global: {scrape_interval: 1s, scrape_timeout: 1s}
        scrape_configs:
          - job_name: reboot-witness
            static_configs: [{targets: ["127.0.0.1:\(armPort)"]}]
        """.write(to: config, atomically: true, encoding: .utf8)
        let prometheus = Process()
        prometheus.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus")
        prometheus.arguments = ["--config.file=\(config.path)", "--storage.tsdb.path=\(work.appendingPathComponent("tsdb").path)",
                                "--web.listen-address=127.0.0.1:\(promPort)"]
        prometheus.standardError = FileHandle.nullDevice
        prometheus.standardOutput = FileHandle.nullDevice
        try prometheus.run()
        defer { prometheus.terminate(); prometheus.waitUntilExit() }

        let node = Metrics.nodeName()
        func query(_ promql: String) -> String {
            (try? runProgram("/usr/bin/curl", ["-s", "--max-time", "2", "--get", "--data-urlencode", "query=\(promql)",
                                               "http://127.0.0.1:\(promPort)/api/v1/query"]).stdout) ?? ""
        }
        var answer = ""
        let recorded = "reboot_witness_records_total{job=\"reboot-witness\",probe=\"sys_enter_reboot\",node=\"\(node)\"}"
        for _ in 0..<150 where !answer.contains("\"1\"]") {
            Thread.sleep(forTimeInterval: 0.2)
            answer = query(recorded)
        }
        XCTAssertTrue(answer.contains("\"status\":\"success\"") && answer.contains("\"1\"]"), "Prometheus stored the scraped record count: \(answer)")
        XCTAssertTrue(query("up{job=\"reboot-witness\"}").contains("\"1\"]"), "the scrape target is up")
        XCTAssertTrue(query("reboot_witness_build_info").contains("\"version\""), "build_info is served")
        let rss = query("reboot_witness_resident_memory_bytes")
        XCTAssertTrue(rss.contains("\"node\":\"\(node)\""), rss)
        // SIGTERM reaches arm's loop, not the listener's thread: a clean stop.
        arm.terminate()
        arm.waitUntilExit()
        XCTAssertEqual(arm.terminationStatus, 0, "arm stops cleanly on SIGTERM with its listener on")
    }

    /// `--idle-on-refusal` (the DaemonSet): a node where arm cannot arm still
    /// answers scrapes, with armed 0 and the refusal at /readyz.
    func testAnArmThatCannotArmStillServesArmedZeroAndWhyNot() throws {
        guard geteuid() == 0, FileManager.default.fileExists(atPath: "/sys/kernel/btf/vmlinux") else {
            throw XCTSkip("arm reaches its store only as root with BTF")
        }
        let port = 23_500 + Int(getpid() % 1000)
        let (arm, err) = try launchArm(["--store", "/proc/rw-no-store-here", "--idle-on-refusal", "--no-dbus", "--no-metrics",
                                        "--metrics-address", "127.0.0.1:\(port)"])
        defer { arm.terminate(); arm.waitUntilExit() }
        let said = read(err, until: "--idle-on-refusal")
        XCTAssertTrue(said.contains("cannot create store /proc/rw-no-store-here"), said)
        let ready = try runProgram("/usr/bin/curl", ["-s", "-w", " %{http_code}", "http://127.0.0.1:\(port)/readyz"])
        XCTAssertEqual(ready.stdout, "not armed: no arm is running on /proc/rw-no-store-here in this boot\n 503")
        let metrics = try runProgram("/usr/bin/curl", ["-s", "http://127.0.0.1:\(port)/metrics"]).stdout
        XCTAssertTrue(metrics.contains("reboot_witness_armed{node=\"\(Metrics.nodeName())\"} 0.0\n"), metrics)
        arm.terminate()
        arm.waitUntilExit()
        XCTAssertEqual(arm.terminationStatus, 0, "a signal ends the idle arm cleanly")
    }
}
