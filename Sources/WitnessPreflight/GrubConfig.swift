import WitnessSystem

/// GRUB's environment block (`grubenv`): exactly 1024 bytes, a signature
/// line, `name=value` lines (backslash escapes), `#` padding.
public struct GrubEnvironment: Sendable, Equatable {
    public static let size = 1024
    static let signature = "# GRUB Environment Block\n"
    public var values: [String: String] = [:]

    public init(values: [String: String] = [:]) { self.values = values }

    public static func parse(_ bytes: [UInt8]) -> Result<GrubEnvironment, PreflightError> {
        guard bytes.count == size else {
            return .failure(PreflightError("grubenv is \(bytes.count) bytes, not \(size): GRUB does not read it"))
        }
        guard bytes.starts(with: Array(signature.utf8)) else {
            return .failure(PreflightError("grubenv lacks GRUB's signature line"))
        }
        var env = GrubEnvironment()
        var line: [UInt8] = [], escaped = false
        for byte in bytes.dropFirst(signature.utf8.count) {
            if line.isEmpty && !escaped && byte == UInt8(ascii: "#") { break }  // the padding

            if escaped { line.append(byte == UInt8(ascii: "n") ? 10 : byte); escaped = false; continue }
            if byte == UInt8(ascii: "\\") { escaped = true; continue }
            if byte == 10 {
                if let eq = line.firstIndex(of: UInt8(ascii: "=")) {
                    env.values[String(decoding: line[..<eq], as: UTF8.self)] = String(decoding: line[(eq + 1)...], as: UTF8.self)
                }
                line = []
                continue
            }
            line.append(byte)
        }
        return .success(env)
    }
}

/// A GRUB menu as grub.cfg defines it: entries and submenus, each with its
/// title, id, kernel and initrds, and the `set default=` values at the top.
public struct GrubMenu: Sendable, Equatable {
    public struct Item: Sendable, Equatable {
        public var title: String
        public var id: String?
        public var kernel: String?
        public var kernelArguments: String?
        public var initrds: [String] = []
        /// A submenu's entries (empty for an entry).
        public var children: [Item] = []
        public var isSubmenu = false
    }

    public var items: [Item] = []
    /// `set default="…"` values outside any entry, in order.
    public var defaults: [String] = []
    /// The menu includes the Boot Loader Specification entries (blscfg, RHEL and Fedora).
    public var usesBLS = false

    /// Submenus nest at most this deep (GRUB menus go two or three levels):
    /// deeper ones are left out, so a hostile grub.cfg cannot make a tree
    /// deep enough to overflow the stack when it is freed or compared.
    public static let maxDepth = 16

    public static func parse(_ text: String) -> GrubMenu {
        var menu = GrubMenu()
        var stack: [Item] = []
        var ignoredDepth = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = raw.trimming([" ", "\t"])
            if line.hasPrefix("#") { continue }
            let words = shellWords(line)
            guard let first = words.first else { continue }
            if first == "menuentry" || first == "submenu" {
                if stack.count >= maxDepth || ignoredDepth > 0 {
                    ignoredDepth += 1
                    continue
                }
                var item = Item(title: words.dropFirst().first ?? "", isSubmenu: first == "submenu")
                if let idFlag = words.firstIndex(where: { $0 == "$menuentry_id_option" || $0 == "--id" }), idFlag + 1 < words.count {
                    item.id = words[idFlag + 1]
                }
                stack.append(item)
                continue
            }
            if first == "}" {
                if ignoredDepth > 0 {
                    ignoredDepth -= 1
                    continue
                }
                guard let done = stack.popLast() else { continue }
                if stack.isEmpty { menu.items.append(done) } else { stack[stack.count - 1].children.append(done) }
                continue
            }
            if ignoredDepth > 0 { continue }
            if stack.isEmpty {
                if first == "set", words.count >= 2, words[1].hasPrefix("default=") {
                    menu.defaults.append(String(words[1].dropFirst("default=".count)))
                }
                if first == "blscfg" { menu.usesBLS = true }
                continue
            }
            if ["linux", "linux16", "linuxefi"].contains(first), words.count >= 2 {
                stack[stack.count - 1].kernel = words[1]
                stack[stack.count - 1].kernelArguments = words.dropFirst(2).joined(separator: " ")
            } else if ["initrd", "initrd16", "initrdefi"].contains(first) {
                stack[stack.count - 1].initrds = Array(words.dropFirst())
            }
        }
        return menu
    }

    /// Words of a GRUB script line: quotes removed, `{` dropped.
    static func shellWords(_ line: Substring) -> [String] {
        var words: [String] = [], current = "", quote: Character?, inWord = false
        for c in line {
            if let q = quote {
                if c == q { quote = nil } else { current.append(c) }
                continue
            }
            if c == "'" || c == "\"" { quote = c; inWord = true; continue }
            if c == " " || c == "\t" {
                if inWord { words.append(current); current = ""; inWord = false }
                continue
            }
            current.append(c)
            inWord = true
        }
        if inWord { words.append(current) }
        return words.filter { $0 != "{" }
    }

    /// The entry a default specification names: "2", "1>0", an id, a title,
    /// or a path of them separated by ">". A submenu alone means its first entry.
    public func entry(for spec: String) -> Item? {
        var level = items
        var found: Item?
        for part in spec.split(separator: ">", omittingEmptySubsequences: false).map(String.init) {
            let match = Int(part).flatMap { $0 < level.count && $0 >= 0 ? level[$0] : nil }
                ?? level.first { $0.id == part || $0.title == part }
            guard let item = match else { return nil }
            found = item
            level = item.children
        }
        while let submenu = found, submenu.isSubmenu { found = submenu.children.first }
        return found
    }
}
