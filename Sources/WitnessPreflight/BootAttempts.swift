import WitnessSystem

/// What the boot loader knows of failed attempts before this boot, read
/// early (arm starts before the system marks the boot good): GRUB's
/// recordfail (Ubuntu) and boot_success/boot_indeterminate (Fedora, RHEL),
/// systemd-boot's boot counting on the entry it booted.
public enum BootAttempts {
    public static func bootLoaderNotes(root: String = "/", efivars: String = "/sys/firmware/efi/efivars") -> [String] {
        guard let tree = try? TreeFiles(root: root) else { return [] }
        var notes: [String] = []
        for directory in ["/boot/grub", "/boot/grub2"] {
            guard case .bytes(let bytes) = tree.read(tree.root + directory + "/grubenv", limit: GrubEnvironment.size),
                  case .success(let env) = GrubEnvironment.parse(bytes) else { continue }
            if env.values["recordfail"] == "1" {
                notes.append("GRUB: recordfail=1 (an earlier boot attempt did not finish booting)")
            }
            if env.values["boot_success"] == "0", let tries = env.values["boot_indeterminate"], let n = Int(tries), n > 0 {
                notes.append("GRUB: boot_success=0, boot_indeterminate=\(n) (attempts that did not finish booting)")
            }
        }
        // The entry systemd-boot booted, and its counter: tries done beyond this one failed.
        if let bytes = Files.read(LoaderVariable.path("LoaderEntrySelected", efivars: efivars), limit: 4096),
           case .success(let selected) = LoaderVariable.decode(bytes) {
            for esp in ["/efi", "/boot/efi", "/boot"] {
                let entries = BootLoaderEntry.all(in: tree.root + esp + "/loader/entries", base: tree.root + esp, tree: tree)
                guard let entry = entries.first(where: { $0.id == BootLoaderEntry.parse(fileName: selected, text: "", base: "").id }),
                      let done = entry.triesDone, done > 1 else { continue }
                notes.append("systemd-boot: entry \(entry.id) counted \(done) tries: \(done - 1) attempt(s) before this one failed")
            }
        }
        return notes
    }

    /// Kernel log lines of an attempt that never mounted root.
    public static let rootMountFailures = [
        "VFS: Unable to mount root fs", "Gave up waiting for root", "does not exist. Dropping to a shell",
        "Cannot open root device", "mounting /dev/root on /root failed", "Warning: /dev/disk/by-uuid/",
        "dracut-initqueue[", "Could not boot", "No working init found",
    ]

    /// Does this kernel log (a pstore record's) end in a failure to mount root?
    public static func isRootMountFailure(_ lines: [String]) -> String? {
        lines.last { line in rootMountFailures.contains { line.contains($0) } && !line.contains("dracut-initqueue[") }
            ?? lines.last { $0.contains("dracut-initqueue[") && $0.contains("timeout") }
    }
}
