import WitnessPreflight
import WitnessStore
import WitnessModel

/// Boot attempts between a boot and the next one that came up, which never
/// reached userspace (so no journal, no witness, no wtmp of theirs): only
/// what they left elsewhere speaks of them.
enum FailedAttempts {
    /// pstore records of a root that never mounted (they are not `boot`'s own
    /// end, which reached userspace), the next boot's boot loader notes, and
    /// preflight's warning when it still held when the next boot came up.
    static func gather(boot: WitnessBoot?, next: WitnessBoot?, pstore: [PstoreRecord]) -> [Evidence] {
        var found: [Evidence] = []
        for record in pstore {
            guard let line = BootAttempts.isRootMountFailure(record.excerpt) else { continue }
            found.append(Evidence(source: .pstore, time: record.time, excerpt: "an attempt did not mount root: \(record.header): \(line)"))
        }
        for note in next?.bootLoader ?? [] {
            found.append(Evidence(source: .bootLoader, time: next?.armed, excerpt: note))
        }
        // Before the reboot preflight said the next boot would fail, and when
        // the next boot came up it still said so of the same image: whatever
        // came up, it was not that image (or it was fixed from elsewhere).
        if let warned = boot?.preflight.last(where: \.failing),
           let recheck = next?.preflight.first(where: { $0.trigger == "arm started" }), recheck.failing,
           recheck.kernel == warned.kernel, recheck.initrds == warned.initrds {
            found.append(Evidence(source: .preflight, time: warned.time,
                                  excerpt: "the reboot went to \(warned.kernel ?? "?") with \(warned.initrds.joined(separator: ", ")), "
                                      + "which preflight flagged before (\(warned.problems.first ?? warned.outcome)) and still flagged "
                                      + "when the next boot came up: that image likely failed, and something else booted"))
        }
        return found
    }

    /// pstore records that belong to a failed attempt, not to the boot's own end.
    static func isAttempt(_ record: PstoreRecord) -> Bool {
        BootAttempts.isRootMountFailure(record.excerpt) != nil
    }
}
