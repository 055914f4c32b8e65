import Foundation
import XCTest

/// Initramfs images and boot trees built for the tests with the real tools
/// (cpio -H newc, gzip, zstd, xz, lz4), as distributions build them.
enum InitramfsFixture {
    static let version = "6.1.0-13-amd64"

    /// Modules of a small Debian-like image: the virtio disk stack, ext4 and its dependencies.
    static let modules = [
        "kernel/drivers/block/virtio_blk.ko": ["kernel/drivers/virtio/virtio.ko", "kernel/drivers/virtio/virtio_ring.ko"],
        "kernel/drivers/virtio/virtio.ko": [], "kernel/drivers/virtio/virtio_ring.ko": [],
        "kernel/drivers/virtio/virtio_pci.ko": ["kernel/drivers/virtio/virtio.ko", "kernel/drivers/virtio/virtio_ring.ko"],
        "kernel/fs/ext4/ext4.ko": ["kernel/fs/jbd2/jbd2.ko", "kernel/fs/mbcache.ko", "kernel/lib/crc16.ko"],
        "kernel/fs/jbd2/jbd2.ko": [], "kernel/fs/mbcache.ko": [], "kernel/lib/crc16.ko": [],
    ]

    struct Options {
        var compression = "zstd"
        var without: Set<String> = []
        var emptyModulesDep = false
        var builtin: [String] = []
        var microcode = false
        var generatorFile = "conf/initramfs.conf"
        var version = InitramfsFixture.version
        /// Modules beyond the disk stack (a fuller image, such as a good running boot's).
        var extraModules = 0
    }

    /// A staging tree, packed into an image at `path`.
    static func image(at path: URL, _ options: Options = Options()) throws {
        let stage = try temporaryDirectory("initramfs-stage")
        defer { try? FileManager.default.removeItem(at: stage) }
        let version = options.version
        let extra = (0..<options.extraModules).map { ("kernel/drivers/misc/extra\($0).ko", [String]()) }
        var dep = ""
        for (module, needs) in modules.sorted(by: { $0.key < $1.key }) + extra where !options.without.contains(name(module)) {
            try write(stage, "usr/lib/modules/\(version)/\(module)", "\u{7f}ELF fake module")
            dep += "\(module): \(needs.joined(separator: " "))\n"
        }
        try write(stage, "usr/lib/modules/\(version)/modules.dep", options.emptyModulesDep ? "" : dep)
        try write(stage, "usr/lib/modules/\(version)/modules.builtin", options.builtin.map { $0 + "\n" }.joined())
        try write(stage, options.generatorFile, "MODULES=most\n")
        try write(stage, "init", "#!/bin/sh\n")
        let main = stage.appendingPathComponent("main.cpio")
        try pack(stage, excluding: "main.cpio", to: main)
        var bytes = Data()
        if options.microcode {
            let early = try temporaryDirectory("initramfs-early")
            defer { try? FileManager.default.removeItem(at: early) }
            try write(early, "kernel/x86/microcode/GenuineIntel.bin", String(repeating: "u", count: 3000))
            let cpio = early.appendingPathComponent("early.cpio")
            try pack(early, excluding: "early.cpio", to: cpio)
            bytes += try Data(contentsOf: cpio)
        }
        bytes += try compress(main, options.compression)
        try bytes.write(to: path)
    }

    static func name(_ module: String) -> String {
        String(module.split(separator: "/").last!.dropLast(3))
    }

    static func write(_ root: URL, _ relative: String, _ text: String) throws {
        let url = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: false, encoding: .utf8)
    }

    /// `find . | cpio -o -H newc` in `directory`.
    static func pack(_ directory: URL, excluding: String, to output: URL) throws {
        let result = try runProgram("/bin/sh", ["-c", "cd '\(directory.path)' && find . ! -name '\(excluding)' | LC_ALL=C sort | cpio --quiet -o -H newc > '\(output.path)'"])
        XCTAssertEqual(result.status, 0, result.stderr)
    }

    static func compress(_ file: URL, _ how: String) throws -> Data {
        let tools = ["none": "cat", "gzip": "gzip -c -9", "zstd": "zstd -q -c -19", "xz": "xz -c --check=crc32", "lz4": "lz4 -q -c -l"]
        let result = try runProgram("/bin/sh", ["-c", "\(tools[how]!) '\(file.path)' > '\(file.path).out'"])
        XCTAssertEqual(result.status, 0, "\(how): \(result.stderr)")
        return try Data(contentsOf: URL(fileURLWithPath: file.path + ".out"))
    }

    /// A root to check with --root: GRUB config, a kernel, the image, an fstab.
    static func root(_ options: Options = Options(), fstab: String = "/dev/vda1 / ext4 errors=remount-ro 0 1\n",
                     grubDefault: String = "0", grubenv: [String: String] = [:]) throws -> URL {
        let root = try temporaryDirectory("preflight-root")
        try write(root, "boot/vmlinuz-\(version)", "MZ fake bzImage")
        try write(root, "boot/vmlinuz-5.10.0-9-amd64", "MZ older")
        try image(at: root.appendingPathComponent("boot/initrd.img-\(version)"), options)
        try write(root, "etc/fstab", fstab)
        try write(root, "boot/grub/grub.cfg", grubConfig(grubDefault))
        var env = "# GRUB Environment Block\n" + grubenv.map { "\($0.key)=\($0.value)\n" }.sorted().joined()
        env += String(repeating: "#", count: 1024 - env.utf8.count)
        try write(root, "boot/grub/grubenv", env)
        return root
    }

    /// Debian's grub.cfg shape: the next_entry dance, an entry, an "Advanced" submenu.
    static func grubConfig(_ defaultSpec: String) -> String {
        """
        if [ -s $prefix/grubenv ]; then
          set have_grubenv=true
          load_env
        fi
        if [ "${next_entry}" ] ; then
           set default="${next_entry}"
           set next_entry=
           save_env next_entry
           set boot_once=true
        else
           set default="\(defaultSpec)"
        fi
        menuentry 'Debian GNU/Linux' --class debian $menuentry_id_option 'gnulinux-simple-1234' {
        \tlinux\t/boot/vmlinuz-\(version) root=UUID=1234 ro quiet
        \tinitrd\t/boot/initrd.img-\(version)
        }
        submenu 'Advanced options for Debian GNU/Linux' $menuentry_id_option 'gnulinux-advanced-1234' {
        \tmenuentry 'Debian GNU/Linux, with Linux \(version)' --class debian $menuentry_id_option 'gnulinux-\(version)-advanced-1234' {
        \t\tlinux\t/boot/vmlinuz-\(version) root=UUID=1234 ro quiet
        \t\tinitrd\t/boot/initrd.img-\(version)
        \t}
        \tmenuentry 'Debian GNU/Linux, with Linux 5.10.0-9-amd64' --class debian $menuentry_id_option 'gnulinux-5.10.0-9-amd64-advanced-1234' {
        \t\tlinux\t/boot/vmlinuz-5.10.0-9-amd64 root=UUID=1234 ro quiet
        \t\tinitrd\t/boot/initrd.img-5.10.0-9-amd64
        \t}
        }
        """
    }
}
