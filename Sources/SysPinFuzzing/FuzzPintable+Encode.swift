import SysPinCore

/// The encoder beside `FuzzPintable.decode`: the 14-byte prefix, then the segment.
///
/// decode is not injective: flags bits 4–7 are ignored; `base` keeps only the page number
/// (`u32 << 12`, masked); `delta` is read `% (len + 1)`. encode writes the canonical choice
/// (unused bits 0, `delta` as it is), so `decode(encode(x)) == x` for every `x` decode returns.
extension FuzzPintable {
    static func encode(_ input: Input) -> [UInt8] {
        var w = FuzzWriter()
        w.arch(input.arch)
        let (low, high) = FuzzReader.policyBits(input.policy)
        w.u8((input.isLdso ? 1 : 0) | (low ? 2 : 0) | (high ? 4 : 0) | (input.bare ? 8 : 0))
        w.u32(UInt32(input.base >> 12))
        w.u32(UInt32(input.len))
        w.u32(UInt32(input.delta))
        w.bytes(input.segment)
        return w.bytes
    }
}
