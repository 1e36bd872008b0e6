// swift-tools-version:6.1
// The ceiling for ci/fuzz-bench: a libFuzzer target that does nothing with its input, built exactly
// as ci/fuzz-build builds the real targets (release, libFuzzer and ASan by ci/lib/fuzz.sh, coverage
// counters where the ModelCoverage trait puts them, the same Swift runtime). Its exec/s is what the harness around any target can reach on this machine; each real
// target's exec/s is reported as a ratio to it, measured in the same run. Its own package so the
// target lists of Fuzzers/ never include it.
import PackageDescription

/// syspin's ModelCoverage and ModelCoverageAFL flags (../../Package.swift) for the entry point itself.
let entryCoverage: [SwiftSetting] = [
    .unsafeFlags(["-sanitize=fuzzer", "-sanitize-coverage=edge,inline-8bit-counters,pc-table"], .when(traits: ["ModelCoverage"])),
    .unsafeFlags(["-sanitize-coverage=edge,trace-pc-guard"], .when(traits: ["ModelCoverageAFL"])),
]

let package = Package(
    name: "FuzzCeiling",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "FuzzEmpty", targets: ["FuzzEmpty"]),
        .executable(name: "FuzzLinked", targets: ["FuzzLinked"]),
    ],
    // The fuzz packages' ModelCoverage (see Fuzzers/Package.swift): coverage in syspin's two models,
    // and here in each target's own entry point, so the empty target has its one counter.
    traits: [.default(enabledTraits: ["ModelCoverage"]), .trait(name: "ModelCoverage"), .trait(name: "ModelCoverageAFL")],
    dependencies: [
        .package(
            name: "syspin", path: "../..",
            traits: [
                "LibElf", .trait(name: "ModelCoverage", condition: .when(traits: ["ModelCoverage"])),
                .trait(name: "ModelCoverageAFL", condition: .when(traits: ["ModelCoverageAFL"])),
            ])
    ],
    targets: [
        .executableTarget(name: "FuzzEmpty", swiftSettings: entryCoverage),
        .executableTarget(
            name: "FuzzLinked", dependencies: [.product(name: "SysPinFuzzing", package: "syspin")],
            swiftSettings: entryCoverage),
    ]
)
