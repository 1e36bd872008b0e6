import SysPinCore

/// Every fuzz target by name: the libFuzzer executables in Fuzzers/ call `entry`, the unit
/// tests replay Corpus/<name>/regressions through the same function in a plain build, and
/// `syspin decode` shows an input with `describe`. The names are Fuzzers/targets.txt's (the list
/// the fuzz package and the ci/ scripts read); a test checks they agree.
public enum FuzzTargets {
    public typealias Entry = @Sendable ([UInt8]) throws(InvariantViolation) -> Void
    public typealias Describe = @Sendable ([UInt8]) -> String

    /// Built on each call, one append at a time: a constant array literal would be emitted as a
    /// static object in its object file's `.data`, which the fuzz binaries' linker cannot drop
    /// while anything else there is used, and whose entries would keep all five targets' code
    /// (and coverage counters) in every fuzz binary (ci/lib/fuzz.sh). Each executable references
    /// only its own target.
    public static var all: [(name: String, entry: Entry, describe: Describe)] {
        var all: [(name: String, entry: Entry, describe: Describe)] = []
        all.reserveCapacity(5)
        all.append(("FuzzELF", FuzzELF.run, FuzzDescribe.elf))
        all.append(("FuzzPintable", FuzzPintable.run, FuzzDescribe.pintable))
        all.append(("FuzzPinsyscalls", FuzzPinsyscalls.run, FuzzDescribe.pinsyscalls))
        all.append(("FuzzKbind", FuzzKbind.run, FuzzDescribe.kbind))
        all.append(("FuzzScenario", FuzzScenario.run, FuzzDescribe.scenario))
        return all
    }

    public static func entry(named name: String) -> Entry? {
        all.first { $0.name == name }?.entry
    }
}
