import SysPinFuzzing

/// The library ceiling: the empty target linked with all five fuzz targets' code (SysPinFuzzing,
/// the core, the reference model, SysPinTesting, reached through `FuzzTargets.all`), instrumented as
/// the real targets are. It runs none of it, yet libFuzzer still clears and scans each of its
/// coverage counters on every exec. Each real target's binary links only its own target's code
/// (ci/lib/fuzz.sh), so it has fewer counters than this one: this is the fixed cost of a binary
/// that held every target, more than any one target's binary pays.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLinked(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    // Never true for a real input (libFuzzer's -max_len stays far below): keeps the libraries
    // referenced without running them.
    if size == Int.max { return FuzzHarness.run(FuzzTargets.all[0].entry, data, size) }
    return 0
}
