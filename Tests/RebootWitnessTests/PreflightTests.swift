import Foundation
import WitnessArm
import WitnessReport
import WitnessPreflight
import XCTest

/// Images built with the real tools: each compression, early microcode in
/// front, a broken depmod's empty modules.dep, a missing driver; and the
/// next-boot rules of GRUB, BLS and systemd-boot.
final class PreflightTests: XCTestCase {
    /// An image read as preflight reads one: inside its tree, for the fixture's version, within a fresh budget.
    func readImage(_ path: String, version: String = InitramfsFixture.version) throws -> InitramfsContents {
        try Initramfs.read(path, tree: try TreeFiles(root: "/"), version: version, budget: PreflightBudget())
    }

    let version = InitramfsFixture.version

    func testEachCompressionIsReadAsAStream() throws {
        for compression in ["none", "gzip", "zstd", "xz", "lz4"] {
            let path = try temporaryDirectory("image").appendingPathComponent("initrd.img")
            try InitramfsFixture.image(at: path, .init(compression: compression))
            let image = try readImage(path.path)
            XCTAssertNil(image.failure, compression)
            XCTAssertEqual(image.compressions, [compression == "lz4" ? "lz4" : compression], compression)
            let tree = try XCTUnwrap(image.tree(version), compression)
            XCTAssertEqual(tree.modules, Set(InitramfsFixture.modules.keys.map(InitramfsFixture.name)), compression)
            XCTAssertTrue(tree.modulesDep?.contains("kernel/drivers/block/virtio_blk.ko:") == true, compression)
            XCTAssertEqual(image.generator, .initramfsTools)
        }
    }

    func testEarlyMicrocodeInFrontOfACompressedArchive() throws {
        let path = try temporaryDirectory("image").appendingPathComponent("initrd.img")
        try InitramfsFixture.image(at: path, .init(compression: "gzip", microcode: true, generatorFile: "usr/lib/dracut/modules.txt"))
        let image = try readImage(path.path)
        XCTAssertNil(image.failure)
        XCTAssertEqual(image.compressions, ["none", "gzip"])
        XCTAssertTrue(image.microcode)
        XCTAssertEqual(image.generator, .dracut)
        XCTAssertEqual(image.tree(version)?.modules.contains("virtio_blk"), true)
    }

    func testABootableRoot() throws {
        let root = try InitramfsFixture.root()
        let report = Preflight(root: root.path).run()
        XCTAssertEqual(report.outcome, .bootable, PreflightText.human(report))
        XCTAssertEqual(report.nextBoot?.version, version)
        XCTAssertEqual(report.nextBoot?.rule, "GRUB: grub.cfg default \"0\"")
        XCTAssertEqual(Set(report.root?.needs.map(\.module) ?? []), ["ext4", "virtio_blk"])
        XCTAssertTrue(report.findings.contains { $0.message.hasPrefix("virtio_blk") && $0.severity == .ok })
    }

    /// Seed 002: a broken kmod left an empty modules.dep, the image carries
    /// almost nothing, and the virtio disk driver is missing.
    func testAnEmptyModulesDepAndAMissingDriverFail() throws {
        let root = try InitramfsFixture.root(.init(without: ["virtio_blk"], emptyModulesDep: true))
        let report = Preflight(root: root.path).run()
        XCTAssertEqual(report.outcome, .likelyFails)
        XCTAssertEqual(report.outcome.exitCode, 1)
        let errors = report.findings.filter { $0.severity == .error }
        XCTAssertTrue(errors.contains { $0.message.contains("modules.dep of \(version) is empty") }, "\(errors)")
        let missing = try XCTUnwrap(errors.first { $0.message.hasPrefix("virtio_blk") })
        XCTAssertTrue(missing.message.contains("is neither in"), missing.message)
        XCTAssertEqual(missing.hint, "rebuild it: update-initramfs -u -k \(version)")
    }

    func testABuiltInDriverNeedsNoModule() throws {
        let root = try InitramfsFixture.root(.init(without: ["virtio_blk"], builtin: ["kernel/drivers/block/virtio_blk.ko"]))
        XCTAssertEqual(Preflight(root: root.path).run().outcome, .bootable)
    }

    func testAMissingDependencyFails() throws {
        let root = try InitramfsFixture.root(.init(without: ["jbd2"]))
        let report = Preflight(root: root.path).run()
        XCTAssertEqual(report.outcome, .likelyFails)
        XCTAssertTrue(report.findings.contains { $0.message.contains("not what it needs: jbd2") }, PreflightText.human(report))
    }

    /// The next image against the running boot's own: far fewer modules is a
    /// warning (not an error: a smaller MODULES=dep image is legitimate).
    func testFarFewerModulesThanTheRunningBootsImage() throws {
        let root = try InitramfsFixture.root()
        let running = "6.1.0-12-amd64"
        let runningImage = root.appendingPathComponent("boot/initrd.img-\(running)")
        try InitramfsFixture.image(at: runningImage, .init(version: running, extraModules: 40))
        var preflight = Preflight(root: root.path)
        XCTAssertNil(preflight.runningRelease, "--root: another system's images have no running boot")
        XCTAssertFalse(preflight.run().findings.contains { $0.check == "modules" })

        preflight.runningRelease = running
        var report = preflight.run()
        XCTAssertEqual(report.outcome, .bootable, PreflightText.human(report))
        let fewer = try XCTUnwrap(report.findings.first { $0.check == "modules" }, PreflightText.human(report))
        XCTAssertEqual(fewer.severity, .warning)
        XCTAssertTrue(fewer.message.hasPrefix("8 modules of \(version) inside, against 48 in the running boot's"), fewer.message)

        preflight.runningRelease = version  // the next image is the running one: nothing to compare
        XCTAssertFalse(preflight.run().findings.contains { $0.check == "modules" })

        try Data("not an initramfs".utf8).write(to: runningImage)
        preflight.runningRelease = running
        report = preflight.run()
        let uncompared = try XCTUnwrap(report.findings.first { $0.check == "modules" }, PreflightText.human(report))
        XCTAssertEqual(uncompared.severity, .info)
        XCTAssertTrue(uncompared.message.hasPrefix("not compared with the running boot's"), uncompared.message)
    }

    func testTheNextBootRules() throws {
        // A one-time next_entry wins over the default; a submenu path by ids.
        var root = try InitramfsFixture.root(grubenv: ["next_entry": "gnulinux-advanced-1234>gnulinux-5.10.0-9-amd64-advanced-1234"])
        var next = try XCTUnwrap(Preflight(root: root.path).run().nextBoot)
        XCTAssertEqual(next.version, "5.10.0-9-amd64")
        XCTAssertTrue(next.rule.hasPrefix("GRUB: grubenv next_entry"), next.rule)
        // GRUB_DEFAULT=saved with a title path.
        root = try InitramfsFixture.root(grubDefault: "${saved_entry}",
                                         grubenv: ["saved_entry": "Advanced options for Debian GNU/Linux>Debian GNU/Linux, with Linux 5.10.0-9-amd64"])
        next = try XCTUnwrap(Preflight(root: root.path).run().nextBoot)
        XCTAssertEqual(next.version, "5.10.0-9-amd64")
        XCTAssertTrue(next.rule.hasPrefix("GRUB: grubenv saved_entry"), next.rule)
        // "1>0": the submenu's first entry.
        root = try InitramfsFixture.root(grubDefault: "1>0")
        XCTAssertEqual(Preflight(root: root.path).run().nextBoot?.version, version)
        // No boot loader: the newest kernel installed.
        try FileManager.default.removeItem(at: root.appendingPathComponent("boot/grub"))
        next = try XCTUnwrap(Preflight(root: root.path).run().nextBoot)
        XCTAssertEqual(next.version, version)
        XCTAssertEqual(next.rule, "no boot loader configuration: the newest kernel in /boot")
        XCTAssertEqual(Preflight(root: root.path, kernelVersion: "5.10.0-9-amd64").run().nextBoot?.initrds, [])
    }

    func testBootLoaderSpecificationEntries() throws {
        let root = try InitramfsFixture.root()
        try FileManager.default.removeItem(at: root.appendingPathComponent("boot/grub"))
        try InitramfsFixture.write(root, "boot/efi/loader/loader.conf", "timeout 3\ndefault debian-*\n")
        try InitramfsFixture.write(root, "boot/efi/loader/entries/debian-\(version)+2-1.conf",
                                   "title Debian\nversion \(version)\nlinux /vmlinuz-\(version)\ninitrd /initrd.img-\(version)\noptions root=/dev/vda1\n")
        try InitramfsFixture.write(root, "boot/efi/loader/entries/debian-5.10.0-9-amd64.conf",
                                   "title Debian old\nversion 5.10.0-9-amd64\nlinux /vmlinuz-5.10.0-9-amd64\n")
        let next = try XCTUnwrap(Preflight(root: root.path).run().nextBoot)
        XCTAssertEqual(next.version, version, "the newest entry matching loader.conf's default")
        XCTAssertEqual(next.rule, "systemd-boot: loader.conf default \"debian-*\"")
        let entry = BootLoaderEntry.parse(fileName: "debian-\(version)+2-1.conf", text: "", base: "/")
        XCTAssertEqual([entry.id, "\(entry.triesLeft!)", "\(entry.triesDone!)"], ["debian-\(version)", "2", "1"])
        // EFI variables: 4 bytes of attributes, then UTF-16LE with a NUL.
        let bytes: [UInt8] = [7, 0, 0, 0] + Array("debian-x.conf".utf16.flatMap { [UInt8($0 & 0xff), UInt8($0 >> 8)] }) + [0, 0]
        XCTAssertEqual(try LoaderVariable.decode(bytes).get(), "debian-x.conf")
        if case .success = LoaderVariable.decode([7, 0, 0, 0, 0x64]) { XCTFail("an odd-length EFI variable is not a UTF-16 string") }
    }

    func testBadInputIsOneFindingEach() throws {
        // A truncated image: damaged, the kernel could not unpack it either.
        var root = try InitramfsFixture.root()
        let initrd = root.appendingPathComponent("boot/initrd.img-\(version)")
        let whole = try Data(contentsOf: initrd)
        try whole.prefix(whole.count / 2).write(to: initrd)
        var report = Preflight(root: root.path).run()
        XCTAssertEqual(report.outcome, .likelyFails)
        XCTAssertTrue(report.findings.contains { $0.check == "initramfs" && $0.message.contains("damaged") }, PreflightText.human(report))
        // Not an archive at all: unknown.
        try Data(repeating: 0x5a, count: 4096).write(to: initrd)
        report = Preflight(root: root.path).run()
        XCTAssertEqual(report.outcome, .unknown, PreflightText.human(report))
        // A grubenv of the wrong size is said, and GRUB's default still applies.
        root = try InitramfsFixture.root()
        try Data("# GRUB Environment Block\nsaved_entry=1\n".utf8).write(to: root.appendingPathComponent("boot/grub/grubenv"))
        report = Preflight(root: root.path).run()
        XCTAssertTrue(report.findings.contains { $0.check == "bad input" && $0.message.contains("not 1024") })
        XCTAssertEqual(report.outcome, .bootable)
        // An unresolvable UUID= in fstab: said, not guessed.
        root = try InitramfsFixture.root(fstab: "UUID=0b1c6e7e-x / ext4 defaults 0 1\n")
        report = Preflight(root: root.path).run()
        XCTAssertTrue(report.findings.contains { $0.message.contains("UUID=0b1c6e7e-x cannot be resolved") })
        XCTAssertEqual(report.root?.needs.map(\.module), ["ext4"])
    }

    /// A cpio claiming absurd sizes and paths deeper than anything real:
    /// bounded memory, a finding, no crash.
    /// gzip goes through ISA-L's inflate, not libarchive's: its damage is
    /// still one finding with the reason, and the read stays a stream.
    func testDamagedGzipImages() throws {
        let root = try InitramfsFixture.root(.init(compression: "gzip"))
        let initrd = root.appendingPathComponent("boot/initrd.img-\(version)")
        let whole = try Data(contentsOf: initrd)
        XCTAssertEqual(Preflight(root: root.path).run().outcome, .bootable)

        try whole.prefix(whole.count - 40).write(to: initrd)
        var report = Preflight(root: root.path).run()
        XCTAssertEqual(report.outcome, .likelyFails, PreflightText.human(report))
        XCTAssertTrue(report.findings.contains { $0.message.contains("damaged") && $0.message.contains("truncated gzip") },
                      PreflightText.human(report))

        var corrupt = whole
        for i in stride(from: 64, to: corrupt.count - 16, by: 97) { corrupt[i] ^= 0x5a }
        try corrupt.write(to: initrd)
        report = Preflight(root: root.path).run()
        XCTAssertEqual(report.outcome, .likelyFails, PreflightText.human(report))
        XCTAssertTrue(report.findings.contains { $0.message.contains("damaged") && $0.message.contains("gzip data is corrupt") },
                      PreflightText.human(report))
    }

    func testACpioBomb() throws {
        let path = try temporaryDirectory("bomb").appendingPathComponent("initrd.img")
        var data = Data()
        let deep = String(repeating: "d/", count: 3000) + "x"
        for (name, size) in [(deep, 0), ("huge", 0x7fff_ffff)] {
            let header = String(format: "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
                                1, 0o100644, 0, 0, 1, 0, size, 0, 0, 0, 0, name.utf8.count + 1, 0)
            var entry = Data(header.utf8) + Data(name.utf8) + Data([0])
            while entry.count % 4 != 0 { entry.append(0) }
            data += entry
        }
        try data.write(to: path)
        let image = try readImage(path.path)
        XCTAssertNotNil(image.failure, "an entry claiming 2 GiB in a 6 KiB file is truncated")
        XCTAssertLessThanOrEqual(image.entries, 2)
    }
}
