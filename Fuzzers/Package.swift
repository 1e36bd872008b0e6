// swift-tools-version:6.1
// libFuzzer targets over the syspin core, one executable per input format (swift-protobuf's
// FuzzTesting layout). Build with ci/fuzz-build; each target's logic and invariants live in the
// SysPinFuzzing library of the parent package so `swift test` replays regressions through them.
import PackageDescription

let targets = ["FuzzELF", "FuzzPintable", "FuzzPinsyscalls", "FuzzKbind", "FuzzScenario"]

let package = Package(
    name: "SysPinFuzzers",
    platforms: [.macOS(.v14)],
    products: targets.map { .executable(name: $0, targets: [$0]) },
    dependencies: [.package(name: "syspin", path: "..", traits: ["LibElf"])],
    targets: targets.map {
        .executableTarget(name: $0, dependencies: [.product(name: "SysPinFuzzing", package: "syspin")])
    }
)
