import WitnessModel
import WitnessReport
import WitnessSystem

/// Where arming spends its time, phase by phase (CLOCK_BOOTTIME): published
/// in arm-state.json for `status` and the benchmarks, because the window
/// from start to armed is when a reboot goes unseen.
public struct ArmPhases {
    public struct Phase: Codable, Equatable {
        public var name: String
        public var milliseconds: Double

        enum CodingKeys: String, CodingKey { case name, milliseconds = "ms" }
    }

    private let start: Int64
    private var last: Int64
    private(set) var phases: [Phase] = []

    init() {
        start = SystemCalls.clocks().boottime
        last = start
    }

    /// Ends the phase called `name` now.
    mutating func end(_ name: String) {
        let now = SystemCalls.clocks().boottime
        phases.append(Phase(name: name, milliseconds: Self.rounded(now - last)))
        last = now
    }

    var totalMilliseconds: Double { Self.rounded(last - start) }

    private static func rounded(_ nanoseconds: Int64) -> Double {
        (Double(nanoseconds) / 1e5).rounded() / 10
    }
}
