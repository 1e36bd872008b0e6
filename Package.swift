// swift-tools-version:6.1
import PackageDescription

/// The coverage traits' flags for one module (see the traits): libFuzzer's counters
/// (ModelCoverage) or AFL++'s trace-pc-guard edges (ModelCoverageAFL). The sanitizer itself
/// (-sanitize=address or thread) comes from ci/lib/fuzz.sh for every module; ModelCoverageAFL's
/// flag needs it (swiftc takes -sanitize-coverage only with a sanitizer).
let modelCoverage: [SwiftSetting] = [
    .unsafeFlags(["-sanitize=fuzzer", "-sanitize-coverage=edge,inline-8bit-counters,pc-table"], .when(traits: ["ModelCoverage"])),
    .unsafeFlags(["-sanitize-coverage=edge,trace-pc-guard"], .when(traits: ["ModelCoverageAFL"])),
]

let package = Package(
    name: "syspin",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "SysPinCore", targets: ["SysPinCore"]),
        .library(name: "SysPinScenario", targets: ["SysPinScenario"]),
        .library(name: "SysPinTesting", targets: ["SysPinTesting"]),
        .library(name: "SysPinReference", targets: ["SysPinReference"]),
        .library(name: "SysPinFuzzing", targets: ["SysPinFuzzing"]),
        .executable(name: "syspin", targets: ["syspin"]),
    ],
    // LibElf: build the libelf differential (FuzzELF against elfutils' gelf_getphdr). Off by
    // default so the model, its CLI and its tests build with Swift alone (no libelf-dev, and on
    // macOS); the fuzz package (Fuzzers/) and ci/bench turn it on. A trait rather than a separate
    // module, because the differential is one step inside FuzzELF's run, not a target of its own.
    //
    // ModelCoverage: the fuzz build's libFuzzer coverage (edges in inline 8-bit counters with the PC
    // table) in the two models only, SysPinCore and SysPinReference, not in the harness around them
    // (SysPinFuzzing's decoders, encoders and invariants, SysPinTesting's builders). The fuzz
    // packages turn it on, and ci/lib/fuzz.sh then instruments nothing else. Fewer edges per exec
    // for libFuzzer to clear, scan and count: 9-43 % more exec/s for the pin and scenario targets (BENCHMARKS.md).
    //
    // ModelCoverageAFL: the same for the AFL++ build, AFL++'s trace-pc-guard edges in the two models
    // only, so both engines count the same code (ci/engine-compare).
    traits: [
        .trait(name: "LibElf", description: "Compare FuzzELF's program headers with libelf (needs Debian libelf-dev)"),
        .trait(name: "ModelCoverage", description: "Fuzz build: libFuzzer edge coverage in SysPinCore and SysPinReference only (ci/lib/fuzz.sh)"),
        .trait(name: "ModelCoverageAFL", description: "AFL++ build: trace-pc-guard edges in SysPinCore and SysPinReference only (ci/lib/fuzz.sh; needs -sanitize=address)"),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // bytes → typed ELF view → pintable → policy → decisions. No Foundation, no I/O.
        .target(name: "SysPinCore", swiftSettings: modelCoverage),
        // JSON scenarios and reports (Foundation allowed here).
        .target(name: "SysPinScenario", dependencies: ["SysPinCore"]),
        // The independent second model (issue 10), written from SPEC.md alone. A target of its own
        // with NO dependencies at all (not SysPinCore, not even Foundation): the package graph
        // itself proves that it shares no code with the model it checks. SysPinTesting re-exports
        // it as the reference model of the test tooling.
        .target(name: "SysPinReference", swiftSettings: modelCoverage),
        // Builders of ELF images, naive reference model, generators.
        .target(name: "SysPinTesting", dependencies: ["SysPinCore", "SysPinReference"]),
        // libelf (Debian libelf-dev), the real ELF reader FuzzELF and the benchmarks compare with.
        .systemLibrary(name: "CLibElf", pkgConfig: "libelf", providers: [.apt(["libelf-dev"])]),
        // Property-test generators (swift-property-based); kept out of SysPinTesting so the fuzz
        // executables do not link Swift Testing.
        .target(
            name: "SysPinGenerators",
            dependencies: [
                "SysPinCore", "SysPinTesting",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            exclude: ["README.md"]
        ),
        // The fuzz targets' logic and invariants; Fuzzers/ wraps each in LLVMFuzzerTestOneInput.
        .target(
            name: "SysPinFuzzing",
            dependencies: [
                "SysPinCore", "SysPinTesting", "SysPinReference",
                .target(name: "CLibElf", condition: .when(traits: ["LibElf"])),
            ]),
        .executableTarget(
            name: "syspin",
            dependencies: [
                "SysPinCore", "SysPinScenario", "SysPinFuzzing",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The pin check in a loop, for ci/bench-callgrind (instructions per check under callgrind).
        .executableTarget(name: "syspin-checkloop", dependencies: ["SysPinCore", "SysPinTesting"]),
        .testTarget(
            name: "SysPinCoreTests",
            dependencies: [
                "SysPinCore", "SysPinTesting", "SysPinReference", "SysPinScenario", "SysPinFuzzing", "SysPinGenerators",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            resources: []
        ),
    ]
)
