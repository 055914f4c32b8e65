import CWitness
import Foundation
@testable import WitnessPreflight
@testable import WitnessReport
import XCTest

/// What a hostile review of `preflight --root` found, each case with the
/// mechanism that now holds (a bound, a file-type check, a confinement):
/// never a crash, a hang, a read outside the root, or an unbounded cost.
final class PreflightHostileInputTests: XCTestCase {
    let version = InitramfsFixture.version

    /// Runs preflight on `root`, failing the test if it takes longer than `seconds`.
    func run(_ root: URL, within seconds: Double = 10) -> PreflightReport {
        let started = Date()
        let report = Preflight(root: root.path).run()
        XCTAssertLessThan(Date().timeIntervalSince(started), seconds, "preflight took too long")
        return report
    }

    func text(_ report: PreflightReport) -> String { PreflightText.human(report) }

    // MARK: - Crashes

    func testSixtyThousandNestedSubmenusAreNeitherParsedDeeplyNorACrash() throws {
        let root = try InitramfsFixture.root()
        let config = String(repeating: "submenu 'x' {\n", count: 60_000) + String(repeating: "}\n", count: 60_000)
            + InitramfsFixture.grubConfig("0")
        try config.write(to: root.appendingPathComponent("boot/grub/grub.cfg"), atomically: false, encoding: .utf8)
        let menu = GrubMenu.parse(config)
        var depth = 0, level = menu.items
        while let first = level.first { depth += 1; level = first.children }
        XCTAssertLessThanOrEqual(depth, GrubMenu.maxDepth)
        XCTAssertEqual(run(root).outcome, .bootable, "the real entries after it still count")
    }

    func testGlobsOfStarsAreLinearNotRecursive() {
        let started = Date()
        XCTAssertTrue(NextBootResolver.glob(String(repeating: "*", count: 200_000), "debian-6.1"))
        XCTAssertFalse(NextBootResolver.glob("*a*a*a*a*a*a*a*a*a*a*b", String(repeating: "a", count: 60)))
        XCTAssertTrue(NextBootResolver.glob("debian-*.conf", "debian-6.1.0.conf"))
        XCTAssertTrue(NextBootResolver.glob("d?bian-*", "debian-x"))
        XCTAssertFalse(NextBootResolver.glob("debian", "debian-x"))
        XCTAssertLessThan(Date().timeIntervalSince(started), 1)
    }

    // MARK: - Hangs: FIFOs and devices where files belong

    func testFIFOsWhereConfigFilesBelongAreNamedNotOpenedForever() throws {
        for path in ["boot/grub/grub.cfg", "boot/grub/grubenv", "etc/fstab", "boot/loader/entries/a.conf",
                     "lib/modules/\(version)/modules.builtin"] {
            let root = try InitramfsFixture.root()
            let fifo = root.appendingPathComponent(path)
            try? FileManager.default.removeItem(at: fifo)
            try FileManager.default.createDirectory(at: fifo.deletingLastPathComponent(), withIntermediateDirectories: true)
            XCTAssertEqual(mkfifo(fifo.path, 0o600), 0)
            let report = run(root, within: 5)
            if path == "boot/grub/grub.cfg" || path == "boot/grub/grubenv" || path == "etc/fstab" {
                XCTAssertTrue(text(report).contains("is a FIFO"), "\(path): \(text(report))")
            }
        }
    }

    // MARK: - Reads outside --root

    func testSymlinksAndDotDotResolveInsideTheRootLikeAChroot() throws {
        let secret = try temporaryDirectory("host-secret").appendingPathComponent("shadow")
        try String(repeating: "s", count: 1234).write(to: secret, atomically: false, encoding: .utf8)
        let root = try InitramfsFixture.root()
        let grub = root.appendingPathComponent("boot/grub/grub.cfg")
        // grub.cfg itself a link to the host's file: inside the root that path does not exist.
        try FileManager.default.removeItem(at: grub)
        try FileManager.default.createSymbolicLink(atPath: grub.path, withDestinationPath: secret.path)
        var report = run(root)
        XCTAssertFalse(text(report).contains("1234"), text(report))
        // A kernel path climbing out of the root: it stays inside (/../../ is /).
        try InitramfsFixture.grubConfig("0").replacingOccurrences(of: "linux\t/boot/vmlinuz-\(version)",
                                                                   with: "linux\t/../../../..\(secret.path)")
            .write(to: grub.appendingPathExtension("x"), atomically: false, encoding: .utf8)
        try FileManager.default.removeItem(at: grub)
        try FileManager.default.moveItem(at: grub.appendingPathExtension("x"), to: grub)
        report = run(root)
        XCTAssertTrue(report.findings.contains { $0.check == "kernel image" && $0.message.hasSuffix("does not exist") }, text(report))
        XCTAssertFalse(text(report).contains("1234 bytes"), text(report))
        // /dev/zero (a device node in the tree) as the fstab: a device, not a file, never read.
        let fstab = root.appendingPathComponent("etc/fstab")
        try FileManager.default.removeItem(at: fstab)
        XCTAssertEqual(mknod(fstab.path, S_IFCHR | 0o600, dev_t((1 << 8) | 5)), 0)  // 1:5, as /dev/zero
        report = run(root, within: 5)
        XCTAssertTrue(text(report).contains("is a character device"), text(report))
    }

    func testResolutionByHandMatchesOpenat2() throws {
        let root = try temporaryDirectory("resolve")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("a/b"), withIntermediateDirectories: true)
        try "inside".write(to: root.appendingPathComponent("a/b/f"), atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("abs").path, withDestinationPath: "/a/b/f")
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("a/up").path, withDestinationPath: "../../../../a/b/f")
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("loop").path, withDestinationPath: "loop")
        let rootFD = open(root.path, O_RDONLY | O_DIRECTORY)
        defer { close(rootFD) }
        for path in ["/a/b/f", "abs", "a/up", "/../../a/b/f", "a/./b/../b/f", "loop", "/etc/passwd", "a/b/f/x"] {
            let viaKernel = cw_open_in_root(rootFD, path, O_RDONLY), byHand = cw_open_in_root_by_hand(rootFD, path, O_RDONLY)
            XCTAssertEqual(viaKernel >= 0, byHand >= 0, path)
            if viaKernel >= 0 && byHand >= 0 {
                var a = stat(), b = stat()
                fstat(viaKernel, &a)
                fstat(byHand, &b)
                XCTAssertEqual(a.st_ino, b.st_ino, path)
            } else {
                XCTAssertEqual(viaKernel, byHand, "\(path): the same errno")
            }
            if viaKernel >= 0 { close(viaKernel) }
            if byHand >= 0 { close(byHand) }
        }
    }

    // MARK: - Wrong answers

    func testGrubenvSizesAndKindsAreReportedAsTheyAre() throws {
        let root = try InitramfsFixture.root()
        let env = root.appendingPathComponent("boot/grub/grubenv")
        try Data(count: 10 << 20).write(to: env)
        XCTAssertTrue(text(run(root)).contains("grubenv is 10485760 bytes, not 1024"), text(run(root)))
        try FileManager.default.removeItem(at: env)
        try FileManager.default.createDirectory(at: env, withIntermediateDirectories: false)
        XCTAssertTrue(text(run(root)).contains("grubenv is a directory"), text(run(root)))
    }

    /// The kernel unpacks every segment; so must preflight: two compressed
    /// streams one after the other are a sound image, not a damaged one.
    func testConsecutiveCompressedSegmentsAreAllRead() throws {
        for (first, second) in [("zstd", "zstd"), ("gzip", "gzip"), ("zstd", "gzip"), ("gzip", "zstd"), ("none", "xz")] {
            let root = try InitramfsFixture.root()
            let initrd = root.appendingPathComponent("boot/initrd.img-\(version)")
            // The modules in the second segment: the first carries only early files.
            let early = try temporaryDirectory("early")
            try InitramfsFixture.write(early, "kernel/x86/microcode/AuthenticAMD.bin", String(repeating: "m", count: 5000))
            let cpio = early.appendingPathComponent("early.cpio")
            try InitramfsFixture.pack(early, excluding: "early.cpio", to: cpio)
            let main = try temporaryDirectory("main").appendingPathComponent("main.img")
            try InitramfsFixture.image(at: main, .init(compression: second))
            var data = try InitramfsFixture.compress(cpio, first)
            data += Data(count: 4 - data.count % 4 == 4 ? 0 : 4 - data.count % 4)
            data += try Data(contentsOf: main)
            try data.write(to: initrd)
            let report = run(root)
            XCTAssertEqual(report.outcome, .bootable, "\(first)+\(second): \(text(report))")
            // (Frames of one compression back to back are one stream, as the kernel reads them.)
            XCTAssertEqual(Set(report.initramfs?.compressions ?? []), [first, second], "\(first)+\(second)")
        }
    }

    func testACorruptHeaderMidArchiveEndsTheReadAsItEndsTheKernels() throws {
        let root = try InitramfsFixture.root(.init(compression: "none"))
        let initrd = root.appendingPathComponent("boot/initrd.img-\(version)")
        var data = try Data(contentsOf: initrd)
        // The second header's magic, broken: libarchive would skip to the next good one.
        let magic = Data("070701".utf8)
        let second = try XCTUnwrap(data.range(of: magic, in: 6..<data.count))
        data.replaceSubrange(second, with: Data("0X0701".utf8))
        try data.write(to: initrd)
        let report = run(root)
        XCTAssertEqual(report.outcome, .likelyFails, text(report))
        XCTAssertTrue(report.findings.contains { $0.message.contains("damaged") && !$0.message.contains("()") }, text(report))
    }

    // MARK: - Super-linear costs and budgets

    func testManyModulesOfOneVersionCostLinearTime() throws {
        var cpio = NewcArchive()
        for n in 0..<60_000 { cpio.add("usr/lib/modules/\(version)/kernel/m/mod\(n).ko", "") }
        cpio.add("usr/lib/modules/\(version)/modules.dep", "")
        let path = try temporaryDirectory("many").appendingPathComponent("initrd.img")
        try cpio.finished().write(to: path)
        let started = Date()
        let image = try Initramfs.read(path.path, tree: TreeFiles(root: "/"), version: version, budget: PreflightBudget())
        XCTAssertEqual(image.tree(version)?.modules.count, 60_000)
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
    }

    func testAModulesDepOfMillionsOfDependenciesAndManyVersionsStayBounded() throws {
        var cpio = NewcArchive()
        let deps = (0..<300_000).map { "kernel/d/d\($0 % 5000).ko" }.joined(separator: " ")
        cpio.add("usr/lib/modules/\(version)/modules.dep", "kernel/a.ko: " + deps + "\n")
        for v in 0..<200 { cpio.add("usr/lib/modules/9.\(v)/modules.dep", String(repeating: "x", count: 1000)) }
        let path = try temporaryDirectory("deps").appendingPathComponent("initrd.img")
        try InitramfsFixture.write(path.deletingLastPathComponent(), "raw.cpio", "")
        let raw = path.deletingLastPathComponent().appendingPathComponent("raw.cpio")
        try cpio.finished().write(to: raw)
        try InitramfsFixture.compress(raw, "zstd").write(to: path)
        let started = Date()
        let image = try Initramfs.read(path.path, tree: TreeFiles(root: "/"), version: version, budget: PreflightBudget())
        let index = ModuleIndex(modulesDep: image.tree(version)?.modulesDep, modulesBuiltin: nil)
        XCTAssertEqual(index.closure(of: "a").count, 5000)
        XCTAssertEqual(image.otherVersions.count, InitramfsContents.otherVersionLimit, "other versions are named, not kept")
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
    }

    func testOneBudgetForTheWholeRun() throws {
        // An entry naming 300,000 images: a handful read, the rest said.
        let root = try InitramfsFixture.root()
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("i").path, withDestinationPath: "boot/initrd.img-\(version)")
        let images = Array(repeating: "/i", count: 300_000).joined(separator: " ")
        try InitramfsFixture.grubConfig("0").replacingOccurrences(of: "initrd\t/boot/initrd.img-\(version)\n}", with: "initrd\t\(images)\n}")
            .write(to: root.appendingPathComponent("boot/grub/grub.cfg"), atomically: false, encoding: .utf8)
        let report = run(root, within: 20)
        XCTAssertLessThanOrEqual(report.findings.count, PreflightBudget().findings + 1)
        XCTAssertTrue(text(report).contains("names 300000 initramfs images: only the first 16 are read"), text(report))
        // A 20 GiB hole after an uncompressed segment: skipped, not scanned 4 KiB at a time.
        let initrd = root.appendingPathComponent("boot/initrd.img-\(version)")
        var cpio = NewcArchive()
        cpio.add("early", "x")
        try cpio.finished().write(to: initrd)
        let handle = try FileHandle(forWritingTo: initrd)
        try handle.truncate(atOffset: 20 << 30)
        try handle.close()
        let started = Date()
        let image = try Initramfs.read(initrd.path, tree: TreeFiles(root: "/"), version: version, budget: PreflightBudget())
        XCTAssertLessThan(Date().timeIntervalSince(started), 2, "the hole is skipped")
        XCTAssertEqual(image.entries, 1)
        try FileManager.default.removeItem(at: initrd)
    }
}

/// cpio newc archives written directly (fixtures of shapes no tool makes).
struct NewcArchive {
    private var data = Data()
    private var inode = 1

    mutating func add(_ name: String, _ content: String) {
        let body = Data(content.utf8)
        let header = String(format: "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
                            inode, 0o100644, 0, 0, 1, 0, body.count, 0, 0, 0, 0, name.utf8.count + 1, 0)
        inode += 1
        data += Data(header.utf8) + Data(name.utf8) + Data([0])
        while data.count % 4 != 0 { data.append(0) }
        data += body
        while data.count % 4 != 0 { data.append(0) }
    }

    func finished() -> Data {
        var copy = self
        copy.add("TRAILER!!!", "")
        return copy.data
    }
}
