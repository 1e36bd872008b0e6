/// ELF program-header type: an open newtype, so unknown values are representable (gimli-rs/object).
public struct SegmentType: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ rawValue: UInt32) { self.init(rawValue: rawValue) }

    public static let null = SegmentType(0)
    public static let load = SegmentType(1)
    public static let dynamic = SegmentType(2)
    public static let interp = SegmentType(3)
    public static let note = SegmentType(4)
    public static let shlib = SegmentType(5)
    public static let phdr = SegmentType(6)
    public static let tls = SegmentType(7)
    public static let gnuEHFrame = SegmentType(0x6474_e550)
    public static let gnuStack = SegmentType(0x6474_e551)
    public static let gnuRelro = SegmentType(0x6474_e552)
    public static let openbsdMutable = SegmentType(0x65a3_dbe5)
    public static let openbsdRandomize = SegmentType(0x65a3_dbe6)
    public static let openbsdWXNeeded = SegmentType(0x65a3_dbe7)
    public static let openbsdNoBTCFI = SegmentType(0x65a3_dbe8)
    public static let openbsdSyscalls = SegmentType(0x65a3_dbe9)
}

/// e_type as an open newtype.
public struct ElfType: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let none = ElfType(rawValue: 0)
    public static let rel = ElfType(rawValue: 1)
    public static let exec = ElfType(rawValue: 2)
    public static let dyn = ElfType(rawValue: 3)
    public static let core = ElfType(rawValue: 4)

    public var name: String {
        switch self {
        case .none: return "NONE"
        case .rel: return "REL"
        case .exec: return "EXEC"
        case .dyn: return "DYN"
        case .core: return "CORE"
        default: return "0x" + String(rawValue, radix: 16)
        }
    }
}

public enum ProgramFlags {
    public static let x: UInt32 = 1
    public static let w: UInt32 = 2
    public static let r: UInt32 = 4
}

/// The ELF file header as stored, widened to 64 bits. Reading it validates nothing but that the
/// bytes exist; acceptance is `ExecRules`' job.
public struct ElfHeader: Hashable, Sendable {
    public static let magic: [UInt8] = [0x7f, 0x45, 0x4c, 0x46]
    /// ELFOSABI_OPENBSD (R-ELF-12).
    public static let osabiOpenBSD: UInt8 = 12

    public var hasMagic: Bool
    public var identClass: UInt8
    public var identData: UInt8
    public var identVersion: UInt8
    public var osabi: UInt8
    public var elfClass: ElfClass
    public var endian: Endian
    public var type: ElfType
    public var machine: UInt16
    public var version: UInt32
    public var entry: UInt64
    public var phoff: UInt64
    public var shoff: UInt64
    public var flags: UInt32
    public var ehsize: UInt16
    public var phentsize: UInt16
    public var phnum: UInt16
    public var shentsize: UInt16
    public var shnum: UInt16
    public var shstrndx: UInt16

    /// Reads the header laid out for `elfClass`/`endian` (the kernel reads its own native
    /// struct, whatever e_ident says). nil when the bytes are too short.
    public static func read(_ bytes: [UInt8], elfClass: ElfClass, endian: Endian) -> ElfHeader? {
        guard bytes.count >= elfClass.ehdrSize else { return nil }
        // Every field lies inside the bytes (checked above): read them unchecked.
        return bytes.withUnsafeBytes { raw in
            endian == .little
                ? decode(RawFields<LittleEndianOrder>(raw: raw), elfClass: elfClass, endian: endian)
                : decode(RawFields<BigEndianOrder>(raw: raw), elfClass: elfClass, endian: endian)
        }
    }

    /// The header in `f`, which holds at least `elfClass.ehdrSize` bytes.
    private static func decode<Order>(_ f: RawFields<Order>, elfClass: ElfClass, endian: Endian) -> ElfHeader {
        let raw = f.raw
        let w = elfClass == .elf64 ? 8 : 4
        let o = 24
        let after = o + 3 * w  // e_flags
        return ElfHeader(
            hasMagic: raw[0] == 0x7f && raw[1] == 0x45 && raw[2] == 0x4c && raw[3] == 0x46,
            identClass: raw[4], identData: raw[5], identVersion: raw[6], osabi: raw[7],
            elfClass: elfClass, endian: endian,
            type: ElfType(rawValue: f.u16(16)), machine: f.u16(18), version: f.u32(20),
            entry: f.word(o, elfClass), phoff: f.word(o + w, elfClass), shoff: f.word(o + 2 * w, elfClass),
            flags: f.u32(after), ehsize: f.u16(after + 4), phentsize: f.u16(after + 6), phnum: f.u16(after + 8),
            shentsize: f.u16(after + 10), shnum: f.u16(after + 12), shstrndx: f.u16(after + 14))
    }

    /// Class and byte order as e_ident states them; nil when either byte is not a valid value.
    public static func identity(_ bytes: [UInt8]) -> (ElfClass, Endian)? {
        guard bytes.count >= 16, let c = ElfClass(rawValue: bytes[4]), let d = Endian(rawValue: bytes[5])
        else { return nil }
        return (c, d)
    }
}

public struct ProgramHeader: Hashable, Sendable {
    public var type: SegmentType
    public var flags: UInt32
    public var offset: UInt64
    public var vaddr: UInt64
    public var paddr: UInt64
    public var filesz: UInt64
    public var memsz: UInt64
    public var align: UInt64

    public init(
        type: SegmentType, flags: UInt32, offset: UInt64, vaddr: UInt64, paddr: UInt64 = 0,
        filesz: UInt64, memsz: UInt64, align: UInt64
    ) {
        self.type = type
        self.flags = flags
        self.offset = offset
        self.vaddr = vaddr
        self.paddr = paddr
        self.filesz = filesz
        self.memsz = memsz
        self.align = align
    }

    public var isWritable: Bool { flags & ProgramFlags.w != 0 }
    public var isExecutable: Bool { flags & ProgramFlags.x != 0 }

    /// Reads program header `index` of the table at `phoff`, in the kernel's struct layout for the
    /// class (e_phentsize is not consulted, R-ELF-7).
    @inline(__always)  // returned through memory it costs a store-forwarding stall per header
    static func read(_ v: ByteView, elfClass: ElfClass, phoff: UInt64, index: Int) -> ProgramHeader? {
        let size = UInt64(elfClass.phdrSize)
        let (rel, overflow) = size.multipliedReportingOverflow(by: UInt64(index))
        guard !overflow else { return nil }
        let (base, o2) = phoff.addingReportingOverflow(rel)
        guard !o2, v.contains(offset: base, length: size) else { return nil }
        return v.bytes.withUnsafeBytes { raw in
            v.endian == .little
                ? decode(RawFields<LittleEndianOrder>(raw: raw), at: Int(base), elfClass: elfClass)
                : decode(RawFields<BigEndianOrder>(raw: raw), at: Int(base), elfClass: elfClass)
        }
    }

    /// The `count` program headers at byte `start` of `bytes`, which the caller has checked lie
    /// wholly inside (one allocation). One loop per byte order and class.
    static func decodeTable(
        _ bytes: [UInt8], at start: Int, count: Int, elfClass: ElfClass, endian: Endian
    ) -> [ProgramHeader] {
        let size = elfClass.phdrSize
        precondition(count == 0 || (start >= 0 && start <= bytes.count && count <= (bytes.count - start) / size))
        var out: [ProgramHeader] = []
        out.reserveCapacity(count)
        bytes.withUnsafeBytes { raw in
            if endian == .little {
                append(RawFields<LittleEndianOrder>(raw: raw), at: start, count: count, elfClass: elfClass, to: &out)
            } else {
                append(RawFields<BigEndianOrder>(raw: raw), at: start, count: count, elfClass: elfClass, to: &out)
            }
        }
        return out
    }

    /// `decodeTable`'s loop, one per class (the class test is decided once, not per header).
    @inline(__always)
    private static func append<Order>(
        _ f: RawFields<Order>, at start: Int, count: Int, elfClass: ElfClass, to out: inout [ProgramHeader]
    ) {
        let size = elfClass.phdrSize
        if elfClass == .elf64 {
            for i in 0..<count { out.append(decode(f, at: start + i * size, elfClass: .elf64)) }
        } else {
            for i in 0..<count { out.append(decode(f, at: start + i * size, elfClass: .elf32)) }
        }
    }

    /// The program header at byte `b` of `f`, which the caller has checked lies wholly inside.
    @inline(__always)
    private static func decode<Order>(_ f: RawFields<Order>, at b: Int, elfClass: ElfClass) -> ProgramHeader {
        if elfClass == .elf64 {
            return ProgramHeader(
                type: SegmentType(f.u32(b)), flags: f.u32(b + 4), offset: f.u64(b + 8), vaddr: f.u64(b + 16),
                paddr: f.u64(b + 24), filesz: f.u64(b + 32), memsz: f.u64(b + 40), align: f.u64(b + 48))
        }
        return ProgramHeader(
            type: SegmentType(f.u32(b)), flags: f.u32(b + 24), offset: UInt64(f.u32(b + 4)),
            vaddr: UInt64(f.u32(b + 8)), paddr: UInt64(f.u32(b + 12)), filesz: UInt64(f.u32(b + 16)),
            memsz: UInt64(f.u32(b + 20)), align: UInt64(f.u32(b + 28)))
    }
}
