import ArgumentParser
import Glibc

/// A runtime failure: one line on standard error, exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ error: Error) { description = "\(error)" }
    init(description: String) { self.description = description }
}

func printError(_ line: String) {
    fputs(line + "\n", stderr)
}

extension CommandFailure: LocalizedErrorLike {}
protocol LocalizedErrorLike {}
