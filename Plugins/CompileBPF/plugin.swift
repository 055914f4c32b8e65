import Foundation
import PackagePlugin

/// Compiles every `bpf/*.bpf.c` with the toolchain's clang (it has the BPF
/// target), strips DWARF (BTF stays) and embeds the objects as generated Swift
/// source, so `swift build` alone yields a self-contained binary.
@main
struct CompileBPF: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let bpfDirectory = context.package.directoryURL.appending(path: "bpf")
        let entries = try FileManager.default.contentsOfDirectory(atPath: bpfDirectory.path)
        let sources = entries.filter { $0.hasSuffix(".bpf.c") }.sorted()
        let headers = entries.filter { $0.hasSuffix(".h") }.map { bpfDirectory.appending(path: $0) }
        let clang = try context.tool(named: "clang").url
        let objcopy = try context.tool(named: "llvm-objcopy").url
        let embed = try context.tool(named: "BPFEmbed").url
        let work = context.pluginWorkDirectoryURL

        var commands: [Command] = []
        var stripped: [URL] = []
        for source in sources {
            let name = String(source.dropLast(".bpf.c".count))
            let input = bpfDirectory.appending(path: source)
            let object = work.appending(path: "\(name).debug.o")
            let output = work.appending(path: "\(name).bpf.o")
            commands.append(.buildCommand(
                displayName: "Compiling BPF \(source)",
                executable: clang,
                arguments: [
                    "-g", "-O2", "-target", "bpf", "-D__TARGET_ARCH_x86",
                    "-Wall", "-Wno-unknown-warning-option", "-Wno-default-const-init-var-unsafe",
                    "-I", bpfDirectory.path, "-c", input.path, "-o", object.path,
                ],
                inputFiles: [input] + headers,
                outputFiles: [object]
            ))
            commands.append(.buildCommand(
                displayName: "Stripping DWARF from \(name).bpf.o",
                executable: objcopy,
                arguments: ["--strip-debug", object.path, output.path],
                inputFiles: [object],
                outputFiles: [output]
            ))
            stripped.append(output)
        }
        let generated = work.appending(path: "EmbeddedBPFObjects.swift")
        commands.append(.buildCommand(
            displayName: "Embedding BPF objects",
            executable: embed,
            arguments: [generated.path] + stripped.map(\.path),
            inputFiles: stripped,
            outputFiles: [generated]
        ))
        return commands
    }
}
