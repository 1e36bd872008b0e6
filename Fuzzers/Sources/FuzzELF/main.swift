#if canImport(Glibc)
import Glibc
#endif
import SysPinFuzzing

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzHarness.run(FuzzELF.run, data, size)
}

@_silgen_name("LLVMFuzzerMutate")
func LLVMFuzzerMutate(_ data: UnsafeMutablePointer<UInt8>, _ size: Int, _ maxSize: Int) -> Int

/// SYSPIN_PLAIN_MUTATOR=1 turns the structure-aware mutator off (libFuzzer's byte mutations
/// only), for measuring what it buys.
let plainMutator = getenv("SYSPIN_PLAIN_MUTATOR").map { String(cString: $0) == "1" } ?? false

@_cdecl("LLVMFuzzerCustomMutator")
public func customMutator(_ data: UnsafeMutablePointer<UInt8>, _ size: Int, _ maxSize: Int, _ seed: UInt32) -> Int {
    if plainMutator { return LLVMFuzzerMutate(data, size, maxSize) }
    return ElfMutator.mutate(data, size: size, maxSize: maxSize, seed: seed, fallback: LLVMFuzzerMutate)
}
