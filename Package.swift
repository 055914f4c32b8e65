// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "reboot-witness",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "reboot-witness", targets: ["reboot-witness"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
        // `arm --metrics-address`: the registry and its exposition format (swift-prometheus),
        // the HTTP listener (SwiftNIO's HTTP/1 codec: header limits, idle handlers, one event loop).
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // libbpf from Debian's libbpf-dev, found through pkg-config.
        .systemLibrary(
            name: "CLibbpf",
            pkgConfig: "libbpf",
            providers: [.apt(["libbpf-dev", "libelf-dev", "zlib1g-dev"])]
        ),
        // Slot checksums: CRC32C from Intel's ISA-L (hardware-accelerated);
        // zlib's CRC-32 only to read format-1 stores (zlib is linked by libbpf anyway).
        .systemLibrary(name: "CISAL", pkgConfig: "libisal", providers: [.apt(["libisal-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // The shared record header (bpf/witness.h) plus the few C calls Swift
        // cannot make (variadic syscall(2) and ioctl(2), signalfd, FIEMAP). No libbpf.
        .target(name: "CWitness"),
        // libbpf's va_list log callback and the loader's two raw libbpf calls: WitnessCapture only.
        .target(name: "CBPFShim", dependencies: ["CLibbpf"]),
        // The one dlopen loader of the three shims below.
        .target(name: "CDynamicLibrary"),
        // libsystemd, loaded with dlopen: sd-bus (a D-Bus monitor of logind/systemd reboot calls) and sd-journal (the evidence of earlier boots).
        .target(name: "CSystemd", dependencies: ["CDynamicLibrary"]),
        // libauparse (audit-userspace), loaded with dlopen: the audit log's events.
        .target(name: "CAudit", dependencies: ["CDynamicLibrary"]),
        // libarchive, loaded with dlopen: initramfs images read as streams (preflight).
        .target(name: "CArchive", dependencies: ["CISAL", "CDynamicLibrary"]),

        // Build tool: turns compiled BPF objects into Swift source (bytes, map and program names).
        .executableTarget(name: "BPFEmbed", dependencies: ["CLibbpf"]),
        .plugin(name: "CompileBPF", capability: .buildTool(), dependencies: ["BPFEmbed"], path: "Sources/CompileBPF"),
        .target(name: "BPFObjects", dependencies: ["CWitness"], plugins: ["CompileBPF"]),

        // System calls wrapped once, typed errors, clocks, files.
        .target(
            name: "WitnessSystem",
            dependencies: [.product(name: "SystemPackage", package: "swift-system"), "CWitness", "CZlib"]
        ),
        // The vocabulary and the records: probes, actions, caller records, store entries. No libbpf, no I/O.
        .target(name: "WitnessModel", dependencies: ["CWitness"]),
        // Who a caller is: containers and pods from cgroup paths, user names, ssh peers.
        .target(name: "WitnessAttribution", dependencies: ["WitnessModel", "WitnessSystem"]),
        // The crash-safe slot store.
        .target(name: "WitnessStore", dependencies: ["WitnessModel", "WitnessSystem", "CISAL", "CZlib", "BPFObjects", "CArchive"]),
        // The kernel side: libbpf loader, feature probes, pins, ring buffers.
        .target(
            name: "WitnessCapture",
            dependencies: ["CLibbpf", "CBPFShim", "CWitness", "BPFObjects", "WitnessModel", "WitnessSystem"]
        ),
        // What the host itself kept about earlier boots: journal, audit log, wtmp, watchdog boot status, kernel ring.
        .target(name: "WitnessEvidence", dependencies: ["WitnessModel", "WitnessSystem", "WitnessAttribution", "CWitness", "CSystemd", "CAudit"]),
        // Will the next boot come up? Next-boot resolution, initramfs contents, the root device's driver chain.
        .target(name: "WitnessPreflight", dependencies: ["WitnessSystem", "CArchive", .product(name: "SystemPackage", package: "swift-system")]),
        // How boots ended: the per-boot timeline, the verdicts, `last` and `dump`. No BPF loader.
        .target(
            name: "WitnessReport",
            dependencies: ["WitnessModel", "WitnessStore", "WitnessEvidence", "WitnessPreflight", "WitnessSystem"]
        ),
        // `arm`, `status`, `disarm`: the record's path from the rings to the store and its copies.
        .target(
            name: "WitnessArm",
            dependencies: ["WitnessCapture", "WitnessStore", "WitnessModel", "WitnessAttribution", "WitnessSystem",
                           "WitnessEvidence", "WitnessPreflight", "WitnessReport", "CSystemd", "CWitness",
                           .product(name: "Prometheus", package: "swift-prometheus"),
                           .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                           .product(name: "NIOHTTP1", package: "swift-nio")]
        ),
        .executableTarget(
            name: "reboot-witness",
            dependencies: ["WitnessArm", "WitnessReport", "WitnessCapture", "WitnessStore", "WitnessModel", "WitnessPreflight",
                           "WitnessSystem", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // Safe reboot(2) callers for live tests: bad magic, and RESTART from
        // the init of a fresh user+PID namespace. Never a real reboot.
        .executableTarget(name: "rw-selftest", linkerSettings: [.linkedLibrary("systemd")]),
        // Fuzz targets of our own parsers (scripts/fuzz); a corpus replayer otherwise.
        .executableTarget(name: "witness-fuzz", dependencies: ["WitnessStore", "WitnessModel", "WitnessSystem", "WitnessPreflight",
                                                              "WitnessEvidence", "WitnessAttribution", "WitnessCapture", "CWitness"]),

        .testTarget(
            name: "RebootWitnessTests",
            dependencies: ["WitnessArm", "WitnessReport", "WitnessModel", "WitnessCapture", "WitnessStore", "WitnessAttribution",
                           "WitnessSystem", "WitnessEvidence", "WitnessPreflight", "CWitness", "CBPFShim", "CLibbpf", "CISAL", "CZlib", "BPFObjects", "CArchive",
                           .product(name: "NIOCore", package: "swift-nio")]
        ),
    ],
    swiftLanguageModes: [.v5]
)
