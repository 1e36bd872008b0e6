// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "syspin",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "SysPinCore", targets: ["SysPinCore"]),
        .library(name: "SysPinScenario", targets: ["SysPinScenario"]),
        .library(name: "SysPinTesting", targets: ["SysPinTesting"]),
        .executable(name: "syspin", targets: ["syspin"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
    ],
    targets: [
        // bytes → typed ELF view → pintable → policy → decisions. No Foundation, no I/O.
        .target(name: "SysPinCore"),
        // JSON scenarios and reports (Foundation allowed here).
        .target(name: "SysPinScenario", dependencies: ["SysPinCore"]),
        // Builders of ELF images, naive reference model, generators.
        .target(name: "SysPinTesting", dependencies: ["SysPinCore"]),
        .executableTarget(
            name: "syspin",
            dependencies: [
                "SysPinCore", "SysPinScenario",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "SysPinCoreTests",
            dependencies: ["SysPinCore", "SysPinTesting", "SysPinScenario"],
            resources: []
        ),
    ]
)
