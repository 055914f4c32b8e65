import Foundation
import Glibc
@testable import WitnessEvidence
import XCTest

/// wtmp is evidence only when only root (and utmp's setgid tools) could
/// have written it; a FIFO is refused without blocking.
final class WtmpTrustTests: XCTestCase {
    /// A wtmp as systemd-update-utmp and init write it: a boot, a runlevel, a
    /// shutdown, each one struct utmpx appended (what updwtmpx does).
    func wtmp(_ name: String) throws -> String {
        let path = try temporaryDirectory(name).appendingPathComponent("wtmp").path
        var file = Data()
        func entry(_ type: Int32, _ user: String, _ line: String, _ seconds: Int) {
            var record = utmpx()
            record.ut_type = Int16(type)
            withUnsafeMutableBytes(of: &record.ut_user) { field in field.copyBytes(from: user.utf8) }
            withUnsafeMutableBytes(of: &record.ut_line) { field in field.copyBytes(from: line.utf8) }
            record.ut_tv.tv_sec = Int32(1_767_225_600 + seconds)
            file += withUnsafeBytes(of: &record) { Data($0) }
        }
        entry(BOOT_TIME, "reboot", "~", 0)
        entry(RUN_LVL, "runlevel", "~", 5)
        entry(RUN_LVL, "shutdown", "~~", 300)
        FileManager.default.createFile(atPath: path, contents: file, attributes: [.posixPermissions: 0o664])
        return path
    }

    func testARootOwnedWtmpIsRead() throws {
        let entries = try Wtmp.read(path: wtmp("wtmp-root")).get()
        XCTAssertEqual(entries.map(\.kind), [.boot, .runlevel, .shutdown])
    }

    func testAWtmpAUserOwnsOrAnyoneCanWriteIsNoEvidence() throws {
        let path = try wtmp("wtmp-user")
        chown(path, 1000, 1000)
        guard case .failure(let owned) = Wtmp.read(path: path) else { return XCTFail("a user's wtmp was read") }
        XCTAssertTrue("\(owned)".contains("not trusted: owned by uid 1000, not root"), "\(owned)")
        chown(path, 0, 0)
        chmod(path, 0o666)
        guard case .failure(let open) = Wtmp.read(path: path) else { return XCTFail("a world-writable wtmp was read") }
        XCTAssertTrue("\(open)".contains("not trusted: writable by anyone (mode 666)"), "\(open)")
    }

    func testAFIFOIsRefusedWithoutBlocking() throws {
        let path = try temporaryDirectory("wtmp-fifo").appendingPathComponent("wtmp").path
        XCTAssertEqual(mkfifo(path, 0o600), 0)
        guard case .failure(let error) = Wtmp.read(path: path) else { return XCTFail("a FIFO was read") }
        XCTAssertTrue("\(error)".contains("not a regular file"), "\(error)")
    }
}
