/// Which of execve's two ELF loaders judges an image (§4).
public enum Loader: Hashable, Sendable {
    /// exec_elf_makecmds: the execve target.
    case main
    /// elf_load_file: the PT_INTERP file (ld.so).
    case interpreter
}

/// An image whose header and program-header table could be read.
public struct ElfImage: Sendable {
    public let bytes: [UInt8]
    public let header: ElfHeader
    public let phdrs: [ProgramHeader]

    public var view: ByteView { ByteView(bytes, endian: header.endian) }

    /// The bytes of [offset, offset + length) that lie inside the file (a prefix when the segment
    /// runs past the end; empty when it starts past it).
    public func bytesAvailable(offset: UInt64, length: UInt64) -> [UInt8] {
        let count = UInt64(bytes.count)
        guard offset < count else { return [] }
        let n = min(length, count - offset)
        return Array(bytes[Int(offset)..<Int(offset + n)])
    }
}

public enum ExecRules {
    /// The arch an image declares (CONTRACT: inspect without --arch): the one whose e_machine, read
    /// in the EI_DATA byte order, matches (EM_MIPS is mips64 for MSB, mips64el for LSB). EI_CLASS
    /// takes no part, so a wrong class is that arch's ENOEXEC R-ELF-2. Without a match: shorter
    /// than the smallest (ELF32) header is R-ELF-1, bad magic or EI_DATA is R-ELF-2, an e_machine no
    /// arch has is R-ELF-3.
    public static func inferArch(_ bytes: [UInt8]) -> Result<Arch, ExecRejection> {
        if bytes.count >= 20, let endian = Endian(rawValue: bytes[5]) {
            let machine = UInt16(truncatingIfNeeded: ByteView.decode(bytes, at: 18, width: 2, endian: endian))
            if let arch = Arch.matching(machine: machine, endian: endian) { return .success(arch) }
        }
        guard bytes.count >= ElfClass.elf32.ehdrSize else {
            return .failure(.init(.ENOEXEC, "R-ELF-1", "file shorter than the smallest ELF header"))
        }
        guard Array(bytes[0..<4]) == ElfHeader.magic, let endian = Endian(rawValue: bytes[5]) else {
            return .failure(.init(.ENOEXEC, "R-ELF-2", "bad ELF magic or EI_DATA"))
        }
        let machine = UInt16(truncatingIfNeeded: ByteView.decode(bytes, at: 18, width: 2, endian: endian))
        return .failure(.init(.ENOEXEC, "R-ELF-3", "e_machine \(machine) is no OpenBSD arch for \(endian.name)-endian ELF"))
    }

    /// R-ELF-1..5 and R-ELF-7: header acceptance and the program-header read.
    public static func readImage(
        _ bytes: [UInt8], arch: Arch, loader: Loader, openForWrite: Bool = false
    ) -> Result<ElfImage, ExecRejection> {
        guard let h = ElfHeader.read(bytes, elfClass: arch.elfClass, endian: arch.endian) else {
            return .failure(.init(.ENOEXEC, "R-ELF-1", "fewer than \(arch.elfClass.ehdrSize) header bytes"))
        }
        guard h.hasMagic, h.identClass == arch.elfClass.rawValue, h.identData == arch.endian.rawValue,
            h.identVersion == 1
        else {
            return .failure(.init(.ENOEXEC, "R-ELF-2", "e_ident is not \(arch.name)'s ELF\(arch.elfClass.bits) \(arch.endian.name)-endian version 1"))
        }
        guard h.machine == arch.machine, h.version == 1 else {
            return .failure(.init(.ENOEXEC, "R-ELF-3", "e_machine \(h.machine)/e_version \(h.version), want \(arch.machine)/1"))
        }
        guard h.phnum <= 32 else {
            return .failure(.init(.ENOEXEC, "R-ELF-4", "e_phnum \(h.phnum) > ELF_MAX_VALID_PHDR 32"))
        }
        switch loader {
        case .main where h.type != .exec && h.type != .dyn,
            .interpreter where h.type != .dyn:
            return .failure(.init(.ENOEXEC, "R-ELF-5", "e_type \(h.type.name) not accepted by the \(loader == .main ? "main" : "interpreter") loader"))
        default: break
        }
        if loader == .main && openForWrite {
            return .failure(.init(.ETXTBSY, "R-ELF-6", "file is open for writing"))
        }
        // R-ELF-7: header i lies inside the file exactly when the table up to it does, so the first
        // one outside is the number of whole headers between e_phoff and the end of the file.
        let size = arch.elfClass.phdrSize
        let count = UInt64(bytes.count)
        let inside = h.phoff <= count ? (count - h.phoff) / UInt64(size) : 0
        guard inside >= UInt64(h.phnum) else {
            return .failure(.init(.ENOEXEC, "R-ELF-7", "program header \(inside) at e_phoff \(h.phoff) lies outside the file"))
        }
        // With no headers e_phoff is never used (it may lie anywhere, even past Int.max).
        let phdrs = ProgramHeader.decodeTable(
            bytes, at: h.phnum == 0 ? 0 : Int(h.phoff), count: Int(h.phnum), elfClass: arch.elfClass, endian: arch.endian)
        return .success(ElfImage(bytes: bytes, header: h, phdrs: phdrs))
    }

    /// R-ELF-8: p_align > 1 must be a power of two.
    static func alignIsValid(_ ph: ProgramHeader) -> Bool {
        ph.align <= 1 || ph.align & (ph.align - 1) == 0
    }

    /// ELF_TRUNC for a segment (p_align > 1 only).
    static func trunc(_ value: UInt64, _ align: UInt64) -> UInt64 {
        align > 1 ? value & ~(align - 1) : value
    }

    /// elf_os_pt_note (R-ELF-12): whether some PT_NOTE of ≤ 1024 bytes holds a note whose name is
    /// the C string "OpenBSD" (namesz ≥ 7; the NUL may lie in the name's padding). The note type
    /// and the padding are not checked. A note segment that cannot be read ends the scan with no
    /// error of its own: the answer is whether a note was found before it. So the first note found
    /// decides: nothing after it can change the answer, and the scan returns there instead of
    /// walking the rest of the segment and the segments after it.
    ///
    /// Decision D-NOTE-ROUND: the kernel rounds namesz and descsz up to 4 with `roundup(x,
    /// sizeof(Elf_Word))`, whose divisor is a size_t, and sums the note size in size_t: pointer
    /// width. On ILP32 (every ELF32 arch) sizes ≥ 0xFFFFFFFD round to 0 and the sum wraps at 2^32,
    /// so the walk may jump back to a lower offset and go on from there; on LP64 nothing wraps, so
    /// such a note never fits and ends the walk of its segment. Where the kernel would loop for
    /// ever (the walk comes back to an offset it has visited), the scan stops once it has seen
    /// every note that walk reaches.
    static func hasOpenBSDNote(_ image: ElfImage) -> Bool {
        image.bytes.withUnsafeBytes { raw in
            image.header.endian == .little
                ? hasOpenBSDNote(image.phdrs, RawFields<LittleEndianOrder>(raw: raw), elfClass: image.header.elfClass)
                : hasOpenBSDNote(image.phdrs, RawFields<BigEndianOrder>(raw: raw), elfClass: image.header.elfClass)
        }
    }

    private static func hasOpenBSDNote<Order>(_ phdrs: [ProgramHeader], _ f: RawFields<Order>, elfClass: ElfClass) -> Bool {
        // The name "OpenBSD\0" as its 8 bytes read in little-endian order (one load, no array).
        let name: UInt64 = 0x0044_5342_6E65_704F
        let count = UInt64(f.raw.count)
        let mask: UInt64 = elfClass == .elf32 ? 0xFFFF_FFFF : .max
        // elfround is roundup(x, sizeof(Elf_Word)): the divisor is a size_t, so the sum is taken in
        // pointer width. Only on ILP32 does a size ≥ 0xFFFFFFFD wrap to 0.
        func round4(_ x: UInt32) -> UInt64 { (UInt64(x) + 3) & ~3 & mask }
        // A zero-byte read succeeds wherever it points (and finds no note).
        for ph in phdrs where ph.type == .note && ph.filesz <= 1024 && ph.filesz > 0 {
            // No note was found before this segment (the scan returns at the first).
            guard ph.filesz <= count && ph.offset <= count - ph.filesz else { return false }
            // The whole segment lies inside the file (checked above), so every read below, at
            // most 20 bytes into a note that starts 12 or more before the segment's end, is too.
            let start = Int(ph.offset)
            var off: UInt64 = 0
            // On ILP32 the 32-bit sum can send the walk back to a lower offset, and the kernel
            // goes on from there; only a walk that returns to an offset it has visited loops for
            // ever. No walk visits more than filesz offsets, so stopping after filesz steps has
            // seen every note the kernel's walk would.
            var steps: UInt64 = 0
            while off < ph.filesz && off + 12 <= ph.filesz && steps < ph.filesz {
                steps += 1
                let namesz = f.u32(start + Int(off)), descsz = f.u32(start + Int(off) + 4)
                let total = (12 + round4(namesz) + round4(descsz)) & mask
                let next = (off + total) & mask
                guard next <= ph.filesz else { break }
                if namesz >= 7, off + 20 <= ph.filesz,
                    UInt64(littleEndian: f.raw.loadUnaligned(fromByteOffset: start + Int(off) + 12, as: UInt64.self)) == name
                {
                    return true
                }
                off = next
            }
        }
        return false
    }
}

/// A rejection: errno, deciding rule, and what in the file made it fail (LLVM Object/ELF.h style).
public struct ExecRejection: Error, Hashable, Sendable {
    public var errno: OpenBSDErrno
    public var rule: RuleID
    public var detail: String

    public init(_ errno: OpenBSDErrno, _ rule: RuleID, _ detail: String) {
        self.errno = errno
        self.rule = rule
        self.detail = detail
    }

    public var verdict: Verdict { .fail(errno, rule) }
}
