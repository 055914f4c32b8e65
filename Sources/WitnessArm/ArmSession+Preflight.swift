import WitnessModel
import WitnessReport
import WitnessStore

/// arm's preflight results (see PreflightWatch): stored, published, described.
extension ArmSession {
    /// Preflight results as they come (stored, published); the boot files looked at every 5 s.
    func storePreflights(now: Int64) throws {
        guard let preflight else { return }
        if now - bootFilesCheckedAt >= 5_000_000_000 {
            bootFilesCheckedAt = now
            preflight.checkBootFiles()
        }
        let results = preflight.collect()
        guard !results.isEmpty else { return }
        let records = results.map { PreflightWatch.record($0, bootID: resolver.bootID) }
        try sink.keep(records.map { .preflight($0) })
        records.forEach { sink.publish($0) }
        sink.flushOutput()
        try publishState(running: true)
    }

    /// What status says of preflight.
    var preflightDescription: String {
        guard let preflight else { return "off (--no-preflight)" }
        var text = preflight.latest.map { "last: \($0.report.headline)" } ?? "not run yet"
        if preflight.block { text += "; " + (preflight.inhibitorNote ?? "--block-bad-reboot: no inhibitor needed so far") }
        return text
    }
}
