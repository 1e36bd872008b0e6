import SysPinCore
import SysPinReference

/// FuzzELF: whole image bytes → the exec verdict of the main loader (at a few load bases) and of
/// the interpreter loader (at two positions), each compared whole with the independent reference
/// (SysPinReference): errno, rule, region bounds, every pin, the raw entries; then the pin check of
/// the installed table under both policies on probe addresses; then libelf's program headers.
///
/// Invariants: INV-REF-ARCH (default arch per CONTRACT), INV-REF-EXEC (verdicts, the once-flag
/// and kbind start of R-PT-16/R-KB-14), INV-REF-PINS (presence, discard rule, entries, pins before
/// rebasing), INV-REF-REGION (bounds and rebased pins), INV-REF-PINCHECK, INV-REF-PHDR (the core's
/// program headers against the reference's own read), INV-NPINS / INV-LDSO-KBIND (I-1),
/// INV-PIN-COMPLETE / INV-PIN-MISSING, INV-PT-INPLACE (the in-place record reader against the
/// copying one), INV-LIBELF-PHDR. The main loader also judges the image as a file open for
/// writing (R-ELF-6, INV-REF-EXEC).
public enum FuzzELF {
    public static func run(_ bytes: [UInt8]) throws(InvariantViolation) {
        let refArch: RefArch
        switch (ExecRules.inferArch(bytes), RefElf.deriveArch(bytes)) {
        case (.success(let c), .success(let r)):
            try require(c.name == r.name, "INV-REF-ARCH", "core derives \(c.name), reference \(r.name)")
            refArch = r
        case (let c, let r):
            try RefCompare.results(c, r, "INV-REF-ARCH", "default arch")
            return
        }
        let arch = Arch.named(refArch.name)!
        try checkLoaders(bytes, arch: arch)
        try compareWithLibElf(bytes, arch: arch)
    }

    /// Load bases for the main loader: none, an unaligned one (R-PT-11 truncation), one above 4 GiB
    /// (R-PT-9's 32-bit delta); positions for ld.so likewise.
    static func bases(_ arch: Arch) -> [UInt64] {
        arch.pointerBytes == 8 ? [0, 0x4000_1000, 0x1_0001_3000] : [0, 0x4000_1000]
    }

    static func positions(_ arch: Arch) -> [UInt64] {
        arch.pointerBytes == 8 ? [0x2000_0000, 0x7_0000_5000] : [0x2000_0000]
    }

    static func checkLoaders(_ bytes: [UInt8], arch: Arch) throws(InvariantViolation) {
        let ra = RefArch(arch)
        let seed = FuzzSeed.of(bytes)
        for base in bases(arch) {
            func at() -> String { "\(arch.name) main loader at base 0x\(String(base, radix: 16))" }
            try judgeLoad(
                ExecLoaders.loadMain(bytes, arch: arch, base: base), RefElf.loadMain(bytes, arch: ra, base: base), isLdso: false,
                arch: arch, seed: seed, at: at
            ) { (plan, r) throws(InvariantViolation) in
                try require(RefCompare.samePhdrs(plan.image.phdrs, r.image.phdrs), "INV-REF-PHDR", "\(at()): program headers differ")
                try require(
                    plan.hasInterp == r.hasInterp && plan.pinsyscallsOnce == !r.hasInterp
                        && plan.kbindDisabled == (!r.hasInterp && r.image.type == 3),
                    "INV-REF-EXEC",
                    "\(at()): core interp \(plan.hasInterp) once \(plan.pinsyscallsOnce) kbind off \(plan.kbindDisabled), reference interp \(r.hasInterp) type \(r.image.type) (R-PT-16, R-KB-14)")
                // The strict table as a process holds it (ProcessModel.exec attaches the sites).
                let strict = plan.hasInterp ? nil : ProcessModel.exec(program: bytes, base: base, interpreter: nil, arch: arch, policy: .strict).1?.main
                return (plan.pinLayout.map { ($0.parse, $0.region) }, r.pin, strict)
            }
        }
        // R-ELF-6 in its place among the header checks: the same image, open for writing.
        try RefCompare.results(
            ExecLoaders.loadMain(bytes, arch: arch, base: 0, openForWrite: true),
            RefElf.loadMain(bytes, arch: ra, base: 0, openForWrite: true), "INV-REF-EXEC",
            "\(arch.name) main loader, file open for writing")
        for pos in positions(arch) {
            func at() -> String { "\(arch.name) interpreter loader at 0x\(String(pos, radix: 16))" }
            var ref = RefElf.loadInterpreter(bytes, arch: ra, pos: pos)
            // The core's loader reports a short header under R-ELF-25 itself (D-INTERP-SHORT); the
            // reference leaves that to its execve, so its loader's R-ELF-1 is compared as R-ELF-25.
            if case .failure(let f) = ref, f.verdict.rule == "R-ELF-1" {
                ref = .failure(RefFailure(verdict: RefVerdict(errno: f.verdict.errno, signal: f.verdict.signal, rule: "R-ELF-25")))
            }
            try judgeLoad(
                ExecLoaders.loadInterpreter(bytes, arch: arch, pos: pos), ref,
                isLdso: true, arch: arch, seed: seed, at: at
            ) { (l, r) throws(InvariantViolation) in
                let strict = l.region?.withStrictSites(recorded: l.pinTable.entries, origin: pos & arch.addressMask, mask: arch.addressMask)
                return ((l.pinTable, l.region), r.pin, strict)
            }
        }
    }

    /// One loader's outcome in both models (INV-REF-EXEC); where both loaded, `table` checks what
    /// else the loader decided and gives the tables, which `compareTable` then judges.
    static func judgeLoad<A, B>(
        _ core: Result<A, ExecRejection>, _ ref: Result<B, RefFailure>, isLdso: Bool, arch: Arch, seed: UInt64,
        at: () -> String,
        table: (A, B) throws(InvariantViolation) -> ((parse: PinTableParse, region: PinRegion?)?, RefPinLoad?, strict: PinRegion?)
    ) throws(InvariantViolation) {
        try RefCompare.results(core, ref, "INV-REF-EXEC", at())
        guard case .success(let c) = core, case .success(let r) = ref else { return }
        let (coreTable, refTable, strict) = try table(c, r)
        try compareTable(coreTable, refTable, strict: strict, isLdso: isLdso, arch: arch, seed: seed, at: at())
    }

    /// A loader's table against the reference's, the table's own invariants, then the pin check of
    /// both policies on probes (`strict` is the region with its strict sites attached).
    static func compareTable(
        _ core: (parse: PinTableParse, region: PinRegion?)?, _ ref: RefPinLoad?, strict: PinRegion?, isLdso: Bool, arch: Arch,
        seed: UInt64, at: @autoclosure () -> String
    ) throws(InvariantViolation) {
        try require((core == nil) == (ref == nil), "INV-REF-PINS", "\(at()): core \(core == nil ? "has no" : "has a") table, reference \(ref == nil ? "none" : "one")")
        guard let core, let ref else { return }
        let parse = core.parse
        var rule: String?
        if case .discarded(let r, _) = parse { rule = r.rawValue }
        try require(
            rule == ref.parse.discardedBy && RefCompare.sameEntries(parse.entries, ref.parse.entries)
                && parse.pins == ref.parse.pins,
            "INV-REF-PINS",
            "\(at()): core \(rule ?? "built") with \(parse.entries.count) entries, npins \(parse.pins?.count ?? 0); reference \(ref.parse.discardedBy ?? "built") with \(ref.parse.entries.count) entries, npins \(ref.parse.pins?.count ?? 0)")
        try RefCompare.tables(core.region, ref.table, "INV-REF-REGION", at())
        if let region = core.region, let pins = parse.pins {
            try PinInvariants.shape(pins, isLdso: isLdso)
            try PinInvariants.completeness(region: region, entries: parse.entries, delta: ref.delta, isLdso: isLdso, arch: arch)
        }
        // Every policy on every table (a superset of drawing one from the input): the region
        // policies see the region as ld.so's or the static program's, as exec would install it.
        for policy in RefPolicy.comparable {
            try RefProbes.pinCheck(
                libc: nil, refLibc: nil, main: policy == .strict ? strict : core.region, refMain: ref.table, sigtramp: nil,
                arch: arch, policy: policy, trusted: TrustedText(mainIsRuntimeLinker: isLdso), seed: seed, at: at())
        }
    }

    /// Disagreements with libelf that SPEC explains, each tied to the field that causes it. Any
    /// other difference is a violation.
    public enum LibElfDifference: String, CaseIterable, Sendable {
        /// libelf refuses an image whose e_phentsize is not its struct size; the kernel ignores
        /// e_phentsize and uses its own struct (R-ELF-7). Excuses a refusal only.
        case phentsizeIgnored = "R-ELF-7 e_phentsize"
        /// libelf validates the section header table (e_shoff/e_shnum inside the file); the
        /// kernel never reads section headers. Excuses a refusal only.
        case sectionHeaders = "kernel reads no section headers"
        /// libelf takes e_phoff 0 to mean "no program header table"; the kernel reads e_phnum
        /// entries at offset 0 like any other offset (R-ELF-7). Excuses a refusal or an empty
        /// table, only when e_phoff == 0.
        case phoffZero = "R-ELF-7 e_phoff 0"
    }

    /// Where the kernel's reader accepted the header and phdr table, its program headers must equal
    /// the reference's own read, and libelf's gelf_getphdr must see the same ones unless a
    /// classified difference explains it.
    static func compareWithLibElf(_ bytes: [UInt8], arch: Arch) throws(InvariantViolation) {
        // The main loader's header checks accept every e_type the interpreter loader does.
        let core = ExecRules.readImage(bytes, arch: arch, loader: .main)
        let ref = RefElf.readImage(bytes, arch: RefArch(arch), loader: .main)
        try RefCompare.results(core, ref, "INV-REF-PHDR", "\(arch.name) header read")
        guard case .success(let image) = core, case .success(let mine) = ref else { return }
        try require(RefCompare.samePhdrs(image.phdrs, mine.phdrs), "INV-REF-PHDR", "\(arch.name): core and reference read different program headers")
        // The in-place record reader (`entries(in:)`, for callers that avoid the copy) reads what
        // the copying one reads from the segment's bytes inside the file.
        for seg in image.phdrs where seg.type == .openbsdSyscalls {
            let copied = PinTableReader.entries(image.bytesAvailable(offset: seg.offset, length: seg.filesz), endian: image.header.endian)
            let inPlace = PinTableReader.entries(in: image.view, offset: seg.offset, length: seg.filesz)
            try require(
                inPlace == copied, "INV-PT-INPLACE",
                "\(arch.name): in-place reader \(inPlace.count) entries, copying reader \(copied.count)")
        }
        // With no program headers there is nothing to compare; without the LibElf trait (a build
        // with Swift alone) the reference read above is the only comparison.
        if image.phdrs.isEmpty { return }
        #if LibElf
            try compareLibElfRead(bytes, image)
        #endif
    }

    #if LibElf
    static func compareLibElfRead(_ bytes: [UInt8], _ image: ElfImage) throws(InvariantViolation) {
        guard let theirs = LibElf.programHeaders(bytes) else {
            if refusalExcuse(image) != nil { return }
            throw InvariantViolation("INV-LIBELF-PHDR", "libelf cannot read program headers the kernel reads (\(image.phdrs.count) phdrs, e_phentsize \(image.header.phentsize)): \(LibElf.lastError)")
        }
        if theirs == image.phdrs { return }
        // The core's headers were already checked against the reference's read above.
        if image.header.phoff == 0 && theirs.isEmpty { return }
        let i = zip(theirs, image.phdrs).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(theirs.count, image.phdrs.count)
        throw InvariantViolation("INV-LIBELF-PHDR", "phdr \(i) differs: libelf \(i < theirs.count ? "\(theirs[i])" : "none"), core \(i < image.phdrs.count ? "\(image.phdrs[i])" : "none")")
    }
    #endif

    /// The field that explains libelf refusing an image the kernel reads, if any.
    static func refusalExcuse(_ image: ElfImage) -> LibElfDifference? {
        let h = image.header
        if h.phoff == 0 { return .phoffZero }
        if Int(h.phentsize) != h.elfClass.phdrSize { return .phentsizeIgnored }
        // elfutils validates the section header table's bounds when e_shnum/e_shoff are set
        // (and reads sh_info of section 0 for PN_XNUM); the kernel never looks at it.
        let shSize = UInt64(h.shentsize) * UInt64(h.shnum)
        if h.shoff != 0 && (h.shoff > UInt64(image.bytes.count) || shSize > UInt64(image.bytes.count) - h.shoff) {
            return .sectionHeaders
        }
        if h.shnum == 0 && h.shoff != 0 { return .sectionHeaders }
        return nil
    }
}
