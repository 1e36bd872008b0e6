// swift-tools-version:6.1
// libFuzzer targets over the syspin core, one executable per input format (swift-protobuf's
// FuzzTesting layout). Build with ci/fuzz-build; each target's logic and invariants live in the
// SysPinFuzzing library of the parent package so `swift test` replays regressions through them.
import Foundation
import PackageDescription

// The one list of targets, Fuzzers/targets.txt (one name a line, # comments), which the ci/
// scripts and .clusterfuzzlite/build.sh read too.
let targets = try! String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("targets.txt"), encoding: .utf8)
    .split(separator: "\n").map { $0.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0] }
    .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }

let package = Package(
    name: "SysPinFuzzers",
    platforms: [.macOS(.v14)],
    products: targets.map { .executable(name: $0, targets: [$0]) },
    // ModelCoverage (on by default): libFuzzer's coverage in syspin's two models only (see the
    // trait in ../Package.swift). ModelCoverageAFL: AFL++'s edges in the same two modules, which
    // ci/lib/fuzz.sh selects (instead of the default) for the AFL++ build. The source-coverage
    // build turns both off and instruments every module itself.
    traits: [.default(enabledTraits: ["ModelCoverage"]), .trait(name: "ModelCoverage"), .trait(name: "ModelCoverageAFL")],
    dependencies: [
        .package(
            name: "syspin", path: "..",
            traits: [
                "LibElf", .trait(name: "ModelCoverage", condition: .when(traits: ["ModelCoverage"])),
                .trait(name: "ModelCoverageAFL", condition: .when(traits: ["ModelCoverageAFL"])),
            ])
    ],
    targets: targets.map {
        .executableTarget(name: $0, dependencies: [.product(name: "SysPinFuzzing", package: "syspin")])
    }
)
