/// What the main loader (exec_elf_makecmds, §4.2–4.3) decided for an accepted image, and the
/// state the process starts with at exec commit (R-PT-15, R-PT-16, R-KB-14).
public struct ExecPlan: Sendable {
    public var image: ElfImage
    /// The first PT_INTERP's path bytes (without the NUL), nil for a static program.
    public var interpPath: [UInt8]?
    /// The PT_OPENBSD_SYSCALLS the loader records (R-ELF-16: last one, static programs only).
    public var pinSegment: ProgramHeader?
    /// ps_pin after exec for a static program (R-PT-11): the text span, the parse result and,
    /// when it was not discarded, the region. nil when there is no table to read.
    public var pinLayout: PinLayout?
    /// exe_base: 0 for ET_EXEC; for a PIE the requested base truncated to the base PT_LOAD's
    /// p_align (R-PT-11). Pin-table offsets count from it.
    public var loadBase: UInt64
    public var pinTable: PinTableParse? { pinLayout?.parse }
    public var region: PinRegion? { pinLayout?.region }
    /// R-PT-16: static programs may not call pinsyscalls.
    public var pinsyscallsOnce: Bool { interpPath == nil }
    /// R-PT-15 / R-KB-14: a program with ELF args but no interpreter (static PIE) starts with kbind
    /// disabled; static ET_EXEC programs keep 0.
    public var kbindDisabled: Bool { interpPath == nil && image.header.type == .dyn }

    public var hasInterp: Bool { interpPath != nil }
}

/// What the interpreter loader (elf_load_file, §4.4) produced: ld.so's pin table.
public struct InterpLoad: Sendable {
    public var image: ElfImage
    public var pinSegment: ProgramHeader
    /// ld.so's text span and table at its load address (R-PT-12).
    public var layout: PinLayout
    public var pinTable: PinTableParse { layout.parse }
    /// ps_pin for the process, nil when the table was discarded (R-PT-12: no exec error).
    public var region: PinRegion? { layout.region }
}

/// The text span and pin table of an image, computed as one of the two loaders would (R-PT-11/12).
/// The loader reads the table in place and builds only the region; `parse` (the entries and the
/// unrebased pins) is produced from the image when asked for.
public struct PinLayout: Sendable {
    /// The table as read: where it lies and the rule that discarded it, if any.
    public var table: PinTableRead
    public var region: PinRegion?
    /// The region bounds even when the table is discarded (for reports).
    public var start: UInt64
    public var end: UInt64

    public var parse: PinTableParse { table.parse }
    /// The rule that discarded the table (R-PT-1..4), nil when it was built.
    public var discardedBy: RuleID? { table.discardedBy }
}

public enum ExecLoaders {
    /// exec_elf_makecmds for the execve target. `base` is the load address of an ET_DYN image
    /// (ignored for ET_EXEC).
    ///
    /// Inlinable so a caller's `Result` is filled in place: `execMainPlan` returns the plan (a few
    /// hundred bytes) straight into it and throws a rejection, where a Result returned through a
    /// non-inlined function was built once and copied three times on the way out (rule failures
    /// and success merged into one returned value, then the signature thunk's copy).
    @inlinable
    public static func loadMain(
        _ bytes: [UInt8], arch: Arch, base: UInt64 = 0, openForWrite: Bool = false,
        config: KernelConfig = .openbsd
    ) -> Result<ExecPlan, ExecRejection> {
        Result { () throws(ExecRejection) in
            try execMainPlan(bytes, arch: arch, base: base, openForWrite: openForWrite, config: config)
        }
    }

    /// R-PT-11: the text span and table of a static program (ET_EXEC, or static PIE at `base`).
    ///
    /// Decision (SPEC R-PT-11 edge, UNVERIFIED): with no text PT_LOAD the kernel never sets the
    /// span; we model T0 = T1 = 0, so the table is parsed with len = 0 − base and installed with an
    /// empty region [0, 0) that no address can match: every system call then dies.
    public static func staticLayout(
        _ image: ElfImage, segment: ProgramHeader, base: UInt64, arch: Arch,
        config: KernelConfig = .openbsd
    ) -> PinLayout {
        let mask = arch.addressMask
        var t0: UInt64 = 0
        var t1: UInt64 = 0
        var first = true
        for ph in image.phdrs where ph.type == .load && !ph.isWritable && ph.isExecutable {
            // R-ELF-17: writable is checked first, so a W+X segment is data.
            let truncated = ExecRules.trunc(ph.vaddr, ph.align)
            let addr = (truncated &+ base) & mask
            let size = (ph.memsz &+ (ph.vaddr &- truncated)) & mask
            // The kernel's "first" is ep_tsize == ELF_NO_ADDR (all ones): a span whose size is all
            // ones starts afresh at the next text segment.
            if first || (t1 &- t0) & mask == mask {
                t0 = addr
                t1 = (addr &+ size) & mask
                first = false
            } else if addr < t0 {
                t0 = addr  // grows downward, keeps the old end
            } else {
                t1 = (addr &+ size) & mask  // may shrink the span: modelled as the kernel does
            }
        }
        let len = (t1 &- base) & mask
        let delta = (t0 &- base) & mask
        let (table, region) = PinTableReader.read(
            image.bytes, at: segment, endian: image.header.endian, isLdso: false, len: len, start: base & mask,
            delta: delta, mask: mask, config: config)
        return PinLayout(table: table, region: region, start: t0, end: t1)
    }

    /// R-PT-12: ld.so's text span and table, loaded at `pos`.
    ///
    /// The first PT_LOAD is placed at the absolute `pos`; later ones at their offset from the
    /// first p_vaddr; text_start/text_end are the min/max over executable PT_LOADs (the quirk that
    /// an executable first PT_LOAD makes text_start absolute is reproduced, SPEC R-PT-12).
    public static func interpLayout(
        _ image: ElfImage, segment: ProgramHeader, pos: UInt64, arch: Arch,
        config: KernelConfig = .openbsd
    ) -> PinLayout {
        let mask = arch.addressMask
        var textStart = mask
        var textEnd: UInt64 = 0
        var firstVaddr: UInt64?
        for ph in image.phdrs where ph.type == .load {
            let uaddr: UInt64
            if let fv = firstVaddr {
                uaddr = (ph.vaddr &- fv) & mask
            } else {
                firstVaddr = ph.vaddr
                uaddr = pos & mask
            }
            // elf_load_psection reads an address of all ones as ELF_NO_ADDR, "none given", and
            // loads the segment at its own p_vaddr (a later segment 1 byte below the first).
            let addr = ExecRules.trunc(uaddr == mask ? ph.vaddr & mask : uaddr, ph.align)
            // elf_load_psection: the size grows by p_vaddr's own truncation, not by the
            // relocated address's (they differ when the first PT_LOAD's p_vaddr is unaligned).
            let size = (ph.memsz &+ (ph.vaddr &- ExecRules.trunc(ph.vaddr, ph.align))) & mask
            if ph.isExecutable && !ph.isWritable {
                textStart = min(textStart, addr)
                textEnd = max(textEnd, (addr &+ size) & mask)
            }
        }
        let (table, region) = PinTableReader.read(
            image.bytes, at: segment, endian: image.header.endian, isLdso: true, len: textEnd, start: pos & mask,
            delta: textStart, mask: mask, config: config)
        return PinLayout(table: table, region: region, start: (pos &+ textStart) & mask, end: (pos &+ textEnd) & mask)
    }

    /// elf_load_file for ld.so at `pos` (§4.4). Every error here comes after execve's point of no
    /// return (R-ELF-25): callers report it as killed(SIGABRT) with the errno as diagnostic.
    public static func loadInterpreter(
        _ bytes: [UInt8], arch: Arch, pos: UInt64, config: KernelConfig = .openbsd
    ) -> Result<InterpLoad, ExecRejection> {
        let image: ElfImage
        switch ExecRules.readImage(bytes, arch: arch, loader: .interpreter) {
        case .failure(let r) where r.rule == "R-ELF-1":
            // R-ELF-25 (D-INTERP-SHORT): an interpreter shorter than its ELF header is reported
            // under R-ELF-25 itself, like a missing one; the errno (ENOEXEC) is kept.
            return .failure(.init(r.errno, "R-ELF-25", r.detail))
        case .failure(let r): return .failure(r)  // R-ELF-5: INTERP collapses header failures to ENOEXEC
        case .success(let i): image = i
        }
        // R-ELF-19
        for (i, ph) in image.phdrs.enumerated() {
            guard ExecRules.alignIsValid(ph) else {
                return .failure(.init(.EINVAL, "R-ELF-19", "program header \(i): p_align \(ph.align) is not a power of two"))
            }
            if ph.type == .load && (ph.filesz > ph.memsz || ph.memsz == 0) {
                return .failure(.init(.EINVAL, "R-ELF-19", "PT_LOAD \(i): p_filesz \(ph.filesz), p_memsz \(ph.memsz)"))
            }
        }
        // The loading loop: R-ELF-21..23 in table order.
        let mask = arch.addressMask
        var randomized: UInt64 = 0
        var pinSegment: ProgramHeader?
        let entry = image.header.entry
        for (i, ph) in image.phdrs.enumerated() {
            switch ph.type {
            case .load:
                let size = (ph.memsz &+ (ph.vaddr &- ExecRules.trunc(ph.vaddr, ph.align))) & mask
                if entry >= ph.vaddr && entry < (ph.vaddr &+ size) & mask && ph.isWritable {
                    return .failure(.init(.ENOEXEC, "R-ELF-21", "PT_LOAD \(i) holds e_entry and is writable"))
                }
            case .openbsdRandomize:
                let (sum, o) = randomized.addingReportingOverflow(ph.memsz)
                guard !o, sum <= config.randomizeLimit else {
                    return .failure(.init(.ENOMEM, "R-ELF-22", "PT_OPENBSD_RANDOMIZE total exceeds \(config.randomizeLimit) bytes"))
                }
                randomized = sum
            case .openbsdSyscalls:
                pinSegment = ph  // R-ELF-23
            default: break
            }
        }
        guard let seg = pinSegment else {
            return .failure(.init(.EINVAL, "R-ELF-24", "interpreter has no PT_OPENBSD_SYSCALLS"))
        }
        let layout = interpLayout(image, segment: seg, pos: pos, arch: arch, config: config)
        return .success(InterpLoad(image: image, pinSegment: seg, layout: layout))
    }
}

/// `ExecLoaders.loadMain` with the rejection thrown (see there). A free function: a static one's
/// unused metatype parameter gets it a signature-optimised copy behind a thunk, and the thunk
/// copies the returned plan.
@usableFromInline
func execMainPlan(
    _ bytes: [UInt8], arch: Arch, base: UInt64, openForWrite: Bool, config: KernelConfig
) throws(ExecRejection) -> ExecPlan {
    let image = try ExecRules.readImage(bytes, arch: arch, loader: .main, openForWrite: openForWrite).get()
    // Pass 1 (§4.2), per entry in table order.
    var interpPath: [UInt8]?
    var sawInterp = false
    var baseLoad: ProgramHeader?
    var hasPhdr = false
    for (i, ph) in image.phdrs.enumerated() {
        guard ExecRules.alignIsValid(ph) else {
            throw ExecRejection(.EINVAL, "R-ELF-8", "program header \(i): p_align \(ph.align) is not a power of two")
        }
        switch ph.type {
        case .interp where !sawInterp:
            sawInterp = true
            guard ph.filesz >= 2, ph.filesz <= config.maxPathLen else {
                throw ExecRejection(.ENOEXEC, "R-ELF-9", "PT_INTERP \(i): p_filesz \(ph.filesz) outside [2, \(config.maxPathLen)]")
            }
            guard let path = image.view.subrange(offset: ph.offset, length: ph.filesz) else {
                throw ExecRejection(.ENOEXEC, "R-ELF-9", "PT_INTERP \(i): path at \(ph.offset) runs past the end of the file")
            }
            guard path.last == 0 else {
                throw ExecRejection(.ENOEXEC, "R-ELF-9", "PT_INTERP \(i): path is not NUL-terminated")
            }
            interpPath = Array(path.dropLast())
        case .load:
            guard ph.filesz <= ph.memsz, ph.memsz != 0 else {
                throw ExecRejection(.EINVAL, "R-ELF-10", "PT_LOAD \(i): p_filesz \(ph.filesz), p_memsz \(ph.memsz)")
            }
            if baseLoad == nil { baseLoad = ph }
        case .phdr:
            hasPhdr = true
        default: break
        }
    }
    // R-ELF-12: the OpenBSD note is required; EI_OSABI plays no part.
    guard ExecRules.hasOpenBSDNote(image) else {
        throw ExecRejection(.ENOEXEC, "R-ELF-12", "no readable PT_NOTE holds an \"OpenBSD\" note")
    }
    // R-ELF-13
    if image.header.type == .dyn {
        guard hasPhdr, let b = baseLoad, b.vaddr == 0 else {
            throw ExecRejection(.EINVAL, "R-ELF-13", "ET_DYN needs PT_PHDR and a first PT_LOAD at p_vaddr 0")
        }
    }
    // Pass 2 (§4.3).
    var randomized: UInt64 = 0
    var pinSegment: ProgramHeader?
    for (i, ph) in image.phdrs.enumerated() {
        switch ph.type {
        case .shlib:
            throw ExecRejection(.ENOEXEC, "R-ELF-14", "program header \(i) is PT_SHLIB")
        case .openbsdRandomize:
            let (sum, o) = randomized.addingReportingOverflow(ph.memsz)
            guard !o, sum <= config.randomizeLimit else {
                throw ExecRejection(.ENOMEM, "R-ELF-15", "PT_OPENBSD_RANDOMIZE total exceeds \(config.randomizeLimit) bytes")
            }
            randomized = sum
        case .openbsdSyscalls where interpPath == nil:
            pinSegment = ph  // R-ELF-16: the last one wins
        default: break
        }
    }
    // R-PT-11: a PIE's load base is truncated to its base PT_LOAD's p_align (ELF_TRUNC in
    // elf_load_psection; the result becomes exe_base). ET_EXEC loads at 0.
    let loadBase = image.header.type == .dyn ? ExecRules.trunc(base & arch.addressMask, baseLoad?.align ?? 0) : 0
    let layout = pinSegment.map {
        ExecLoaders.staticLayout(image, segment: $0, base: loadBase, arch: arch, config: config)
    }
    return ExecPlan(image: image, interpPath: interpPath, pinSegment: pinSegment, pinLayout: layout, loadBase: loadBase)
}
