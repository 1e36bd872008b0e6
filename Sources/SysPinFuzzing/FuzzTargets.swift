import SysPinCore

/// Every fuzz target by name: the libFuzzer executables in Fuzzers/ call `entry`, and the unit
/// tests replay Corpus/<name>/regressions through the same function in a plain build.
public enum FuzzTargets {
    public typealias Entry = @Sendable ([UInt8]) throws(InvariantViolation) -> Void

    public static let all: [(name: String, entry: Entry)] = [
        ("FuzzELF", FuzzELF.run),
        ("FuzzPintable", FuzzPintable.run),
        ("FuzzPinsyscalls", FuzzPinsyscalls.run),
        ("FuzzKbind", FuzzKbind.run),
        ("FuzzScenario", FuzzScenario.run),
    ]

    public static func entry(named name: String) -> Entry? {
        all.first { $0.name == name }?.entry
    }
}
