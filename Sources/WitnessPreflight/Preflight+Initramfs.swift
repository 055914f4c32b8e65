import Glibc
import WitnessSystem

extension Preflight {
    /// The next boot's initramfs: readable to its end, the modules of its
    /// kernel inside with a usable modules.dep, and every module the root
    /// chain needs there (with what it needs) or built into that kernel.
    func checkInitramfs(_ next: NextBoot, chain: RootChain?, tree: TreeFiles, budget: PreflightBudget)
        -> (PreflightReport.ImageSummary?, [Finding]) {
        guard let version = next.version else {
            return (nil, [Finding(severity: .unknown, check: "initramfs",
                                  message: "the kernel version of \(next.kernel) is unknown: its modules cannot be looked for")])
        }
        let builtinOnDisk = try? tree.text("\(onDisk)/lib/modules/\(version)/modules.builtin", limit: Initramfs.indexLimit).get()
        let diskIndex = ModuleIndex(modulesDep: nil, modulesBuiltin: builtinOnDisk)
        let needs = chain?.needs ?? []
        guard !next.initrds.isEmpty else {
            let missing = needs.filter { !diskIndex.builtin.contains($0.module) }
            if missing.isEmpty && chain != nil {
                return (nil, [Finding(severity: .ok, check: "initramfs", message: "none, and everything root needs is built into \(version)")])
            }
            return (nil, [Finding(severity: chain == nil ? .unknown : .error, check: "initramfs",
                                  message: "no initramfs for \(version)" + (missing.isEmpty ? "" : ", and \(names(missing)) not built in"),
                                  hint: "build one with your distribution's tool (update-initramfs -c -k \(version), dracut --kver \(version))")])
        }
        var findings: [Finding] = []
        var images: [InitramfsContents] = []
        if next.initrds.count > budget.images {
            findings.append(Finding(severity: .unknown, check: "initramfs",
                                    message: "the entry names \(next.initrds.count) initramfs images: only the first \(budget.images) are read"))
        }
        for path in next.initrds.prefix(budget.images) {
            guard let st = tree.status(path) else {
                findings.append(Finding(severity: .error, check: "initramfs", message: "\(path) does not exist",
                                        hint: "rebuild it (update-initramfs -c -k \(version), or dracut --force --kver \(version))"))
                continue
            }
            guard st.st_size > 0 else {
                findings.append(Finding(severity: .error, check: "initramfs", message: "\(path) is empty", hint: rebuildHint(nil, version, path)))
                continue
            }
            do {
                let image = try Initramfs.read(path, tree: tree, version: version, budget: budget)
                if let failure = image.failure { findings.append(readFailure(failure, path: path, image: image, version: version)) }
                images.append(image)
            } catch {
                findings.append(Finding(severity: .unknown, check: "initramfs", message: "\(error)"))
            }
        }
        guard let main = images.last else { return (nil, findings) }
        let generator = images.lazy.compactMap(\.generator).first
        let moduleTree = images.reversed().lazy.compactMap { $0.tree(version) }.first
        let summary = PreflightReport.ImageSummary(path: main.path, bytes: main.bytes, compressions: main.compressions,
                                                   entries: main.entries, modules: moduleTree?.modules.count ?? 0,
                                                   microcode: images.contains { $0.microcode }, generator: generator)
        // What a damaged or unreadable image holds past the damage is unknown: its finding says it all.
        guard !images.contains(where: { $0.failure != nil }) else { return (summary, findings) }
        findings.append(Finding(severity: .ok, check: "initramfs",
                                message: "\(main.path): \(main.compressions.joined(separator: " + ")), \(main.entries) entries, "
                                    + "\(moduleTree?.modules.count ?? 0) modules of \(version)"
                                    + (summary.microcode ? ", early microcode in front" : "")
                                    + (generator.map { ", made by \($0.rawValue)" } ?? "")))
        let index = ModuleIndex(modulesDep: moduleTree?.modulesDep, modulesBuiltin: moduleTree?.modulesBuiltin ?? "")
        let builtin = index.builtin.union(diskIndex.builtin)
        let loadable = needs.filter { !builtin.contains($0.module) }
        let hint = rebuildHint(generator, version, main.path)
        if moduleTree == nil {
            let held = Array(Set(images.flatMap(\.otherVersions))).sorted()
            findings.append(Finding(severity: loadable.isEmpty ? .info : .error, check: "modules",
                                    message: "no modules of \(version) inside" + (held.isEmpty ? "" : " (it holds \(held.joined(separator: ", ")))"),
                                    hint: hint))
        } else if (moduleTree?.modulesDep ?? "").allSatisfy(\.isWhitespace) {
            findings.append(Finding(severity: loadable.isEmpty ? .warning : .error, check: "modules",
                                    message: "modules.dep of \(version) is \(moduleTree?.modulesDep == nil ? "missing" : "empty"): modprobe finds no module",
                                    hint: "check that depmod works (kmod), then " + hint))
        }
        for need in needs {
            findings.append(check(need, tree: moduleTree, index: index, builtin: builtin, version: version, image: main.path, hint: hint))
        }
        if let fewer = comparedWithRunning(nextImage: main.path, modules: moduleTree?.modules.count ?? 0, version: version,
                                           tree: tree, budget: budget) {
            findings.append(fewer)
        }
        return (summary, findings)
    }

    private func check(_ need: RootChain.Need, tree: InitramfsContents.ModuleTree?, index: ModuleIndex, builtin: Set<String>,
                       version: String, image: String, hint: String) -> Finding {
        if builtin.contains(need.module) {
            return Finding(severity: .ok, check: "root driver", message: "\(need.module) (\(need.why)): built into \(version)")
        }
        guard let tree, tree.modules.contains(need.module) else {
            return Finding(severity: need.builtInHere ? .warning : .error, check: "root driver",
                           message: "\(need.module) (\(need.why)) is neither in \(image) nor built into \(version)"
                               + (need.builtInHere ? " (it is built into the running kernel)" : ""),
                           hint: hint)
        }
        let missing = index.closure(of: need.module).filter { !tree.modules.contains($0) && !builtin.contains($0) }
        guard missing.isEmpty else {
            return Finding(severity: .error, check: "root driver",
                           message: "\(need.module) (\(need.why)) is inside, but not what it needs: \(missing.joined(separator: ", "))",
                           hint: hint)
        }
        return Finding(severity: .ok, check: "root driver", message: "\(need.module) (\(need.why)): in the initramfs")
    }

    /// A read that stopped midway: a damaged image is an error (the kernel
    /// cannot unpack it either); an unknown format or a bomb's size leaves it unknown.
    private func readFailure(_ failure: String, path: String, image: InitramfsContents, version: String) -> Finding {
        let lower = failure.lowercased()
        if lower.contains("unrecognized") || lower.contains("bomb") || lower.contains("not a") {
            return Finding(severity: .unknown, check: "initramfs", message: "\(path): cannot be read as an initramfs: \(failure)")
        }
        return Finding(severity: .error, check: "initramfs",
                       message: "\(path) is damaged after \(image.entries) entries (\(failure)): the kernel cannot unpack it either",
                       hint: rebuildHint(image.generator, version, path))
    }

    /// The running boot's own initramfs, when it is another file: far fewer
    /// modules in the next one is a warning.
    private func comparedWithRunning(nextImage: String, modules: Int, version: String, tree: TreeFiles,
                                     budget: PreflightBudget) -> Finding? {
        guard let running = runningRelease else { return nil }
        guard let current = ["\(onDisk)/boot/initrd.img-\(running)", "\(onDisk)/boot/initramfs-\(running).img"].first(where: tree.exists),
              tree.realPath(current) != tree.realPath(nextImage) else { return nil }
        let image: InitramfsContents
        do {
            image = try Initramfs.read(current, tree: tree, version: running, budget: budget)
        } catch {
            return Finding(severity: .info, check: "modules", message: "not compared with the running boot's \(current): \(error)")
        }
        if let failure = image.failure {
            return Finding(severity: .info, check: "modules", message: "not compared with the running boot's \(current): \(failure)")
        }
        let theirs = image.tree(running)?.modules.count ?? 0
        guard theirs >= 40, modules * 2 < theirs else { return nil }
        return Finding(severity: .warning, check: "modules",
                       message: "\(modules) modules of \(version) inside, against \(theirs) in the running boot's \(current): far fewer",
                       hint: "compare with lsinitramfs/lsinitrd; a broken depmod leaves images nearly empty")
    }

    func rebuildHint(_ generator: InitramfsGenerator?, _ version: String, _ image: String) -> String {
        if let generator { return "rebuild it: " + generator.rebuild(version: version, image: image) }
        return "rebuild it: update-initramfs -u -k \(version) (initramfs-tools) or dracut --force --kver \(version) (dracut)"
    }

    private func names(_ needs: [RootChain.Need]) -> String {
        needs.map(\.module).joined(separator: ", ")
    }
}
