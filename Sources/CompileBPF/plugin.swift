import Foundation
import PackagePlugin

/// Compiles every `bpf/*.bpf.c` with the toolchain's clang (it has the BPF
/// target), strips DWARF (BTF stays) and embeds the objects as generated Swift
/// source, so `swift build` alone yields a self-contained binary.
///
/// One command does all three: SwiftPM bundles every non-Swift output of a
/// build command as a resource, and a resource bundle would drag Foundation
/// (and its ICU data) into the controller.
@main
struct CompileBPF: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let bpfDirectory = context.package.directoryURL.appending(path: "bpf")
        let entries = try FileManager.default.contentsOfDirectory(atPath: bpfDirectory.path).sorted()
        let sources = entries.filter { $0.hasSuffix(".bpf.c") }.map { bpfDirectory.appending(path: $0) }
        let headers = entries.filter { $0.hasSuffix(".h") }.map { bpfDirectory.appending(path: $0) }
        let generated = context.pluginWorkDirectoryURL.appending(path: "EmbeddedBPFObjects.swift")
        return [.buildCommand(
            displayName: "Compiling and embedding BPF objects",
            executable: try context.tool(named: "BPFEmbed").url,
            arguments: [
                "--clang", try context.tool(named: "clang").url.path,
                "--objcopy", try context.tool(named: "llvm-objcopy").url.path,
                "--include", bpfDirectory.path,
                "--work", context.pluginWorkDirectoryURL.path,
                "--output", generated.path,
            ] + sources.map(\.path),
            inputFiles: sources + headers,
            outputFiles: [generated]
        )]
    }
}
