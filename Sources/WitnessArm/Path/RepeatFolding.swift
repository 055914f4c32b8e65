import WitnessReport
import WitnessSystem
import WitnessCapture
import WitnessStore
import WitnessModel

/// Folds the kernel's repeat counts into stored records. The ring buffer
/// carries a caller's first reboot(2) call; the kernel only counts the
/// repeats (rw_callers). Each fold stores the growth since the previous one,
/// which the store adds to the record's count, and is committed only once
/// that is durable, in the kernel too (rw_folded): no count is stored twice
/// or dropped, even across a restart of arm.
struct RepeatFolding {
    fileprivate struct FirstCall: Hashable {
        var tid: UInt32
        var bootNanoseconds: UInt64
    }

    /// A fold to store, then commit.
    struct Growth {
        fileprivate var key: FirstCall
        /// The kernel's caller, to record the fold there.
        var caller: CallerCount
        /// The caller's record carrying only the growth as its count.
        var record: CallerRecord
        /// The caller's count once this is stored.
        var count: UInt64 { caller.count }
    }

    private var counted: [FirstCall: (record: CallerRecord, count: UInt64)] = [:]

    /// A record the ring carried, the first call of a caller the kernel may
    /// count repeats of (reboot(2) entries only).
    mutating func register(_ captured: CapturedRecord, as record: CallerRecord) {
        guard record.probe.isRebootSyscallEntry else { return }
        counted[FirstCall(tid: captured.tid, bootNanoseconds: captured.bootNanoseconds)] = (record, 1)
    }

    /// An adopted capture: callers whose first record an earlier arm stored,
    /// found in the store by tid and boot time, resume from what it folded.
    mutating func resume(stored records: [CallerRecord], kernel: [CallerCount]) {
        var byFirstCall: [FirstCall: CallerRecord] = [:]
        for record in records {
            guard let bootNs = record.bootNs else { continue }
            byFirstCall[FirstCall(tid: record.tid, bootNanoseconds: bootNs)] = record
        }
        for caller in kernel {
            let key = FirstCall(tid: caller.firstTid, bootNanoseconds: caller.firstBootNanoseconds)
            guard counted[key] == nil, let record = byFirstCall[key] else { continue }
            counted[key] = (record, caller.folded ?? 1)
        }
    }

    /// What the kernel counted since the last commit. First calls the kernel
    /// does not count (its map was full, RESTART2, held) are forgotten here:
    /// the kernel inserts a caller before the ring carries it, so a
    /// registered first call absent from `kernel` never will be counted.
    mutating func growth(in kernel: [CallerCount]) -> [Growth] {
        var present: [FirstCall: (record: CallerRecord, count: UInt64)] = [:]
        var grown: [Growth] = []
        for entry in kernel {
            let key = FirstCall(tid: entry.firstTid, bootNanoseconds: entry.firstBootNanoseconds)
            guard let known = counted[key] else { continue }
            present[key] = known
            guard entry.count > known.count else { continue }
            var record = known.record
            record.count = entry.count - known.count
            record.lastTime = WallClock.iso8601(bootNanoseconds: entry.lastBootNanoseconds)
            grown.append(Growth(key: key, caller: entry, record: record))
        }
        counted = present
        return grown
    }

    /// The growths are durable: later folds count from there.
    mutating func commit(_ growths: [Growth]) {
        for growth in growths { counted[growth.key]?.count = growth.count }
    }
}

/// Folds the kernel's repeat counts into the store through the record path,
/// and resumes where an earlier arm stopped when it adopts its capture.
final class RepeatFolder {
    private var folding = RepeatFolding()
    /// The kernel's repeat counter at the last fold: the caller map is walked only when it moved.
    private var foldedRepeats: UInt64 = 0
    private let probes: WitnessProbes
    private let path: RecordPath

    init(probes: WitnessProbes, path: RecordPath) {
        self.probes = probes
        self.path = path
    }

    func register(_ captured: CapturedRecord, as record: CallerRecord) {
        folding.register(captured, as: record)
    }

    /// An adopted or upgraded capture (its maps kept): callers an earlier arm
    /// stored keep folding from where it stopped (rw_folded), found in the
    /// store by tid and boot time.
    func resume(bootID: String) {
        switch probes.lifecycle {
        case .adopted, .upgraded: break
        case .unpinned, .fresh, .replaced: return
        }
        do {
            let stored = try path.store.entries(ofBoot: bootID).compactMap { entry -> CallerRecord? in
                guard case .caller(let record) = entry, record.bootID == bootID else { return nil }
                return record
            }
            folding.resume(stored: stored, kernel: probes.callerCounts())
        } catch {
            StandardError.write("repeat counts: the store could not be read (\(error)); repeats an earlier arm "
                                + "left unfolded are not stored\n")
        }
        foldedRepeats = 0
    }

    /// Stores the repeats the kernel counted since the last fold (one
    /// fdatasync), then records the fold in the kernel (rw_folded). The loop
    /// wakes at least every 100 ms, which bounds the store's write rate
    /// during a storm.
    func fold() throws {
        let total = probes.counters.repeats
        guard total != foldedRepeats else { return }
        let growths = folding.growth(in: probes.callerCounts())
        try path.record(growths.map { .caller($0.record) }, as: .repeated(totals: growths.map(\.count)))
        folding.commit(growths)
        for growth in growths {
            do {
                try probes.recordFolded(growth.caller, total: growth.count)
            } catch {
                StandardError.write("repeat counts: \(error); a restarted arm may store these \(growth.count) again\n")
            }
        }
        foldedRepeats = total
    }
}
