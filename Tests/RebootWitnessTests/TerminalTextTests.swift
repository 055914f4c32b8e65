import WitnessSystem
import XCTest

/// The one escaping function every human rendering, kernel-log line and
/// journal MESSAGE goes through.
final class TerminalTextTests: XCTestCase {
    func testEveryControlAndBidiOverrideBecomesAVisibleEscape() {
        XCTAssertEqual(TerminalText.escape("\u{1b}[31mX\rY\nZ"), "\\x1b[31mX\\rY\\nZ")
        XCTAssertEqual(TerminalText.escape("a\tb\u{0}c\u{7f}d"), "a\\tb\\x00c\\x7fd")
        // OSC 52 (write the clipboard), terminated by BEL.
        XCTAssertEqual(TerminalText.escape("\u{1b}]52;c;cm0gLXJmIH4=\u{7}"), "\\x1b]52;c;cm0gLXJmIH4=\\x07")
        // C1 controls: CSI as one code point, NEL.
        XCTAssertEqual(TerminalText.escape("\u{9b}2J\u{85}"), "\\u{9b}2J\\u{85}")
        // Bidi overrides and isolates (Trojan Source).
        for scalar in [0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069] {
            let text = "x" + String(UnicodeScalar(scalar)!) + "y"
            XCTAssertEqual(TerminalText.escape(text), "x\\u{\(String(scalar, radix: 16))}y")
        }
    }

    func testEveryScalarThatATerminalActsOnLeavesEscapeInert() {
        var all = ""
        for value in UInt32(0)...0x2100 { if let scalar = UnicodeScalar(value) { all.unicodeScalars.append(scalar) } }
        XCTAssertFalse(TerminalText.isInert(all))
        XCTAssertTrue(TerminalText.isInert(TerminalText.escape(all)))
        XCTAssertTrue(TerminalText.isInert("plain \\ text, Grüße, 日本語"))
    }

    func testABackslashIsEscapedSoThatEscapesAreNeverAmbiguous() {
        XCTAssertEqual(TerminalText.escape("\\x1b"), "\\\\x1b", "a literal backslash-x is not an ESC")
        XCTAssertNotEqual(TerminalText.escape("\\x1b"), TerminalText.escape("\u{1b}"))
    }

    func testOrdinaryTextAndOtherScriptsAreLeftAlone() {
        for text in ["systemd-shutdown reboot", "/usr/sbin/reboot", "Jürgen rebooted", "再起動", "svc@1.service", "ok ✓"] {
            XCTAssertEqual(TerminalText.escape(text), text)
            XCTAssertFalse(TerminalText.needsEscaping(text))
        }
        // Invalid UTF-8 arrives as U+FFFD (decoded with replacement): visible already.
        let decoded = String(decoding: [0x66, 0xff, 0x6f], as: UTF8.self)
        XCTAssertEqual(TerminalText.escape(decoded), "f\u{fffd}o")
    }

    func testLinesWeBuiltKeepTheirBreaksAndOnlyThose() {
        XCTAssertEqual(TerminalText.lines(["first", "by evil\nby systemd[1]"]), "first\nby evil\\nby systemd[1]")
    }
}
