/// One program header as the kernel's own struct reads it (R-ELF-7: 32 bytes for ELF32, 56 for
/// ELF64; e_phentsize is not used).
public struct RefPhdr: Equatable, Sendable {
    public var type: UInt32
    public var flags: UInt32
    public var offset: UInt64
    public var vaddr: UInt64
    public var paddr: UInt64
    public var filesz: UInt64
    public var memsz: UInt64
    public var align: UInt64

    public init(
        type: UInt32, flags: UInt32, offset: UInt64, vaddr: UInt64, paddr: UInt64, filesz: UInt64, memsz: UInt64,
        align: UInt64
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

    /// R-ELF-17: "writable" is checked first; a W+X segment is data.
    public var isText: Bool { type == RefConst.PT_LOAD && flags & RefConst.PF_W == 0 && flags & RefConst.PF_X != 0 }
}

/// An image whose header and program-header table were accepted (R-ELF-1..5, R-ELF-7).
public struct RefImage: Equatable, Sendable {
    public var bytes: [UInt8]
    public var arch: RefArch
    public var type: UInt16
    public var entry: UInt64
    public var phoff: UInt64
    public var phdrs: [RefPhdr]
}

public enum RefLoader: Equatable, Sendable {
    case main
    case interpreter
}

/// A failure of a reading or loading step.
public struct RefFailure: Error, Equatable, Sendable {
    public var verdict: RefVerdict
    public init(verdict: RefVerdict) { self.verdict = verdict }
    init(_ errno: Int32, _ rule: String) { verdict = .fail(errno, rule) }
}

public enum RefElf {
    /// CONTRACT `inspect` default arch: e_machine read in the EI_DATA byte order; EM_MIPS is mips64
    /// for MSB, mips64el for LSB; EI_CLASS takes no part. Without a match: shorter than 52 bytes is
    /// R-ELF-1, bad magic or EI_DATA is R-ELF-2, an unknown e_machine is R-ELF-3.
    public static func deriveArch(_ b: [UInt8]) -> Result<RefArch, RefFailure> {
        let magicOK = b.count >= 4 && b[0] == 0x7f && b[1] == 0x45 && b[2] == 0x4c && b[3] == 0x46
        let data: UInt8 = b.count > 5 ? b[5] : 0
        // CONTRACT: e_machine in the EI_DATA byte order decides; the magic and EI_CLASS take no
        // part (a wrong one is then that arch's R-ELF-2).
        if (data == 1 || data == 2) && b.count >= 20 {
            let machine = UInt16(RefBytes.uint(b, 18, 2, bigEndian: data == 2)!)
            for a in RefArch.all where a.machine == machine && a.bigEndian == (data == 2) {
                return .success(a)
            }
        }
        if b.count < 52 { return .failure(RefFailure(RefErrno.ENOEXEC, "R-ELF-1")) }
        if !magicOK || (data != 1 && data != 2) { return .failure(RefFailure(RefErrno.ENOEXEC, "R-ELF-2")) }
        return .failure(RefFailure(RefErrno.ENOEXEC, "R-ELF-3"))
    }

    /// R-ELF-1..7 in SPEC order, for either loader.
    public static func readImage(
        _ b: [UInt8], arch: RefArch, loader: RefLoader, openForWrite: Bool = false
    ) -> Result<RefImage, RefFailure> {
        let be = arch.bigEndian
        // R-ELF-1: the whole Ehdr must be read.
        let ehdrSize = arch.is64 ? 64 : 52
        if b.count < ehdrSize { return .failure(RefFailure(RefErrno.ENOEXEC, "R-ELF-1")) }
        // R-ELF-2: magic, EI_CLASS, EI_DATA, EI_VERSION as one group.
        let magic = b[0] == 0x7f && b[1] == 0x45 && b[2] == 0x4c && b[3] == 0x46
        let classOK = b[4] == (arch.is64 ? 2 : 1)
        let dataOK = b[5] == (be ? 2 : 1)
        if !(magic && classOK && dataOK && b[6] == 1) { return .failure(RefFailure(RefErrno.ENOEXEC, "R-ELF-2")) }
        let type = UInt16(RefBytes.uint(b, 16, 2, bigEndian: be)!)
        let machine = UInt16(RefBytes.uint(b, 18, 2, bigEndian: be)!)
        let version = RefBytes.uint(b, 20, 4, bigEndian: be)!
        let entry: UInt64, phoff: UInt64, phnum: UInt64
        if arch.is64 {
            entry = RefBytes.uint(b, 24, 8, bigEndian: be)!
            phoff = RefBytes.uint(b, 32, 8, bigEndian: be)!
            phnum = RefBytes.uint(b, 56, 2, bigEndian: be)!
        } else {
            entry = RefBytes.uint(b, 24, 4, bigEndian: be)!
            phoff = RefBytes.uint(b, 28, 4, bigEndian: be)!
            phnum = RefBytes.uint(b, 44, 2, bigEndian: be)!
        }
        // R-ELF-3
        if machine != arch.machine || version != 1 { return .failure(RefFailure(RefErrno.ENOEXEC, "R-ELF-3")) }
        // R-ELF-4
        if phnum > RefConst.maxPhnum { return .failure(RefFailure(RefErrno.ENOEXEC, "R-ELF-4")) }
        // R-ELF-5
        let typeOK = loader == .main ? (type == RefConst.ET_EXEC || type == RefConst.ET_DYN) : type == RefConst.ET_DYN
        if !typeOK { return .failure(RefFailure(RefErrno.ENOEXEC, "R-ELF-5")) }
        // R-ELF-6
        if loader == .main && openForWrite { return .failure(RefFailure(RefErrno.ETXTBSY, "R-ELF-6")) }
        // R-ELF-7: the whole table at e_phoff, with the kernel's struct size.
        let phsize: UInt64 = arch.is64 ? 56 : 32
        guard readable(b, phoff, phnum * phsize) else {
            return .failure(RefFailure(RefErrno.ENOEXEC, "R-ELF-7"))
        }
        var phdrs: [RefPhdr] = []
        phdrs.reserveCapacity(Int(phnum))
        for i in 0..<phnum {
            let o = phoff + i * phsize  // inside the table, which lies inside the file
            func f(_ at: UInt64, _ w: Int) -> UInt64 { RefBytes.uint(b, o + at, w, bigEndian: be)! }
            if arch.is64 {
                phdrs.append(
                    RefPhdr(
                        type: UInt32(f(0, 4)), flags: UInt32(f(4, 4)), offset: f(8, 8), vaddr: f(16, 8), paddr: f(24, 8),
                        filesz: f(32, 8), memsz: f(40, 8), align: f(48, 8)))
            } else {
                phdrs.append(
                    RefPhdr(
                        type: UInt32(f(0, 4)), flags: UInt32(f(24, 4)), offset: f(4, 4), vaddr: f(8, 4), paddr: f(12, 4),
                        filesz: f(16, 4), memsz: f(20, 4), align: f(28, 4)))
            }
        }
        return .success(RefImage(bytes: b, arch: arch, type: type, entry: entry, phoff: phoff, phdrs: phdrs))
    }

    /// Whether the bytes [at, at + n) can be read: all of them lie inside `b` (reading zero bytes
    /// always succeeds, wherever). `RefBytes.slice` without the copy, for reads made in place.
    static func readable(_ b: [UInt8], _ at: UInt64, _ n: UInt64) -> Bool {
        n == 0 || (at <= UInt64(b.count) && n <= UInt64(b.count) - at)
    }

    /// "OpenBSD", the note name R-ELF-12 looks for.
    static let openBSDName: [UInt8] = [0x4f, 0x70, 0x65, 0x6e, 0x42, 0x53, 0x44]

    /// R-ELF-8: p_align > 1 must be a power of two.
    static func alignOK(_ p: RefPhdr) -> Bool {
        p.align <= 1 || p.align & (p.align - 1) == 0
    }

    /// R-ELF-12 (corrected 2026-11-30): the note is required; EI_OSABI plays no part.
    /// D-NOTE-ROUND: namesz and descsz are rounded up to 4 and the note size summed, both in
    /// pointer width (on ILP32 sizes ≥ 0xFFFFFFFD become 0 and the walk may move backwards); the
    /// scan stops after 1025 notes, more than a 1024-byte segment can hold unless it loops.
    static func hasOpenBSDNote(_ img: RefImage) -> Bool {
        let be = img.arch.bigEndian
        let b = img.bytes
        var found = false
        for p in img.phdrs where p.type == RefConst.PT_NOTE {
            if p.filesz > RefConst.noteScanLimit { continue }
            // Reading zero bytes always succeeds, wherever they are; nothing to scan.
            if p.filesz == 0 { continue }
            // A segment that cannot be read ends the scan with no error of its own.
            guard readable(b, p.offset, p.filesz) else { return found }
            // Offsets below are from the segment's start (read in place: it lies inside the file).
            let seg = p.offset
            var off: UInt64 = 0
            var steps = 0
            while off + 12 <= p.filesz && steps <= 1024 {
                steps += 1
                let namesz = RefBytes.uint(b, seg + off, 4, bigEndian: be)!
                let descsz = RefBytes.uint(b, seg + off + 4, 4, bigEndian: be)!
                // roundup(x, sizeof(Elf_Word)) is computed in size_t: pointer width.
                let roundedName = ((namesz + 3) / 4 * 4) & img.arch.mask
                let roundedDesc = ((descsz + 3) / 4 * 4) & img.arch.mask
                let whole = (12 + roundedName + roundedDesc) & img.arch.mask
                let next = (off + whole) & img.arch.mask
                if next > p.filesz { break }
                // namesz ≥ 7 and the C string "OpenBSD": byte 7 is NUL, in the name or its padding.
                let nameAt = Int(seg + off + 12)
                if namesz >= 7 && off + 20 <= p.filesz && (0..<7).allSatisfy({ b[nameAt + $0] == openBSDName[$0] })
                    && b[nameAt + 7] == 0
                {
                    found = true
                }
                off = next
            }
        }
        return found
    }
}

/// What the main loader decided (R-ELF-6..17) and the static program's table (R-PT-11).
public struct RefMainLoad: Equatable, Sendable {
    public var image: RefImage
    public var hasInterp: Bool
    /// exe_base: 0 for ET_EXEC, the truncated load base for ET_DYN (R-PT-11).
    public var exeBase: UInt64
    /// The static program's PT_OPENBSD_SYSCALLS as read (nil: none, or the program has PT_INTERP).
    public var pin: RefPinLoad?
}

/// ld.so as the interpreter loader saw it (R-ELF-19..24, R-PT-12).
public struct RefInterpLoad: Equatable, Sendable {
    public var image: RefImage
    public var pin: RefPinLoad
}

extension RefElf {
    /// exec_elf_makecmds: R-ELF-1..17 in SPEC order, then the static table (R-PT-11).
    public static func loadMain(
        _ b: [UInt8], arch: RefArch, base: UInt64, openForWrite: Bool = false
    ) -> Result<RefMainLoad, RefFailure> {
        let img: RefImage
        switch readImage(b, arch: arch, loader: .main, openForWrite: openForWrite) {
        case .failure(let f): return .failure(f)
        case .success(let i): img = i
        }
        // Pass 1 (R-ELF-8..11), entry by entry.
        var hasInterp = false
        var basePhdr: RefPhdr?
        var hasPhdr = false
        for p in img.phdrs {
            if !alignOK(p) { return .failure(RefFailure(RefErrno.EINVAL, "R-ELF-8")) }
            if p.type == RefConst.PT_INTERP && !hasInterp {
                // R-ELF-9: size in [2, MAXPATHLEN], readable, NUL-terminated.
                if p.filesz < 2 || p.filesz > RefConst.maxPathLen { return .failure(RefFailure(RefErrno.ENOEXEC, "R-ELF-9")) }
                guard readable(b, p.offset, p.filesz) else {
                    return .failure(RefFailure(RefErrno.ENOEXEC, "R-ELF-9"))
                }
                // The path's last byte (p_filesz >= 2 here) must be its NUL.
                if b[Int(p.offset + p.filesz - 1)] != 0 { return .failure(RefFailure(RefErrno.ENOEXEC, "R-ELF-9")) }
                hasInterp = true
            }
            if p.type == RefConst.PT_LOAD {
                if p.filesz > p.memsz || p.memsz == 0 { return .failure(RefFailure(RefErrno.EINVAL, "R-ELF-10")) }
                if basePhdr == nil { basePhdr = p }
            }
            if p.type == RefConst.PT_PHDR { hasPhdr = true }
        }
        // R-ELF-12
        if !hasOpenBSDNote(img) { return .failure(RefFailure(RefErrno.ENOEXEC, "R-ELF-12")) }
        // R-ELF-13
        if img.type == RefConst.ET_DYN && (!hasPhdr || basePhdr == nil || basePhdr!.vaddr != 0) {
            return .failure(RefFailure(RefErrno.EINVAL, "R-ELF-13"))
        }
        // Pass 2 (R-ELF-14..16), entry by entry.
        var quota = RefConst.randomizeLimit
        var syscalls: RefPhdr?
        for p in img.phdrs {
            if p.type == RefConst.PT_SHLIB { return .failure(RefFailure(RefErrno.ENOEXEC, "R-ELF-14")) }
            if p.type == RefConst.PT_OPENBSD_RANDOMIZE {
                if p.memsz > quota { return .failure(RefFailure(RefErrno.ENOMEM, "R-ELF-15")) }
                quota -= p.memsz
            }
            if p.type == RefConst.PT_OPENBSD_SYSCALLS && !hasInterp { syscalls = p }  // the last wins
        }
        // R-PT-11: exe_base is the base PT_LOAD's load address truncated to its p_align, first.
        var exeBase: UInt64 = 0
        if img.type == RefConst.ET_DYN {
            exeBase = RefBytes.trunc(base & arch.mask, basePhdr!.align)
        }
        var pin: RefPinLoad?
        if let seg = syscalls {
            pin = RefPins.staticTable(img, segment: seg, exeBase: exeBase)
        }
        return .success(RefMainLoad(image: img, hasInterp: hasInterp, exeBase: exeBase, pin: pin))
    }

    /// elf_load_file for ld.so at `pos`: R-ELF-1..5/7 (interpreter), R-ELF-19, R-ELF-21..24, then
    /// the table (R-PT-12). The caller turns a failure into the R-ELF-25 kill.
    public static func loadInterpreter(_ b: [UInt8], arch: RefArch, pos: UInt64) -> Result<RefInterpLoad, RefFailure> {
        let img: RefImage
        switch readImage(b, arch: arch, loader: .interpreter) {
        case .failure(let f): return .failure(f)
        case .success(let i): img = i
        }
        // R-ELF-19
        for p in img.phdrs {
            if !alignOK(p) { return .failure(RefFailure(RefErrno.EINVAL, "R-ELF-19")) }
            if p.type == RefConst.PT_LOAD && (p.filesz > p.memsz || p.memsz == 0) {
                return .failure(RefFailure(RefErrno.EINVAL, "R-ELF-19"))
            }
        }
        // R-ELF-21..23 in table order.
        let mask = arch.mask
        var quota = RefConst.randomizeLimit
        var syscalls: RefPhdr?
        for p in img.phdrs {
            if p.type == RefConst.PT_LOAD {
                // The segment's extent: p_vaddr up to p_vaddr + p_memsz + its own truncation.
                let size = (p.memsz &+ (p.vaddr &- RefBytes.trunc(p.vaddr, p.align))) & mask
                let end = (p.vaddr &+ size) & mask
                if img.entry >= p.vaddr && img.entry < end && p.flags & RefConst.PF_W != 0 {
                    return .failure(RefFailure(RefErrno.ENOEXEC, "R-ELF-21"))
                }
            }
            if p.type == RefConst.PT_OPENBSD_RANDOMIZE {
                if p.memsz > quota { return .failure(RefFailure(RefErrno.ENOMEM, "R-ELF-22")) }
                quota -= p.memsz
            }
            if p.type == RefConst.PT_OPENBSD_SYSCALLS { syscalls = p }
        }
        // R-ELF-24
        guard let seg = syscalls else { return .failure(RefFailure(RefErrno.EINVAL, "R-ELF-24")) }
        return .success(RefInterpLoad(image: img, pin: RefPins.ldsoTable(img, segment: seg, pos: pos)))
    }
}
