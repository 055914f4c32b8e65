import WitnessModel

/// What a cgroup path says about containers and Kubernetes.
public struct CgroupAttribution: Equatable, Sendable {
    public var container: ContainerID?
    public var podUID: String?

    /// Parses v1 or v2 cgroup paths as written by docker, containerd (CRI),
    /// CRI-O, podman, systemd-machined (nspawn, libvirt), LXC and the kubelet
    /// with either cgroup driver. The leaf-most match wins.
    public init(cgroupPath: String) {
        let components = cgroupPath.split(separator: "/").map(String.init)
        container = nil
        podUID = nil
        for (index, component) in components.enumerated().reversed() {
            if container == nil {
                let parent = index > 0 ? components[index - 1] : nil
                container = Self.container(component: component, parent: parent)
            }
            if podUID == nil {
                podUID = Self.podUID(component: component, parent: index > 0 ? components[index - 1] : nil)
            }
        }
        // cgroupfs driver: /kubepods/<qos>/pod<uid>/<64hex>, runtime unnamed.
        if container == nil, podUID != nil, let leaf = components.last, Self.isContainerHex(leaf) {
            container = ContainerID(runtime: "kubernetes", id: leaf)
        }
    }

    static func container(component: String, parent: String?) -> ContainerID? {
        let scoped: [(prefix: String, runtime: String, role: String?)] = [
            ("docker-", "docker", nil),
            ("cri-containerd-", "containerd", nil),
            ("crio-conmon-", "cri-o", "conmon"),
            ("crio-", "cri-o", nil),
            ("libpod-conmon-", "podman", "conmon"),
            ("libpod-", "podman", nil),
        ]
        for entry in scoped {
            if let id = strip(component, prefix: entry.prefix, suffix: ".scope"), isContainerHex(id) {
                return ContainerID(runtime: entry.runtime, id: id, role: entry.role)
            }
        }
        if let name = strip(component, prefix: "machine-", suffix: ".scope"), parent == "machine.slice" {
            return ContainerID(runtime: "systemd-nspawn", id: unescapeSystemdUnit(name))
        }
        if component.hasPrefix("lxc.payload."), component.count > "lxc.payload.".count {
            return ContainerID(runtime: "lxc", id: String(component.dropFirst("lxc.payload.".count)))
        }
        if parent == "lxc", !component.hasPrefix("lxc.") {
            return ContainerID(runtime: "lxc", id: component)
        }
        if parent == "docker", isContainerHex(component) {
            return ContainerID(runtime: "docker", id: component)
        }
        return nil
    }

    static func podUID(component: String, parent: String?) -> String? {
        // systemd driver: kubepods-pod<uid>.slice, kubepods-<qos>-pod<uid>.slice, "_" for "-".
        if component.hasPrefix("kubepods"), let slice = strip(component, prefix: "", suffix: ".slice"),
           let marker = slice.split(separator: "-").last, marker.hasPrefix("pod") {
            return normalizeUID(String(marker.dropFirst(3).map { $0 == "_" ? "-" : $0 }))
        }
        // cgroupfs driver: /kubepods/[qos/]pod<uid>
        if component.hasPrefix("pod"), let parent, parent == "kubepods" || ["burstable", "besteffort", "guaranteed"].contains(parent) {
            return normalizeUID(String(component.dropFirst(3)))
        }
        return nil
    }

    static func normalizeUID(_ text: String) -> String? {
        let hex = text.filter { $0 != "-" }
        return hex.count == 32 && hex.allSatisfy(\.isHexDigit) ? text.lowercased() : nil
    }

    static func isContainerHex(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    static func strip(_ text: String, prefix: String, suffix: String) -> String? {
        guard text.hasPrefix(prefix), text.hasSuffix(suffix), text.count > prefix.count + suffix.count else {
            return nil
        }
        return String(text.dropFirst(prefix.count).dropLast(suffix.count))
    }

    /// systemd unit name escaping: "\x2d" is "-".
    static func unescapeSystemdUnit(_ name: String) -> String {
        var bytes: [UInt8] = []
        let input = Array(name.utf8)
        var i = 0
        while i < input.count {
            if input[i] == UInt8(ascii: "\\"), i + 3 < input.count, input[i + 1] == UInt8(ascii: "x"),
               let value = UInt8(String(decoding: input[(i + 2)...(i + 3)], as: UTF8.self), radix: 16) {
                bytes.append(value)
                i += 4
            } else {
                bytes.append(input[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
