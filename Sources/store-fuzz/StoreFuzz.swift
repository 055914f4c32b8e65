// Fuzz target for the store reader: any bytes as a store file must load
// without crashing (skipped slots are fine; a refusal is fine).
//
// Built normally, this is a corpus replayer (`store-fuzz FILE...`), run by
// the tests over Tests/Corpus/store. Built by scripts/fuzz-store with
// `-sanitize=fuzzer -D LIBFUZZER`, libFuzzer drives the same function.
import Glibc
import WitnessStore

let scratch: String = {
    var template = Array("/tmp/rw-store-fuzz-XXXXXX".utf8CString)
    guard let dir = mkdtemp(&template) else { fatalError("mkdtemp failed") }
    return String(cString: dir)
}()

func loadStore(_ bytes: UnsafeRawBufferPointer) -> Int {
    let path = scratch + "/" + SlotStore.fileName
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { return 0 }
    _ = write(fd, bytes.baseAddress, bytes.count)
    close(fd)
    guard let store = try? SlotStore(directory: scratch, create: false),
          let contents = try? store.load() else { return 0 }
    return contents.entries.count
}

#if LIBFUZZER
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    _ = loadStore(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

// libFuzzer's entry for programs that own main (SwiftPM's executables do).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

@main
struct FuzzDriver {
    static func main() {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOneInput(data, size) })
    }
}
#else
@main
struct CorpusReplay {
    static func main() {
        var loaded = 0
        for path in CommandLine.arguments.dropFirst() {
            guard let file = fopen(path, "rb") else {
                fputs("store-fuzz: cannot open \(path)\n", stderr)
                exit(2)
            }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = fread(&chunk, 1, chunk.count, file)
                if n <= 0 { break }
                bytes += chunk[0..<n]
            }
            fclose(file)
            loaded += bytes.withUnsafeBytes { loadStore($0) }
        }
        print("store-fuzz: replayed \(CommandLine.arguments.count - 1) input(s), \(loaded) entries decoded")
    }
}
#endif
