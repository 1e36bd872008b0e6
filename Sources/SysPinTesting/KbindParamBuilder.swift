import SysPinCore

/// Encodes kbind(2) parameter buffers (R-KB-9): the `struct __kbind` headers {addr, size} in the
/// arch's pointer width and byte order, contiguous, then every block's data in block order.
public enum KbindParamBuilder {
    /// A well-formed buffer: one header per block, `size` = the data's length.
    public static func encode(_ blocks: [(addr: UInt64, data: [UInt8])], arch: Arch) -> [UInt8] {
        encode(headers: blocks.map { ($0.addr, UInt64($0.data.count)) }, data: blocks.flatMap { $0.data }, arch: arch)
    }

    /// Headers and data given separately, so sizes can lie about the data (for rejecting cases).
    public static func encode(headers: [(addr: UInt64, size: UInt64)], data: [UInt8], arch: Arch) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: headers.count * arch.kbindHeaderSize)
        out.reserveCapacity(out.count + data.count)
        for (i, h) in headers.enumerated() { setHeader(i, addr: h.addr, size: h.size, in: &out, arch: arch) }
        out += data
        return out
    }

    /// Writes header `i` ({addr, size}) over its place in `out`, whose first (i + 1) headers' bytes
    /// already exist: a buffer can be laid out with zeroed headers, data appended, then the headers
    /// filled in, in one allocation.
    public static func setHeader(_ i: Int, addr: UInt64, size: UInt64, in out: inout [UInt8], arch: Arch) {
        let w = arch.pointerBytes
        arch.endian.store(addr, width: w, into: &out, at: i * 2 * w)
        arch.endian.store(size, width: w, into: &out, at: i * 2 * w + w)
    }
}
