// The fuzz targets of our own parsers (FuzzTarget), one binary.
//
// Built normally, this is a corpus replayer: `witness-fuzz TARGET FILE...`,
// run by the tests over Tests/Corpus/TARGET. Built by scripts/fuzz with
// `-sanitize=fuzzer -D LIBFUZZER`, libFuzzer drives the target named by
// RW_FUZZ_TARGET through the same function.
import Glibc

func targetNamed(_ name: String?) -> FuzzTarget {
    guard let name, let target = FuzzTarget(rawValue: name) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        fputs("witness-fuzz: name a target (\(names))\n", stderr)
        exit(2)
    }
    return target
}

#if LIBFUZZER
let fuzzed = targetNamed(getenv("RW_FUZZ_TARGET").map { String(cString: $0) })

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size <= fuzzed.maximumLength else { return -1 }
    fuzzed.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

// libFuzzer's entry for programs that own main (SwiftPM's executables do).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOneInput(data, size) })
#else
let arguments = CommandLine.arguments.dropFirst()
let target = targetNamed(arguments.first)
for path in arguments.dropFirst() {
    guard let file = fopen(path, "rb") else {
        fputs("witness-fuzz: cannot open \(path)\n", stderr)
        exit(2)
    }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while bytes.count <= target.maximumLength {
        let n = fread(&chunk, 1, chunk.count, file)
        if n <= 0 { break }
        bytes += chunk[0..<n]
    }
    fclose(file)
    guard bytes.count <= target.maximumLength else {
        fputs("witness-fuzz: \(path) is longer than \(target.rawValue)'s \(target.maximumLength) bytes\n", stderr)
        exit(2)
    }
    target.run(bytes)
}
print("witness-fuzz \(target.rawValue): replayed \(arguments.count - 1) input(s), \(understood) value(s) understood")
#endif
