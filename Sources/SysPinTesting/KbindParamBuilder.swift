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
        var out: [UInt8] = []
        for h in headers {
            out += arch.endian.encode(h.addr, width: arch.pointerBytes)
            out += arch.endian.encode(h.size, width: arch.pointerBytes)
        }
        return out + data
    }
}
