/// The empty fuzz target: it looks at nothing and returns. What remains of each exec is libFuzzer,
/// the sanitizers and the Swift entry point: the ceiling no real target can pass.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEmpty(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 { 0 }
