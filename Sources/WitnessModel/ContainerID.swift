/// The container a cgroup path belongs to, as its runtime names it.
public struct ContainerID: Codable, Equatable, Hashable, Sendable {
    /// "docker", "containerd", "cri-o", "podman", "systemd-nspawn" (any
    /// machined guest), "lxc", or "kubernetes" when only the kubelet's
    /// cgroupfs layout tells us (the runtime is not in the path).
    public var runtime: String
    /// Container id (64 hex digits) or, for nspawn/LXC, the machine name.
    public var id: String
    /// "conmon" when the cgroup is the runtime's monitor, not the payload.
    public var role: String?

    public init(runtime: String, id: String, role: String? = nil) {
        self.runtime = runtime
        self.id = id
        self.role = role
    }
}
