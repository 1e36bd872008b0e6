/// Bounds-checked, endian-aware reads over an image's bytes. Every read returns nil instead of
/// trapping; bounds are written as `offset <= count - length` so they cannot overflow (swift-nio).
public struct ByteView: Sendable {
    public let bytes: [UInt8]
    public let endian: Endian

    public init(_ bytes: [UInt8], endian: Endian) {
        self.bytes = bytes
        self.endian = endian
    }

    public var count: UInt64 { UInt64(bytes.count) }

    /// True when `length` bytes at `offset` lie inside the buffer.
    @inlinable
    public func contains(offset: UInt64, length: UInt64) -> Bool {
        length <= count && offset <= count - length
    }

    /// The bytes at [offset, offset + length) without copying them, nil when they do not all lie
    /// inside the buffer.
    public func subrange(offset: UInt64, length: UInt64) -> ArraySlice<UInt8>? {
        guard contains(offset: offset, length: length) else { return nil }
        return bytes[Int(offset)..<Int(offset + length)]
    }

    @inlinable
    public func u32(_ offset: UInt64) -> UInt32? {
        guard let v = uint(offset, width: 4) else { return nil }
        return UInt32(truncatingIfNeeded: v)
    }

    /// An unsigned integer of `width` bytes (2, 4 or 8) in this view's byte order.
    @inlinable
    public func uint(_ offset: UInt64, width: Int) -> UInt64? {
        guard contains(offset: offset, length: UInt64(width)) else { return nil }
        return Self.decode(bytes, at: Int(offset), width: width, endian: endian)
    }

    /// The caller has checked that [start, start + width) lies inside `bytes`; `width` is 2, 4 or
    /// 8. Each is one unaligned load and at most a byte swap (no per-byte loop, no allocation).
    @inlinable
    static func decode(_ bytes: [UInt8], at start: Int, width: Int, endian: Endian) -> UInt64 {
        bytes.withUnsafeBytes { raw in
            switch width {
            case 8:
                let x = raw.loadUnaligned(fromByteOffset: start, as: UInt64.self)
                return endian == .little ? UInt64(littleEndian: x) : UInt64(bigEndian: x)
            case 4:
                let x = raw.loadUnaligned(fromByteOffset: start, as: UInt32.self)
                return UInt64(endian == .little ? UInt32(littleEndian: x) : UInt32(bigEndian: x))
            default:
                // Every field the model reads is 2, 4 or 8 bytes wide (ELF header and phdr fields,
                // pin table records, kbind pointers): any other width is a caller's bug.
                precondition(width == 2)
                let x = raw.loadUnaligned(fromByteOffset: start, as: UInt16.self)
                return UInt64(endian == .little ? UInt16(littleEndian: x) : UInt16(bigEndian: x))
            }
        }
    }
}

/// A byte order as a type, so a decoding loop is compiled once per order with no per-field test
/// (pin table records, program-header tables).
protocol ByteOrder {
    static func decode<T: FixedWidthInteger>(_ stored: T) -> T
}

enum LittleEndianOrder: ByteOrder {
    @inline(__always) static func decode<T: FixedWidthInteger>(_ stored: T) -> T { T(littleEndian: stored) }
}

enum BigEndianOrder: ByteOrder {
    @inline(__always) static func decode<T: FixedWidthInteger>(_ stored: T) -> T { T(bigEndian: stored) }
}

/// Unchecked loads in byte order `Order` from bytes the caller has already bounds-checked (a whole
/// ELF header, a program-header table): one unaligned load and at most a byte swap per field.
struct RawFields<Order: ByteOrder> {
    let raw: UnsafeRawBufferPointer

    @inline(__always)
    func u16(_ at: Int) -> UInt16 { Order.decode(raw.loadUnaligned(fromByteOffset: at, as: UInt16.self)) }

    @inline(__always)
    func u32(_ at: Int) -> UInt32 { Order.decode(raw.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }

    @inline(__always)
    func u64(_ at: Int) -> UInt64 { Order.decode(raw.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }

    /// A pointer-width field (ELF32: 4 bytes, ELF64: 8), widened.
    @inline(__always)
    func word(_ at: Int, _ elfClass: ElfClass) -> UInt64 { elfClass == .elf64 ? u64(at) : UInt64(u32(at)) }
}

extension Endian {
    /// `value` as `width` bytes in this byte order.
    public func encode(_ value: UInt64, width: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: width)
        store(value, width: width, into: &out, at: 0)
        return out
    }

    /// Writes `value` as `width` bytes (1, 2, 4 or 8) in this byte order over
    /// `out[at..<at + width]`, which must already exist (no allocation).
    public func store(_ value: UInt64, width: Int, into out: inout [UInt8], at: Int) {
        out.withUnsafeMutableBytes { FieldWriter(bytes: $0, endian: self).put(value, width: width, at: at) }
    }
}

/// Writes fields into a buffer in a byte order, the writing twin of `RawFields`: a whole field per
/// store (the buffer is checked once per field, not once per byte as subscripting an array does).
/// `ElfBuilder` writes images with it, `Endian.store` single fields.
public struct FieldWriter {
    public let bytes: UnsafeMutableRawBufferPointer
    public let endian: Endian

    public init(bytes: UnsafeMutableRawBufferPointer, endian: Endian) {
        self.bytes = bytes
        self.endian = endian
    }

    /// `value`'s low `width` bytes (1, 2, 4 or 8) in this byte order at `offset`. Inlinable like
    /// `copy`: ElfBuilder (another module) writes every field through it.
    @inlinable
    public func put(_ value: UInt64, width: Int, at offset: Int) {
        precondition(offset >= 0 && offset <= bytes.count - width)
        let little = endian == .little
        switch width {
        case 1: bytes.storeBytes(of: UInt8(truncatingIfNeeded: value), toByteOffset: offset, as: UInt8.self)
        case 2:
            let v = UInt16(truncatingIfNeeded: value)
            bytes.storeBytes(of: little ? v.littleEndian : v.bigEndian, toByteOffset: offset, as: UInt16.self)
        case 4:
            let v = UInt32(truncatingIfNeeded: value)
            bytes.storeBytes(of: little ? v.littleEndian : v.bigEndian, toByteOffset: offset, as: UInt32.self)
        case 8: bytes.storeBytes(of: little ? value.littleEndian : value.bigEndian, toByteOffset: offset, as: UInt64.self)
        default: preconditionFailure("field width \(width)")
        }
    }

    /// `source`'s bytes at `offset`. Inlinable, so a caller in another module gets it specialised
    /// for its collection (unspecialised, every call looked up generic metadata and copied byte
    /// by byte through an iterator).
    @inlinable
    public func copy<C: Collection<UInt8>>(_ source: C, at offset: Int) {
        precondition(offset >= 0 && offset <= bytes.count - source.count)
        UnsafeMutableRawBufferPointer(rebasing: bytes[offset...]).copyBytes(from: source)
    }
}
