import WitnessModel
import WitnessReport
import WitnessStore

extension PstoreHarvest {
    /// pstore records not yet in `store`, tagged with the last boot the
    /// store saw before `bootID` (pstore itself does not say which boot).
    static func collect(for store: RecordStore, bootID: String) -> [StoreEntry] {
        let previous: String?
        do {
            previous = try store.latestBoot(other: bootID)
        } catch {
            StandardError.write("pstore: the store could not be read (\(error)); records harvested now are tagged with no boot\n")
            previous = nil
        }
        let (harvested, notes) = collect(previousBoot: previous)
        for note in notes { StandardError.write("pstore: \(note)\n") }
        return harvested
    }
}
