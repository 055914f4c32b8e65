import Glibc
import WitnessSystem

/// What it takes to mount the root file system: its type, then each layer
/// down to the hardware (dm-crypt, LVM, md, partition, disk) and the
/// drivers of each, as kernel module names.
public struct RootChain: Sendable, Codable, Equatable {
    public struct Need: Sendable, Codable, Equatable {
        /// Normalized module name (`virtio_blk`).
        public var module: String
        /// Why: "driver of vda's virtio device", "file system ext4".
        public var why: String
        /// Built into the running kernel (no initstate in sysfs): the next
        /// kernel most likely has it built in too, so its absence is a warning.
        public var builtInHere = false
    }

    /// Where the chain was read: "/proc/self/mountinfo and /sys", or "DIR/etc/fstab".
    public var source: String
    public var device: String
    public var fileSystem: String
    public var needs: [Need] = []
    /// What could not be known (a UUID= not resolvable, an HBA behind a /dev/sdX name).
    public var unknowns: [String] = []

    /// Modules of a file system type (ext2 and ext3 are mounted by ext4's driver where there is no ext2 module).
    static func fileSystemModules(_ type: String) -> [String] {
        switch type {
        case "ext2", "ext3": return ["ext4"]
        case "vfat", "msdos": return ["vfat"]
        default: return [Initramfs.normalized(type)]
        }
    }

    // MARK: - The running system

    /// The chain of the running system's root, from mountinfo and sysfs.
    public static func running(proc: String = "/proc", sys: String = "/sys") -> Result<RootChain, PreflightError> {
        guard let mountinfo = Files.readText("\(proc)/self/mountinfo") else {
            return .failure(PreflightError("cannot read \(proc)/self/mountinfo"))
        }
        guard let root = MountInfoLine.root(in: mountinfo) else {
            return .failure(PreflightError("no readable mount of / in \(proc)/self/mountinfo"))
        }
        var chain = RootChain(source: "\(proc)/self/mountinfo and \(sys)", device: root.source, fileSystem: root.fileSystem)
        for module in fileSystemModules(chain.fileSystem) {
            chain.needs.append(Need(module: module, why: "file system \(chain.fileSystem)"))
        }
        let majorMinor = root.majorMinor
        guard majorMinor.hasPrefix("0:") == false else {
            chain.unknowns.append("/ is \(chain.fileSystem) on \(chain.device), a device-less file system: no block driver to check")
            return .success(chain)
        }
        guard let device = SystemCalls.realPath("\(sys)/dev/block/\(majorMinor)") else {
            return .failure(PreflightError("\(sys)/dev/block/\(majorMinor) (the device of /) does not exist"))
        }
        chain.walk(device, sys: sys, depth: 0)
        return .success(chain)
    }

    /// A block device's layers: dm (its uuid says crypt, LVM, multipath) and
    /// md over their slaves, a partition over its disk, then every driver on
    /// the way up the device tree.
    private mutating func walk(_ path: String, sys: String, depth: Int) {
        guard depth < 16 else { return }
        let name = String(path.split(separator: "/").last ?? "")
        if Files.isDirectory(path + "/dm") {
            let uuid = Files.readLine(path + "/dm/uuid") ?? ""
            needs.append(Need(module: "dm_mod", why: "device mapper (\(name))"))
            if uuid.hasPrefix("CRYPT-") {
                needs.append(Need(module: "dm_crypt", why: "dm-crypt (\(name))"))
                unknowns.append("\(name) is encrypted: its cipher's modules are not checked")
            } else if uuid.hasPrefix("mpath-") {
                needs.append(Need(module: "dm_multipath", why: "multipath (\(name))"))
            }
            slaves(path, sys: sys, depth: depth)
            return
        }
        if Files.isDirectory(path + "/md") {
            needs.append(Need(module: "md_mod", why: "software RAID (\(name))"))
            let level = Files.readLine(path + "/md/level") ?? ""
            let personality = ["raid4": "raid456", "raid5": "raid456", "raid6": "raid456"][level] ?? level
            if !personality.isEmpty { needs.append(Need(module: personality, why: "\(level) (\(name))")) }
            slaves(path, sys: sys, depth: depth)
            return
        }
        var disk = path
        if Files.exists(path + "/partition") {
            disk = String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
        }
        let diskName = String(disk.split(separator: "/").last ?? "")
        // Up the device tree from the disk's device: every bound driver is needed.
        var dir = SystemCalls.realPath(disk + "/device")
        var level = 0
        while let current = dir, current.hasPrefix("\(sys)/devices/"), level < 24 {
            if let driver = SystemCalls.realPath(current + "/driver") {
                let module = SystemCalls.realPath(current + "/driver/module").map { String($0.split(separator: "/").last ?? "") }
                    ?? String(driver.split(separator: "/").last ?? "")
                let what = String(current.split(separator: "/").last ?? "")
                // Only loadable modules have an initstate.
                let loadable = Files.exists("\(sys)/module/\(module)/initstate")
                let need = Need(module: Initramfs.normalized(module), why: "driver of \(what) (under \(diskName))", builtInHere: !loadable)
                if !needs.contains(where: { $0.module == need.module }) { needs.append(need) }
            }
            dir = String(current[..<(current.lastIndex(of: "/") ?? current.startIndex)])
            level += 1
        }
        if !needs.contains(where: { $0.why.contains("under \(diskName)") }) {
            unknowns.append("no driver found under \(diskName) in \(sys): its disk driver is not checked")
        }
    }

    private mutating func slaves(_ path: String, sys: String, depth: Int) {
        for slave in Files.list(path + "/slaves") ?? [] {
            if let target = SystemCalls.realPath("\(path)/slaves/\(slave)") { walk(target, sys: sys, depth: depth + 1) }
        }
    }

    // MARK: - Another root (an image, a chroot)

    /// The chain as far as `root`/etc/fstab tells: a device name gives its
    /// driver family; a UUID= or LABEL= is resolved through `root`/dev if it
    /// can be, and reported otherwise, never guessed.
    public static func fromFstab(tree: TreeFiles) -> Result<RootChain, PreflightError> {
        let root = tree.root
        let path = root + "/etc/fstab"
        let text: String
        switch tree.text(path, limit: 1 << 20) {
        case .success(let read): text = read
        case .failure(let error): return .failure(error)
        }
        guard let entry = FstabLine.root(in: text) else {
            return .failure(PreflightError("\(path) has no entry for /"))
        }
        var spec = entry.spec
        var chain = RootChain(source: path, device: spec, fileSystem: entry.fileSystem)
        for module in fileSystemModules(chain.fileSystem) where chain.fileSystem != "auto" {
            chain.needs.append(Need(module: module, why: "file system \(chain.fileSystem)"))
        }
        if chain.fileSystem == "auto" { chain.unknowns.append("the root file system type is `auto` in \(path)") }
        for prefix in ["UUID=", "LABEL=", "PARTUUID=", "PARTLABEL="] where spec.hasPrefix(prefix) {
            let link = "\(root)/dev/disk/by-\(prefix.dropLast().lowercased())/\(spec.dropFirst(prefix.count))"
            guard let target = tree.realPath(link), target.hasPrefix(root + "/dev/") else {
                chain.unknowns.append("\(spec) cannot be resolved under \(root): its disk, and so its driver, is unknown")
                return .success(chain)
            }
            spec = "/dev/" + (target.split(separator: "/").last.map(String.init) ?? "")
        }
        let device = String(spec.dropFirst("/dev/".count))
        let families: [(String, [String], String)] = [
            ("vd", ["virtio_blk"], "virtio disk"), ("nvme", ["nvme"], "NVMe disk"), ("xvd", ["xen_blkfront"], "Xen disk"),
            ("sd", ["sd_mod"], "SCSI/SATA disk"), ("mapper/", ["dm_mod"], "device mapper"), ("dm-", ["dm_mod"], "device mapper"),
            ("md", ["md_mod"], "software RAID"), ("mmcblk", ["mmc_block"], "MMC"),
        ]
        guard spec.hasPrefix("/dev/"), let family = families.first(where: { device.hasPrefix($0.0) }) else {
            chain.unknowns.append("the root device \(spec) names no known driver family")
            return .success(chain)
        }
        for module in family.1 { chain.needs.append(Need(module: module, why: "\(family.2) \(spec) (from its name)")) }
        if family.0 == "sd" { chain.unknowns.append("\(spec): the host adapter's driver cannot be known from a name") }
        return .success(chain)
    }
}
