import WitnessModel
import WitnessReport
import Glibc

/// Event → durable latencies, kept for the last 10,000 records.
struct DurableLatency {
    private var samples: [Int64] = []
    private var next = 0

    mutating func add(nanoseconds: Int64) {
        if samples.count < 10_000 { samples.append(nanoseconds) } else { samples[next] = nanoseconds }
        next = (next + 1) % 10_000
    }

    /// p50/p99/max in milliseconds, or nil before the first record.
    var summary: ArmState.Latency? {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        func ms(_ q: Double) -> Double {
            (Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]) / 1e4).rounded() / 100
        }
        return ArmState.Latency(records: sorted.count, p50Ms: ms(0.50), p99Ms: ms(0.99), maxMs: ms(1.0))
    }
}
