import ArgumentParser
import WitnessArm
import WitnessReport
import WitnessPreflight
import WitnessSystem

struct Preflight: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preflight",
        abstract: "Check, before rebooting, that the next boot can mount root.",
        discussion: """
            Resolves the next boot (GRUB's grubenv next_entry or saved_entry and grub.cfg's \\
            default, systemd-boot's LoaderEntryOneShot/LoaderEntryDefault and loader.conf, \\
            else the newest kernel in /boot), then checks that kernel's image, and its \\
            initramfs read as a stream (gzip, zstd, xz, lz4, early microcode in front): the \\
            modules of that kernel inside, a non-empty modules.dep, and every module root \\
            needs (file system, device mapper or md layers, the disk's drivers, read from \\
            /proc/self/mountinfo and /sys) there with its dependencies, or built into that \\
            kernel. Each finding has a severity and, where it helps, the command that fixes it.

            With --root DIR, another root (an image, a chroot) is checked: the next boot is \\
            resolved under DIR and the root device comes from DIR/etc/fstab.

            EXIT STATUS: 0 the next boot should come up; 1 it would likely fail; 2 preflight \\
            could not tell (the findings say why).

            EXAMPLES:
              reboot-witness preflight
              reboot-witness preflight --kernel 6.1.0-26-amd64
              reboot-witness preflight --root /mnt/image --json | jq '.findings[] | select(.severity == "error")'
            """
    )

    @Flag(help: "Print one JSON object.")
    var json = false

    @Option(help: ArgumentHelp("Check this installed kernel instead of the boot loader's default.", valueName: "VERSION"))
    var kernel: String?

    @Option(help: ArgumentHelp("Check another root (an image, a chroot): its boot files and its etc/fstab.", valueName: "DIR"))
    var root: String = "/"

    func validate() throws {
        guard Files.isDirectory(root) else { throw ValidationError("--root \(root) is not a directory") }
        if let kernel, kernel.isEmpty || kernel.contains("/") { throw ValidationError("--kernel takes a version, like 6.1.0-26-amd64") }
    }

    func run() throws {
        let report = WitnessPreflight.Preflight(root: root, kernelVersion: kernel).run()
        print(json ? RecordFormatter.json(report) : PreflightText.human(report))
        if report.outcome.exitCode != 0 { throw ExitCode(report.outcome.exitCode) }
    }
}
