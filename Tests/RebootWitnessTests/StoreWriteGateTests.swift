import Dispatch
@testable import WitnessArm
import XCTest

/// The final stage closes the store for systemd-shutdown's read-only
/// remount: a subset being written from another thread must be finished by
/// then, and none may start after.
final class StoreWriteGateTests: XCTestCase {
    func testClosingWaitsForAWriteUnderWayAndRefusesTheNext() throws {
        let gate = StoreWriteGate()
        let started = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            _ = try? gate.write {
                started.signal()
                usleep(200_000)
                finished.signal()
            }
        }
        started.wait()
        gate.close()
        XCTAssertEqual(finished.wait(timeout: .now()), .success, "close() returned while a write was under way")
        var ran = false
        XCTAssertFalse(try gate.write { ran = true })
        XCTAssertFalse(ran)
    }
}
