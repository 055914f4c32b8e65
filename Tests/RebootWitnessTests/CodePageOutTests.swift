import CWitness
import XCTest

/// Once armed, arm drops the pages only its start used (cw_page_out_code):
/// every read-only segment of the executable and of its libraries leaves
/// its page tables. What it must never drop is a page that holds this
/// process's own data (relocated pointers, RELRO, written globals): those
/// are private copies the file cannot give back.
final class CodePageOutTests: XCTestCase {
    /// Written after start: a private page of this process's data.
    static var written = [UInt64](repeating: 0, count: 4096)

    func testReleasingCodeDropsItsPagesButNoPrivatePageAndTheProcessRunsOn() throws {
        for index in Self.written.indices { Self.written[index] = UInt64(index) &* 0x9E37_79B9 }
        // A private copy of a code page, as a debugger's breakpoint or a uprobe makes one:
        // libc's strerror page, written with the byte it already holds.
        let code = try XCTUnwrap(dlsym(nil, "strerror"))  // RTLD_DEFAULT: the first object that has it
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let page = UnsafeMutableRawPointer(bitPattern: Int(bitPattern: code) & ~(pageSize - 1))!
        XCTAssertEqual(mprotect(page, pageSize, PROT_READ | PROT_WRITE | PROT_EXEC), 0)
        page.storeBytes(of: page.load(as: UInt8.self), as: UInt8.self)
        XCTAssertEqual(mprotect(page, pageSize, PROT_READ | PROT_EXEC), 0)
        let before = try Mappings.read()
        XCTAssertGreaterThan(before.privateCopies.values.reduce(0, +), 0)

        let released = cw_page_out_code()

        let after = try Mappings.read()
        XCTAssertGreaterThan(released, 0, "no read-only segment was released")
        XCTAssertLessThan(after.residentCode, before.residentCode / 2,
                          "code resident before \(before.residentCode) KiB, after \(after.residentCode) KiB")
        // Private copies of file pages (relocations, RELRO, written data) are all still there.
        for (mapping, anonymous) in before.privateCopies {
            XCTAssertGreaterThanOrEqual(after.privateCopies[mapping] ?? 0, anonymous, "private pages of \(mapping) were dropped")
        }
        // And the process runs on: its data intact, libc callable through the relocated GOT.
        XCTAssertTrue(Self.written.indices.allSatisfy { Self.written[$0] == UInt64($0) &* 0x9E37_79B9 })
        XCTAssertEqual(String(cString: strerror(ENOENT)), "No such file or directory")
    }

    /// /proc/self/smaps, summed per mapping of a file.
    private struct Mappings {
        /// Resident KiB of file mappings that are executable.
        var residentCode = 0
        /// KiB of private (anonymous) pages inside each file mapping, by "start path".
        var privateCopies: [String: Int] = [:]

        static func read() throws -> Mappings {
            // Read to the end (a /proc file's size says 0: a read by size stops short).
            let handle = try XCTUnwrap(FileHandle(forReadingAtPath: "/proc/self/smaps"))
            defer { try? handle.close() }
            let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
            var result = Mappings()
            var mapping: (name: String, executable: Bool)?
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                guard let first = fields.first else { continue }
                if first.contains("-"), !first.hasSuffix(":"), fields.count >= 5 {
                    let path = fields.count >= 6 ? String(fields[5]) : ""
                    mapping = path.hasPrefix("/") ? (String(first.split(separator: "-")[0]) + " " + path, fields[1].contains("x")) : nil
                } else if let current = mapping, fields.count >= 2, let kib = Int(fields[1]) {
                    if first == "Rss:", current.executable { result.residentCode += kib }
                    if first == "Anonymous:" { result.privateCopies[current.name, default: 0] += kib }
                }
            }
            return result
        }
    }
}
