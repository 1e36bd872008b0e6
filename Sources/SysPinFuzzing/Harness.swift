#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The glue every libFuzzer executable uses: copy the input, run the target, and on a broken
/// invariant print `ID: message` on stderr and abort so libFuzzer keeps the input.
public enum FuzzHarness {
    public static func run(_ entry: FuzzTargets.Entry, _ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
        let bytes = Array(UnsafeBufferPointer(start: data, count: size))
        do {
            try entry(bytes)
        } catch {
            let line = Array("\(error.id): \(error.message)\n".utf8)
            _ = line.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count) }
            abort()
        }
        return 0
    }
}
