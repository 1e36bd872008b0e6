import SysPinCore
import SysPinReference

/// The mirror of `FuzzReader`: appends little-endian u8/u16/u32/u64 and raw bytes, so that a
/// reader walking the result with the same calls gets the same values back. The targets'
/// encoders (`<Target>+Encode.swift`, beside each decoder) write seed inputs with it.
public struct FuzzWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    /// The thread-count byte of a pinsyscalls step (FuzzPinsyscalls, FuzzScenario): 0 reads as one
    /// thread, 240 + t as t (0...3); false for a count no byte decodes to.
    mutating func threads(_ t: Int) -> Bool {
        if t == 1 {
            u8(0)
        } else if (0..<4).contains(t) {
            u8(240 + UInt8(t))
        } else {
            return false
        }
        return true
    }

    public mutating func uint(_ v: UInt64, _ width: Int) {
        for i in 0..<width { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
    }

    public mutating func u8(_ v: UInt8) { bytes.append(v) }
    public mutating func u16(_ v: UInt16) { uint(UInt64(v), 2) }
    public mutating func u32(_ v: UInt32) { uint(UInt64(v), 4) }
    public mutating func u64(_ v: UInt64) { uint(v, 8) }
    public mutating func bytes(_ bs: [UInt8]) { bytes += bs }

    /// The byte `FuzzReader.arch()` reads as `arch`.
    mutating func arch(_ arch: Arch) { u8(UInt8(Arch.all.firstIndex(of: arch)!)) }
}

extension FuzzReader {
    /// The two flag bits `policy(low:high:)` reads as `policy` (the first pair that does).
    static func policyBits(_ policy: PinPolicy) -> (low: Bool, high: Bool) {
        let i = RefPolicy.comparable.firstIndex(of: policy)!
        return (i & 1 != 0, i & 2 != 0)
    }
}
