/// Whether something this kernel or host may offer can be used, as a
/// feature probe answers it (cilium/ebpf's supported / unsupported /
/// inconclusive): `unknown` when it could not be asked (no privileges, a
/// probe that itself failed), never folded into `unavailable`.
public enum Availability: String, Codable, Sendable, Equatable {
    case available
    /// The kernel or host does not have it.
    case unavailable
    /// It should work here, but trying it failed.
    case failed
    /// Could not be probed.
    case unknown
}

/// One capability for machine-readable output: a state, how it is used,
/// why not; prose only in the human rendering (`line`).
public struct Capability: Codable, Equatable, Sendable {
    public var state: Availability
    /// Whether a running arm uses it now (nil where that does not apply).
    public var active: Bool?
    /// The mechanism, address or path it is used through.
    public var via: String?
    /// Why it is not available, or what limits it.
    public var reason: String?

    public init(_ state: Availability, active: Bool? = nil, via: String? = nil, reason: String? = nil) {
        self.state = state
        self.active = active
        self.via = via
        self.reason = reason
    }

    public static func available(via: String? = nil, active: Bool? = nil, _ reason: String? = nil) -> Capability {
        Capability(.available, active: active, via: via, reason: reason)
    }

    public static func unavailable(_ reason: String) -> Capability { Capability(.unavailable, active: false, reason: reason) }
    public static func failed(_ reason: String) -> Capability { Capability(.failed, active: false, reason: reason) }
    public static func unknown(_ reason: String) -> Capability { Capability(.unknown, reason: reason) }

    enum CodingKeys: String, CodingKey { case state, active, via, reason }

    /// Explicit so that absent values are written as null, never omitted.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(state, forKey: .state)
        try c.encode(active, forKey: .active)
        try c.encode(via, forKey: .via)
        try c.encode(reason, forKey: .reason)
    }

    /// "active via bpf-lsm", "available via fmod_ret (not armed)", "unavailable: no system bus".
    public var line: String {
        var text: String
        switch (state, active) {
        case (.available, true?): text = "active"
        case (.available, false?): text = "available, not in use"
        default: text = state.rawValue
        }
        if let via { text += " via \(via)" }
        if let reason { text += state == .available ? " (\(reason))" : ": \(reason)" }
        return text
    }
}
