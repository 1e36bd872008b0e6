// swift-tools-version:6.1
// The ceiling for ci/fuzz-bench: a libFuzzer target that does nothing with its input, built exactly
// as ci/fuzz-build builds the real targets (release, -sanitize=fuzzer,address and the coverage flags
// of ci/lib/fuzz.sh, the same Swift runtime). Its exec/s is what the harness around any target can reach on this machine; each real
// target's exec/s is reported as a ratio to it, measured in the same run. Its own package so the
// target lists of Fuzzers/ never include it.
import PackageDescription

let package = Package(
    name: "FuzzCeiling",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "FuzzEmpty", targets: ["FuzzEmpty"]),
        .executable(name: "FuzzLinked", targets: ["FuzzLinked"]),
    ],
    dependencies: [.package(name: "syspin", path: "../..", traits: ["LibElf"])],
    targets: [
        .executableTarget(name: "FuzzEmpty"),
        .executableTarget(name: "FuzzLinked", dependencies: [.product(name: "SysPinFuzzing", package: "syspin")]),
    ]
)
