import SysPinCore

/// Every fuzz target by name: the libFuzzer executables in Fuzzers/ call `entry`, the unit
/// tests replay Corpus/<name>/regressions through the same function in a plain build, and
/// `syspin decode` shows an input with `describe`. The names are Fuzzers/targets.txt's (the list
/// the fuzz package and the ci/ scripts read); a test checks they agree.
public enum FuzzTargets {
    public typealias Entry = @Sendable ([UInt8]) throws(InvariantViolation) -> Void
    public typealias Describe = @Sendable ([UInt8]) -> String

    public static let all: [(name: String, entry: Entry, describe: Describe)] = [
        ("FuzzELF", FuzzELF.run, FuzzDescribe.elf),
        ("FuzzPintable", FuzzPintable.run, FuzzDescribe.pintable),
        ("FuzzPinsyscalls", FuzzPinsyscalls.run, FuzzDescribe.pinsyscalls),
        ("FuzzKbind", FuzzKbind.run, FuzzDescribe.kbind),
        ("FuzzScenario", FuzzScenario.run, FuzzDescribe.scenario),
    ]

    public static func entry(named name: String) -> Entry? {
        all.first { $0.name == name }?.entry
    }
}
