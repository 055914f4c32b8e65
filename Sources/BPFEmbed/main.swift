// Build tool behind the CompileBPF plugin: compiles each BPF C source with
// clang -target bpf, strips DWARF with llvm-objcopy (BTF and .BTF.ext stay:
// CO-RE needs them), and writes a Swift source carrying each object as base64
// text keyed by name ("witness" for witness.bpf.c). A string literal compiles
// fast where a large array literal does not.
//
// It also opens each object with libbpf and writes the names it declares —
// objects, maps, programs and their ELF sections — as Swift constants, the
// way bpf2go and bpftool's skeletons do: a map or program renamed in bpf/
// fails the Swift build instead of a lookup at run time.
import CLibbpf
import Foundation

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("BPFEmbed: \(message)\n".utf8))
    exit(1)
}

var options: [String: String] = [:]
var sources: [String] = []
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    if argument.hasPrefix("--") {
        guard let value = arguments.popFirst() else { fail("\(argument) needs a value") }
        options[String(argument.dropFirst(2))] = value
    } else {
        sources.append(argument)
    }
}
guard let clang = options["clang"], let objcopy = options["objcopy"], let include = options["include"],
      let work = options["work"], let output = options["output"] else {
    fail("usage: BPFEmbed --clang P --objcopy P --include DIR --work DIR --output OUT.swift SRC.bpf.c...")
}

func execute(_ tool: String, _ arguments: [String]) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = arguments
    do { try process.run() } catch { fail("cannot run \(tool): \(error)") }
    process.waitUntilExit()
    if process.terminationStatus != 0 { fail("\(tool) \(arguments.joined(separator: " ")) failed") }
}

/// The maps (not libbpf's internal .rodata/.bss) and programs (name, ELF section) of one object.
func declaredNames(_ bytes: Data, _ name: String) -> (maps: [String], programs: [(String, String)]) {
    var options = bpf_object_open_opts()
    options.sz = MemoryLayout<bpf_object_open_opts>.size
    let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 8)
    defer { copy.deallocate() }
    copy.copyBytes(from: bytes)
    guard let object = bpf_object__open_mem(copy.baseAddress, copy.count, &options) else { fail("libbpf cannot open \(name)") }
    defer { bpf_object__close(object) }
    var maps: [String] = [], programs: [(String, String)] = []
    var map = bpf_object__next_map(object, nil)
    while let current = map {
        if !bpf_map__is_internal(current) { maps.append(String(cString: bpf_map__name(current))) }
        map = bpf_object__next_map(object, current)
    }
    var program = bpf_object__next_program(object, nil)
    while let current = program {
        programs.append((String(cString: bpf_program__name(current)), String(cString: bpf_program__section_name(current))))
        program = bpf_object__next_program(object, current)
    }
    return (maps, programs)
}

/// Every struct named rw_* in the object's BTF, as clang -target bpf laid it
/// out: (name, size, [(member, byte offset)]).
func compiledStructs(_ bytes: Data, _ name: String) -> [(String, Int, [(String, Int)])] {
    var options = bpf_object_open_opts()
    options.sz = MemoryLayout<bpf_object_open_opts>.size
    let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 8)
    defer { copy.deallocate() }
    copy.copyBytes(from: bytes)
    guard let object = bpf_object__open_mem(copy.baseAddress, copy.count, &options) else { fail("libbpf cannot open \(name)") }
    defer { bpf_object__close(object) }
    guard let btf = bpf_object__btf(object) else { fail("\(name) has no BTF") }
    var structs: [(String, Int, [(String, Int)])] = []
    for id in 1..<btf__type_cnt(btf) {
        guard let type = btf__type_by_id(btf, id), btf_kind(type) == UInt16(BTF_KIND_STRUCT) else { continue }
        let typeName = String(cString: btf__name_by_offset(btf, type.pointee.name_off))
        guard declaredInHeader.contains(typeName) else { continue }
        let members = btf_members(type)!
        let list = (0..<Int(btf_vlen(type))).map { index -> (String, Int) in
            let member = members[index]
            return (String(cString: btf__name_by_offset(btf, member.name_off)), Int(btf_member_bit_offset(type, UInt32(index))) / 8)
        }
        structs.append((typeName, Int(type.pointee.size), list))
    }
    return structs
}

/// "rw_hold_state" → "holdState", "fentry___x64_sys_reboot" → "fentry__X64SysReboot"
/// (a run of underscores keeps all but one of them, so that names stay distinct).
func identifier(_ name: String) -> String {
    var words = name.split(separator: "_", omittingEmptySubsequences: false).map(String.init)
    if words.first == "rw" { words.removeFirst() }
    guard let first = words.first else { return name }
    return first + words.dropFirst().map { $0.isEmpty ? "_" : $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
}

/// The structs bpf/witness.h declares (the record layout shared with Swift):
/// the BTF also holds kernel structs from vmlinux.h, which Swift never sees.
let declaredInHeader: Set<String> = {
    guard let text = try? String(contentsOfFile: include + "/witness.h", encoding: .utf8) else { fail("no witness.h in \(include)") }
    let pattern = try! NSRegularExpression(pattern: "^struct (rw_[a-z0-9_]+) \\{", options: .anchorsMatchLines)
    let range = NSRange(text.startIndex..., in: text)
    return Set(pattern.matches(in: text, range: range).compactMap { Range($0.range(at: 1), in: text).map { String(text[$0]) } })
}()

var objectNames: [String] = []
var allMaps = Set<String>()
var programTable: [String: [(String, String)]] = [:]
var structTable: [String: [(String, Int, [(String, Int)])]] = [:]

var source = """
// Generated by the CompileBPF plugin from bpf/*.bpf.c. Do not edit.
import CWitness

public enum EmbeddedBPFObjects {
    /// Base64 of each compiled object, by name.
    public static let base64: [String: String] = [

"""
// FNV-1a over every object, in order: names the build of the programs, so
// that a restarted arm knows whether the pinned programs are its own.
var digest: UInt64 = 0xcbf2_9ce4_8422_2325
for path in sources {
    let name = URL(fileURLWithPath: path).lastPathComponent.replacingOccurrences(of: ".bpf.c", with: "")
    let debugObject = "\(work)/\(name).debug.o"
    let object = "\(work)/\(name).bpf.o"
    // -mcpu=v2: an atomic add whose result is unused stays the XADD every kernel
    // takes; clang's default (v3) emits atomic_fetch_add, which 5.10 refuses
    // ("BPF_STX uses reserved fields": fetch atomics came in 5.12).
    execute(clang, ["-g", "-O2", "-target", "bpf", "-mcpu=v2", "-D__TARGET_ARCH_x86", "-Wall",
                    "-Wno-unknown-warning-option", "-Wno-default-const-init-var-unsafe",
                    "-I", include, "-c", path, "-o", debugObject])
    execute(objcopy, ["--strip-debug", debugObject, object])
    guard let bytes = FileManager.default.contents(atPath: object) else { fail("cannot read \(object)") }
    source += "        \"\(name)\": \"\(bytes.base64EncodedString())\",\n"
    for byte in Array(name.utf8) + [0] + bytes { digest = (digest ^ UInt64(byte)) &* 0x100_0000_01b3 }
    let declared = declaredNames(bytes, name)
    objectNames.append(name)
    allMaps.formUnion(declared.maps)
    programTable[name] = declared.programs
    structTable[name] = compiledStructs(bytes, name)
}
source += "    ]\n\n    /// FNV-1a of every object: the same value means the same programs.\n"
source += "    public static let digest = \"\(String(digest, radix: 16))\"\n}\n"

source += "\n/// The BPF objects built from bpf/<name>.bpf.c.\n"
source += "public struct BPFObjectName: RawRepresentable, Hashable, Sendable, CustomStringConvertible {\n"
source += "    public let rawValue: String\n    public init(rawValue: String) { self.rawValue = rawValue }\n"
source += "    public var description: String { rawValue }\n"
for name in objectNames { source += "    public static let \(identifier(name)) = BPFObjectName(rawValue: \"\(name)\")\n" }
source += "    public static let all: [BPFObjectName] = [\(objectNames.map { "." + identifier($0) }.joined(separator: ", "))]\n}\n"

source += "\n/// Every map the objects declare (maps of the same name are one map, shared).\n"
source += "public struct BPFMapName: RawRepresentable, Hashable, Sendable, CustomStringConvertible {\n"
source += "    public let rawValue: String\n    public init(rawValue: String) { self.rawValue = rawValue }\n"
source += "    public var description: String { rawValue }\n"
for map in allMaps.sorted() { source += "    public static let \(identifier(map)) = BPFMapName(rawValue: \"\(map)\")\n" }
source += "}\n"

source += "\n/// A program of an object and the ELF section that says where it attaches.\n"
source += "public struct BPFProgramName: RawRepresentable, Hashable, Sendable, CustomStringConvertible {\n"
source += "    public let rawValue: String\n    public init(rawValue: String) { self.rawValue = rawValue }\n"
source += "    public var description: String { rawValue }\n"
let programs = Set(programTable.values.flatMap { $0.map(\.0) }).sorted()
for program in programs { source += "    public static let \(identifier(program)) = BPFProgramName(rawValue: \"\(program)\")\n" }
source += "}\n"

source += "\npublic enum BPFPrograms {\n    /// Each object's programs with their sections, in the object's order.\n"
source += "    public static let sections: [BPFObjectName: [(program: BPFProgramName, section: String)]] = [\n"
for name in objectNames {
    let entries = programTable[name]!.map { "(.\(identifier($0.0)), \"\($0.1)\")" }.joined(separator: ",\n            ")
    source += "        .\(identifier(name)): [\n            \(entries),\n        ],\n"
}
source += "    ]\n}\n"
// The layouts of bpf/witness.h's structs twice: as the BPF compiler laid them
// out (BTF) and as the Swift importer lays out the same header (MemoryLayout).
// A member renamed in the header fails this file's compilation; a layout the
// two compilers disagree on fails RecordLayoutTests.
source += """

/// A C struct's size and member offsets.
public struct StructLayout: Equatable, Sendable {
    public let name: String
    public let size: Int
    public let members: [Member]

    public struct Member: Equatable, Sendable {
        public let name: String
        public let offset: Int?
    }
}

public enum BPFLayouts {
    /// Every rw_* struct in each object's BTF (clang -target bpf).
    public static let compiled: [BPFObjectName: [StructLayout]] = [

"""
var hostStructs: [String: (String, Int, [(String, Int)])] = [:]
for name in objectNames {
    source += "        .\(identifier(name)): [\n"
    for (type, size, members) in structTable[name]! {
        hostStructs[type] = (type, size, members)
        let list = members.map { "StructLayout.Member(name: \"\($0.0)\", offset: \($0.1))" }.joined(separator: ", ")
        source += "            StructLayout(name: \"\(type)\", size: \(size), members: [\(list)]),\n"
    }
    source += "        ],\n"
}
source += "    ]\n\n    /// The same structs as the host compiler lays out bpf/witness.h (the Swift import of CWitness).\n"
source += "    public static let host: [StructLayout] = [\n"
for type in hostStructs.keys.sorted() {
    let members = hostStructs[type]!.2.map {
        "StructLayout.Member(name: \"\($0.0)\", offset: MemoryLayout<\(type)>.offset(of: \\\(type).\($0.0)))"
    }.joined(separator: ",\n            ")
    source += "        StructLayout(name: \"\(type)\", size: MemoryLayout<\(type)>.size, members: [\n            \(members),\n        ]),\n"
}
source += "    ]\n}\n"

do {
    try Data(source.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
} catch {
    fail("cannot write \(output): \(error)")
}
