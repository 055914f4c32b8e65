import ArgumentParser
import Glibc
import WitnessSystem

/// A runtime failure: one line on standard error, exit status 1. What it
/// carries from outside (a path, a file's content) is escaped.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ error: Error) { description = TerminalText.escape("\(error)") }
    init(description: String) { self.description = TerminalText.escape(description) }
}

/// One line of human output on standard output, escaped (see TerminalText).
func emit(_ line: String) {
    print(TerminalText.escape(line))
}

func printError(_ line: String) {
    fputs(TerminalText.escape(line) + "\n", stderr)
}

extension CommandFailure: LocalizedErrorLike {}
protocol LocalizedErrorLike {}
