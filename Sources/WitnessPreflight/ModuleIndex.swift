/// A kernel's module index, from kmod's text files: modules.dep ("path:
/// dependency paths") and modules.builtin (one path per line). Read from
/// inside an initramfs (libkmod reads only files on disk) or from
/// /lib/modules on disk.
public struct ModuleIndex: Sendable, Equatable {
    /// Normalized module name → the modules it needs.
    public var dependencies: [String: [String]] = [:]
    /// Normalized names of the modules built into the kernel.
    public var builtin: Set<String> = []

    public init(modulesDep: String?, modulesBuiltin: String?) {
        for line in (modulesDep ?? "").split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":"), let name = Initramfs.moduleName(String(line[..<colon])) else { continue }
            dependencies[name] = line[line.index(after: colon)...].split(separator: " ").compactMap { Initramfs.moduleName(String($0)) }
        }
        for line in (modulesBuiltin ?? "").split(separator: "\n") {
            if let name = Initramfs.moduleName(String(line)) { builtin.insert(name) }
        }
    }

    /// Every module `name` needs, transitively (itself excluded): each
    /// module's list is walked once, so the cost is that of modules.dep itself.
    public func closure(of name: String) -> [String] {
        var seen: Set<String> = [name], order: [String] = []
        var queue = dependencies[name] ?? [], head = 0
        while head < queue.count {
            let next = queue[head]
            head += 1
            guard seen.insert(next).inserted else { continue }
            order.append(next)
            queue += dependencies[next] ?? []
        }
        return order
    }
}
