import Glibc
import WitnessSystem

/// One thing preflight found, how bad it is, and what fixes it.
public struct Finding: Sendable, Codable, Equatable {
    public enum Severity: String, Sendable, Codable, Comparable, CaseIterable {
        case ok, info, warning
        /// Nothing can be concluded about this part.
        case unknown
        /// The next boot would likely fail.
        case error

        private var rank: Int { Self.allCases.firstIndex(of: self)! }
        public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
    }

    public var severity: Severity
    /// What was checked: "next boot", "kernel image", "initramfs", "modules", "root driver", "bad input"…
    public var check: String
    public var message: String
    public var hint: String?
}

/// `preflight`'s answer: will the next boot mount root?
public struct PreflightReport: Sendable, Codable, Equatable {
    public enum Outcome: String, Sendable, Codable {
        /// The next boot should come up (exit 0).
        case bootable
        /// It would likely fail (exit 1).
        case likelyFails = "likely_fails"
        /// Could not tell, and the findings say why (exit 2).
        case unknown

        public var exitCode: Int32 {
            switch self {
            case .bootable: return 0
            case .likelyFails: return 1
            case .unknown: return 2
            }
        }
    }

    public var outcome: Outcome
    public var nextBoot: NextBoot?
    public var root: RootChain?
    public var initramfs: ImageSummary?
    public var findings: [Finding]
    public var milliseconds: Double

    /// The image, in figures.
    public struct ImageSummary: Sendable, Codable, Equatable {
        public var path: String
        public var bytes: Int64
        public var compressions: [String]
        public var entries: Int
        public var modules: Int
        public var microcode: Bool
        public var generator: InitramfsGenerator?

        enum CodingKeys: String, CodingKey { case path, bytes, compressions, entries, modules, microcode, generator }
    }

    enum CodingKeys: String, CodingKey {
        case outcome, nextBoot = "next_boot", root, initramfs, findings, milliseconds
    }

    /// The worst finding's message, for one-line logs.
    public var headline: String {
        let worst = findings.max { $0.severity < $1.severity }
        return "\(outcome.rawValue): " + (worst.map { $0.message } ?? "no findings")
    }
}

/// Checks that the next boot can mount root: resolves it, reads its
/// initramfs, and matches the root device's driver chain against the
/// modules inside (or built into that kernel).
public struct Preflight {
    public var root = "/"
    public var kernelVersion: String?
    /// Where this machine's EFI variables are (nil with --root).
    public var efivars: String? = "/sys/firmware/efi/efivars"
    public var proc = "/proc"
    public var sys = "/sys"
    /// The running kernel's release: its initramfs (under `root`) is what the
    /// next one is compared with. nil with --root: another system's images
    /// have no running boot.
    public var runningRelease: String?
    /// What paths under `root` start with: "" for this machine's own root.
    var onDisk: String { root == "/" ? "" : root }

    public init(root: String = "/", kernelVersion: String? = nil) {
        self.root = root
        self.kernelVersion = kernelVersion
        if root != "/" {
            efivars = nil
        } else {
            var name = utsname()
            uname(&name)
            runningRelease = withUnsafeBytes(of: name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
    }

    public func run() -> PreflightReport {
        let started = SystemCalls.clocks().boottime
        var findings: [Finding] = []
        var report = PreflightReport(outcome: .unknown, nextBoot: nil, root: nil, initramfs: nil, findings: [], milliseconds: 0)
        let tree: TreeFiles
        do {
            tree = try TreeFiles(root: root)
        } catch {
            return finish(report, [Finding(severity: .unknown, check: "root", message: "\(error)")], started)
        }
        let budget = PreflightBudget()
        var resolver = NextBootResolver(tree: tree, efivars: efivars)
        let next = resolver.resolve(kernelVersion: kernelVersion)
        findings += resolver.problems.map { Finding(severity: .warning, check: "bad input", message: $0) }
        report.nextBoot = next
        guard let next else {
            findings.append(Finding(severity: .unknown, check: "next boot",
                                    message: "no boot loader configuration (GRUB, systemd-boot) and no kernel in \(onDisk)/boot: "
                                        + "this machine boots a kernel given by its hypervisor or firmware, which preflight cannot see"))
            return finish(report, findings, started)
        }
        findings.append(Finding(severity: .ok, check: "next boot",
                                message: "\(next.title.map { "\"\($0)\": " } ?? "")\(next.kernel) (\(next.rule))"))
        findings += checkKernelImage(next, tree: tree)
        let chain = root == "/" ? RootChain.running(proc: proc, sys: sys) : RootChain.fromFstab(tree: tree)
        switch chain {
        case .success(let found):
            report.root = found
            findings += found.unknowns.map { Finding(severity: .info, check: "root device", message: $0) }
        case .failure(let error):
            findings.append(Finding(severity: .unknown, check: "root device", message: "\(error)"))
        }
        let (summary, imageFindings) = checkInitramfs(next, chain: try? chain.get(), tree: tree, budget: budget)
        report.initramfs = summary
        findings += imageFindings
        return finish(report, findings, started, budget: budget)
    }

    private func finish(_ report: PreflightReport, _ findings: [Finding], _ started: Int64,
                        budget: PreflightBudget = PreflightBudget()) -> PreflightReport {
        var report = report
        // One budget for findings too: a config naming 300,000 images does not make 300,000 findings.
        report.findings = Array(findings.prefix(budget.findings))
        if findings.count > budget.findings {
            let worst = findings.dropFirst(budget.findings).max { $0.severity < $1.severity }?.severity ?? .info
            report.findings.append(Finding(severity: worst, check: "bad input",
                                           message: "\(findings.count - budget.findings) more findings left out (at most \(budget.findings) are kept)"))
        }
        let findings = report.findings
        if findings.contains(where: { $0.severity == .error }) {
            report.outcome = .likelyFails
        } else if findings.contains(where: { $0.severity == .unknown }) {
            report.outcome = .unknown
        } else {
            report.outcome = .bootable
        }
        report.milliseconds = (Double(SystemCalls.clocks().boottime - started) / 1e5).rounded() / 10
        return report
    }

    private func checkKernelImage(_ next: NextBoot, tree: TreeFiles) -> [Finding] {
        guard let st = tree.status(next.kernel) else {
            return [Finding(severity: .error, check: "kernel image", message: "\(next.kernel) does not exist",
                            hint: "reinstall the kernel package of \(next.version ?? "that version"), or choose another default entry")]
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            return [Finding(severity: .error, check: "kernel image", message: "\(next.kernel) is \(TreeFiles.kind(st.st_mode)), not a kernel")]
        }
        guard st.st_size > 0, let head = tree.head(next.kernel, count: 4096), !head.isEmpty else {
            return [Finding(severity: .error, check: "kernel image", message: "\(next.kernel) is empty or unreadable",
                            hint: "reinstall the kernel package of \(next.version ?? "that version")")]
        }
        return [Finding(severity: .ok, check: "kernel image", message: "\(next.kernel) (\(st.st_size) bytes)")]
    }
}
