// swift-tools-version:6.1
// Benchmarks for syspin (ordo-one/benchmark): the pin check against a C twin of the same
// index-and-compare check, exec parsing against libelf, and kbind validation. Its own package,
// depending on "..", so the main package never builds the benchmark toolchain. Run: ci/bench.
import PackageDescription

let benchmarkTarget: (String, [Target.Dependency]) -> Target = { name, deps in
    .executableTarget(
        name: name,
        dependencies: [.product(name: "Benchmark", package: "benchmark")] + deps,
        path: "Benchmarks/\(name)",
        plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    )
}

let package = Package(
    name: "SysPinBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        // LibElf: the fuzz targets' logic as the fuzz build links it (FuzzELF's libelf differential).
        .package(name: "syspin", path: "..", traits: ["LibElf"]),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // The C twin of the pin check: the same arrays, the same index-and-compare, the same
        // cuckoo lookup for strict.
        .target(name: "CPinCheck"),
        // libelf (Debian libelf-dev), as in the root package's CLibElf, under its own module name.
        .systemLibrary(name: "CElf", pkgConfig: "libelf", providers: [.apt(["libelf-dev"])]),
        benchmarkTarget(
            "PinCheck",
            [
                "CPinCheck", .product(name: "SysPinCore", package: "syspin"),
                .product(name: "SysPinTesting", package: "syspin"),
            ]),
        benchmarkTarget("ExecParse", ["CElf", .product(name: "SysPinCore", package: "syspin")]),
        // Every corpus input through its fuzz target's logic, plain release build (ci/fuzz-bench):
        // timed (FuzzReplay) and counted in instructions under callgrind (FuzzReplayLoop).
        .target(name: "FuzzCorpus"),
        benchmarkTarget("FuzzReplay", ["FuzzCorpus", .product(name: "SysPinFuzzing", package: "syspin")]),
        .executableTarget(name: "FuzzReplayLoop", dependencies: ["FuzzCorpus", .product(name: "SysPinFuzzing", package: "syspin")]),
        benchmarkTarget(
            "KbindValidation",
            [.product(name: "SysPinCore", package: "syspin"), .product(name: "SysPinTesting", package: "syspin")]),
    ]
)
