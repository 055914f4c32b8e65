import WitnessModel

/// Which slot a new entry takes when the store is full, by `Retention`:
///
///  1. an empty slot (or an unreadable one);
///  2. the oldest noise;
///  3. noise goes no further: it is dropped rather than replace anything else;
///  4. a routine or stopping entry takes the oldest of its own class, unless
///     the other class holds more than its share (all but a quarter of the
///     slots), in which case that class's oldest gives way. Each of the two
///     keeps a quarter of the store however many of the other arrive.
///
/// Every lookup is amortised O(1): per-class queues in allocation order,
/// whose stale heads (slots since reused) are skipped lazily.
struct SlotVictims {
    let slotCount: Int
    /// Slots each of routine and stopping keeps from the other.
    let reserve: Int
    private var retentionOf: [Retention?]
    private var allocOf: [UInt64]
    private var counts: [Retention: Int] = [:]
    private var queues: [Retention: Queue] = [:]
    /// Never written, or unreadable: taken first.
    private var free: [Int]

    private struct Queue {
        var items: [(alloc: UInt64, slot: Int)] = []
        var head = 0

        mutating func append(_ item: (alloc: UInt64, slot: Int)) {
            if head > 1024 && head * 2 > items.count {  // compact now and then
                items.removeFirst(head)
                head = 0
            }
            items.append(item)
        }
    }

    init(slotCount: Int) {
        self.slotCount = slotCount
        reserve = max(1, slotCount / 4)
        retentionOf = Array(repeating: nil, count: slotCount)
        allocOf = Array(repeating: 0, count: slotCount)
        free = Array((0..<slotCount).reversed())
    }

    /// The slots a scanned store holds, in allocation order, and those it could not read.
    mutating func load(holders: [(slot: Int, alloc: UInt64, retention: Retention)], unreadable: [Int]) {
        for holder in holders where holder.slot < slotCount { hold(holder.slot, alloc: holder.alloc, holder.retention) }
        let held = Set(holders.map(\.slot))
        free = (0..<slotCount).reversed().filter { !held.contains($0) && !unreadable.contains($0) } + unreadable.reversed()
    }

    func count(_ retention: Retention) -> Int { counts[retention] ?? 0 }

    /// The slot an entry of `retention` takes (evict what is there first), or
    /// nil when it may take none. `sparing`: slots it must not take (its own).
    mutating func victim(for retention: Retention, sparing: [Int] = []) -> Int? {
        // A record's own slots are held, never free: `sparing` concerns the queues only.
        while let slot = free.last {
            if retentionOf[slot] == nil { return slot }
            free.removeLast()  // taken since
        }
        if let noise = oldest(.noise, sparing: sparing) { return noise }
        guard retention != .noise else { return nil }
        let other: Retention = retention == .stopping ? .routine : .stopping
        if count(other) > slotCount - reserve, let slot = oldest(other, sparing: sparing) { return slot }
        return oldest(retention, sparing: sparing) ?? oldest(other, sparing: sparing)
    }

    /// The oldest slot still holding `retention`, skipping stale queue entries.
    private mutating func oldest(_ retention: Retention, sparing: [Int]) -> Int? {
        guard var queue = queues[retention] else { return nil }
        defer { queues[retention] = queue }
        var index = queue.head
        while index < queue.items.count {
            let (alloc, slot) = queue.items[index]
            let current = retentionOf[slot] == retention && allocOf[slot] == alloc
            if !current && index == queue.head {
                queue.head += 1  // stale: the slot was taken since
            } else if current && !sparing.contains(slot) {
                return slot
            }
            index += 1
        }
        return nil
    }

    /// `slot` now holds an entry of `retention` written with `alloc`.
    mutating func hold(_ slot: Int, alloc: UInt64, _ retention: Retention) {
        release(slot)
        retentionOf[slot] = retention
        allocOf[slot] = alloc
        counts[retention, default: 0] += 1
        queues[retention, default: Queue()].append((alloc, slot))
    }

    /// `slot` is being overwritten or freed.
    mutating func release(_ slot: Int) {
        guard slot < slotCount, let retention = retentionOf[slot] else { return }
        counts[retention, default: 0] -= 1
        retentionOf[slot] = nil
    }

    /// `slot` holds nothing readable any more: taken first, as an unreadable one is.
    mutating func discard(_ slot: Int) {
        release(slot)
        free.append(slot)
    }

    /// `slot` is taken out of the ring for good (the final stage's reserved slots).
    mutating func reserve(_ slot: Int) {
        release(slot)
        retentionOf[slot] = .stopping
        allocOf[slot] = .max
        counts[.stopping, default: 0] += 1
    }
}
