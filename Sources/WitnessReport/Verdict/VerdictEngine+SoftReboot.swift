import WitnessModel

extension VerdictEngine {
    /// How one userspace session of a boot ended: by its soft reboot, who
    /// asked for it where a request was recorded, as sure as what the store
    /// and the journal hold. `armed`: when the witness was first armed in the boot.
    public static func softReboot(_ soft: SoftReboot, bootID: String, armed: String?) -> Verdict {
        let name = "soft reboot \(soft.number)"
        var evidence: [Evidence] = []
        if let logged = soft.journal {
            evidence.append(Evidence(source: .journal, time: logged.line.time, excerpt: logged.line.quoted + " (PID 1)"))
        }
        guard let reexec = soft.reexec else {
            if soft.journal != nil {
                return Verdict(reason: .softReboot, subreason: .graceful,
                               summary: "\(name), as PID 1 logged it; who asked is not in the journal", confidence: .medium,
                               bootID: bootID, evidence: evidence)
            }
            evidence.append(Evidence(source: .witness, time: armed,
                                     excerpt: "start marker: SoftRebootsCount \(soft.number) or more (PID 1's answer)"))
            return Verdict(reason: .softReboot, subreason: .graceful,
                           summary: "\(name): systemd's SoftRebootsCount had passed it" + (armed.map { " when the witness was armed at \($0)" } ?? "")
                               + "; nothing of it was recorded",
                           confidence: .medium, bootID: bootID, evidence: evidence)
        }
        evidence.insert(Evidence(source: .witness, time: reexec.time, excerpt: "PID 1 re-executed itself: " + RecordFormatter.oneLine(reexec)), at: 0)
        guard let intent = soft.intent else {
            return Verdict(reason: .softReboot, subreason: .graceful,
                           summary: "\(name) by PID 1; no request recorded (made by D-Bus while the witness's bus monitor was down, or unseen)",
                           confidence: .medium, bootID: bootID, evidence: evidence)
        }
        evidence.insert(Evidence(source: .witness, time: intent.time, excerpt: "intent: " + RecordFormatter.oneLine(intent)), at: 0)
        let (subreason, detail) = classify(intent, powerKey: false)
        var verdict = Verdict(reason: .softReboot, subreason: subreason, summary: "\(subreason.words) \(name) by " + who(intent),
                              confidence: .high, bootID: bootID, initiator: CallerRecord.Initiator(intent),
                              evidence: evidence, detail: detail)
        verdict.lastSeen = reexec.time
        return verdict
    }
}
