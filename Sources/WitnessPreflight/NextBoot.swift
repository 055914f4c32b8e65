import WitnessSystem

/// What the machine will boot next, and which rule decided it.
public struct NextBoot: Sendable, Codable, Equatable {
    /// "grubenv next_entry", "grub.cfg default", "systemd-boot LoaderEntryOneShot", "newest kernel in /boot", "--kernel"…
    public var rule: String
    public var title: String?
    public var version: String?
    public var kernel: String
    public var initrds: [String]
    public var arguments: String?

    enum CodingKeys: String, CodingKey { case rule, title, version, kernel, initrds, arguments }
}

/// Resolves the next boot under `root` ("/" for this machine): GRUB, then
/// systemd-boot, else the newest kernel installed. Odd inputs (a grubenv of
/// the wrong size, an unreadable EFI variable) are reported, and the next
/// rule is tried.
public struct NextBootResolver {
    public let root: String
    /// Read EFI variables (only for the running machine).
    public let efivars: String?
    /// The tree's files, resolved inside it.
    let tree: TreeFiles
    public private(set) var problems: [String] = []
    /// A boot loader file is a few KiB; a larger one is not read.
    static let configLimit = 4 << 20

    public init(tree: TreeFiles, efivars: String? = nil) {
        root = tree.root
        self.tree = tree
        self.efivars = efivars
    }

    public mutating func resolve(kernelVersion: String? = nil) -> NextBoot? {
        if let kernelVersion { return installed(version: kernelVersion, rule: "--kernel \(kernelVersion)") }
        return systemdBootFirst() ?? grub() ?? systemdBoot() ?? newestInstalled()
    }

    // MARK: GRUB

    private mutating func grub() -> NextBoot? {
        guard let directory = ["/boot/grub", "/boot/grub2"].map({ root + $0 }).first(where: { tree.exists($0 + "/grub.cfg") }) else {
            return nil
        }
        let text: String
        switch tree.text(directory + "/grub.cfg", limit: Self.configLimit) {
        case .success(let read): text = read
        case .failure(let error):
            problems.append("\(error)")
            return nil
        }
        var menu = GrubMenu.parse(text)
        var env = GrubEnvironment()
        switch tree.read(directory + "/grubenv", limit: GrubEnvironment.size) {
        case .bytes(let bytes):
            switch GrubEnvironment.parse(bytes) {
            case .success(let parsed): env = parsed
            case .failure(let error): problems.append("\(directory)/grubenv: \(error)")
            }
        case .missing: break
        case .tooLarge(let size): problems.append("\(directory)/grubenv is \(size) bytes, not \(GrubEnvironment.size): GRUB does not read it")
        case .notRegular(let kind): problems.append("\(directory)/grubenv is \(kind): GRUB does not read it")
        case .failed(let why): problems.append("\(directory)/grubenv: \(why)")
        }
        if menu.usesBLS {
            let entries = BootLoaderEntry.all(in: root + "/boot/loader/entries", base: root + "/boot", tree: tree)
            menu.items = entries.map { entry in
                GrubMenu.Item(title: entry.title ?? entry.id, id: entry.id, kernel: entry.linux, kernelArguments: entry.options,
                              initrds: entry.initrds)
            } + menu.items
        }
        var spec: String, rule: String
        if let next = env.values["next_entry"], !next.isEmpty {
            (spec, rule) = (next, "GRUB: grubenv next_entry (a one-time choice)")
        } else if let saved = menu.defaults.last(where: { $0 != "${next_entry}" }), saved.contains("saved_entry") {
            (spec, rule) = (env.values["saved_entry"] ?? "0", "GRUB: grubenv saved_entry (GRUB_DEFAULT=saved)")
        } else {
            (spec, rule) = (menu.defaults.last(where: { $0 != "${next_entry}" }) ?? "0", "GRUB: grub.cfg default")
        }
        guard let item = menu.entry(for: spec) else {
            problems.append("GRUB's default \"\(spec)\" names no entry of \(directory)/grub.cfg (GRUB falls back to the first)")
            guard let first = menu.entry(for: "0") else { return nil }
            return boot(first, rule: rule + " (no such entry: the first one)", base: root + "/boot")
        }
        return boot(item, rule: "\(rule) \"\(spec)\"", base: root + "/boot")
    }

    private func boot(_ item: GrubMenu.Item, rule: String, base: String) -> NextBoot? {
        guard let kernel = item.kernel else { return nil }
        let path = locate(kernel, base: base)
        return NextBoot(rule: rule, title: item.title, version: Self.version(ofKernel: kernel), kernel: path,
                        initrds: item.initrds.map { locate($0, base: base) }, arguments: item.kernelArguments)
    }

    /// A boot loader path: relative to the root file system, or to /boot when that is its own file system.
    private func locate(_ path: String, base: String) -> String {
        let clean = path.hasPrefix("(") ? String(path.drop { $0 != ")" }.dropFirst()) : path
        if tree.exists(root + clean) { return root + clean }
        if tree.exists(base + clean) { return base + clean }
        return root + clean
    }

    // MARK: systemd-boot

    /// systemd-boot ran this boot (its LoaderInfo variable exists): it decides, not a GRUB config left behind.
    private mutating func systemdBootFirst() -> NextBoot? {
        guard let efivars, Files.exists(LoaderVariable.path("LoaderInfo", efivars: efivars)) else { return nil }
        return systemdBoot()
    }

    private mutating func systemdBoot() -> NextBoot? {
        guard let esp = ["/efi", "/boot/efi", "/boot"].map({ root + $0 }).first(where: { tree.isDirectory($0 + "/loader/entries") }) else {
            return nil
        }
        let entries = BootLoaderEntry.all(in: esp + "/loader/entries", base: esp, tree: tree)
        guard !entries.isEmpty else { return nil }
        var choice: (String, String)?
        for name in ["LoaderEntryOneShot", "LoaderEntryDefault"] {
            guard let efivars, let bytes = Files.read(LoaderVariable.path(name, efivars: efivars), limit: 4096) else { continue }
            switch LoaderVariable.decode(bytes) {
            case .success(let id): choice = (id, "systemd-boot: EFI variable \(name)")
            case .failure(let error): problems.append("\(name): \(error)")
            }
            if choice != nil { break }
        }
        if choice == nil, case .success(let conf) = tree.text(esp + "/loader/loader.conf", limit: Self.configLimit),
           let pattern = Self.loaderDefault(conf) {
            choice = (pattern, "systemd-boot: loader.conf default")
        }
        let (pattern, rule) = choice ?? ("*", "systemd-boot: the first entry (newest version)")
        let id = pattern.hasSuffix(".conf") ? String(pattern.dropLast(5)) : pattern
        guard let entry = entries.first(where: { Self.glob(id, $0.id) }) else {
            problems.append("systemd-boot's default \"\(pattern)\" matches no entry in \(esp)/loader/entries")
            return nil
        }
        guard let linux = entry.linux else { return nil }
        return NextBoot(rule: "\(rule) \"\(pattern)\"", title: entry.title, version: entry.version ?? Self.version(ofKernel: linux),
                        kernel: esp + linux, initrds: entry.initrds.map { esp + $0 }, arguments: entry.options)
    }

    /// loader.conf's `default` (a glob over entry ids), as systemd-boot reads it.
    public static func loaderDefault(_ conf: String) -> String? {
        conf.split(separator: "\n").first(where: { $0.hasPrefix("default ") || $0.hasPrefix("default\t") })
            .map { String($0.dropFirst("default ".count).trimming([" ", "\t"])) }
    }

    /// fnmatch-style `*` and `?` (loader.conf's default is a glob): no
    /// recursion, at most pattern × text steps (backtracking only to the
    /// last star), so no pattern can exhaust the stack or run exponentially.
    public static func glob(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern), t = Array(text)
        var i = 0, j = 0, star = -1, resume = 0
        while j < t.count {
            if i < p.count && (p[i] == "?" || (p[i] != "*" && p[i] == t[j])) {
                i += 1
                j += 1
            } else if i < p.count && p[i] == "*" {
                star = i
                resume = j
                i += 1
            } else if star >= 0 {
                i = star + 1
                resume += 1
                j = resume
            } else {
                return false
            }
        }
        while i < p.count && p[i] == "*" { i += 1 }
        return i == p.count
    }

    // MARK: No boot loader configuration: the newest kernel

    private func newestInstalled() -> NextBoot? {
        let versions = (tree.list(root + "/boot") ?? []).compactMap { name -> String? in
            name.hasPrefix("vmlinuz-") ? String(name.dropFirst("vmlinuz-".count)) : nil
        }.sorted(by: VersionOrder.newerFirst)
        guard let newest = versions.first else { return nil }
        return installed(version: newest, rule: "no boot loader configuration: the newest kernel in /boot")
    }

    /// vmlinuz-VERSION and its initramfs by the distributions' names.
    private func installed(version: String, rule: String) -> NextBoot? {
        let boot = root + "/boot"
        let initrd = ["initrd.img-\(version)", "initramfs-\(version).img", "initrd-\(version).img", "initramfs-\(version)"]
            .map { boot + "/" + $0 }.first(where: tree.exists)
        return NextBoot(rule: rule, title: nil, version: version, kernel: boot + "/vmlinuz-\(version)",
                        initrds: initrd.map { [$0] } ?? [], arguments: nil)
    }

    /// "6.1.0-13-amd64" from ".../vmlinuz-6.1.0-13-amd64".
    public static func version(ofKernel path: String) -> String? {
        let base = path.split(separator: "/").last.map(String.init) ?? path
        for prefix in ["vmlinuz-", "vmlinux-", "kernel-"] where base.hasPrefix(prefix) { return String(base.dropFirst(prefix.count)) }
        return nil
    }
}
