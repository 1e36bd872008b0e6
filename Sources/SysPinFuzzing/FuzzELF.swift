import SysPinCore
import SysPinReference

/// FuzzELF: whole image bytes → the exec verdict of the main loader (at a few load bases) and of
/// the interpreter loader (at two positions), each compared whole with the independent reference
/// (SysPinReference): errno, rule, region bounds, every pin, the raw entries; then the pin check of
/// the installed table under every comparable policy on probe addresses (once per table: a table
/// that repeats one already probed, or is the same table moved whole to another base, is not probed again,
/// `ProbedTables`); then libelf's program headers.
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
        let read = try checkLoaders(bytes, arch: arch)
        try compareWithLibElf(bytes, arch: arch, read: read)
    }

    /// Load bases for the main loader: none, an unaligned one (R-PT-11 truncation), one above 4 GiB
    /// (R-PT-9's 32-bit delta); positions for ld.so likewise.
    static func bases(_ arch: Arch) -> [UInt64] {
        arch.pointerBytes == 8 ? [0, 0x4000_1000, 0x1_0001_3000] : [0, 0x4000_1000]
    }

    static func positions(_ arch: Arch) -> [UInt64] {
        arch.pointerBytes == 8 ? [0x2000_0000, 0x7_0000_5000] : [0x2000_0000]
    }

    /// Returns the header read of the first base's main loader when both models loaded the image
    /// there (`ExecRules.readImage` with the main loader, the same call `compareWithLibElf` makes).
    @discardableResult
    static func checkLoaders(_ bytes: [UInt8], arch: Arch) throws(InvariantViolation) -> ElfImage? {
        let ra = RefArch(arch)
        let seed = FuzzSeed.of(bytes)
        var probed = ProbedTables()
        var read: ElfImage?
        for base in bases(arch) {
            func at() -> String { "\(arch.name) main loader at base 0x\(String(base, radix: 16))" }
            try judgeLoad(
                ExecLoaders.loadMain(bytes, arch: arch, base: base), RefElf.loadMain(bytes, arch: ra, base: base), isLdso: false,
                arch: arch, place: base, probed: &probed, at: at
            ) { (plan, r) throws(InvariantViolation) in
                try require(RefCompare.samePhdrs(plan.image.phdrs, r.image.phdrs), "INV-REF-PHDR", "\(at()): program headers differ")
                if base == 0 { read = plan.image }
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
        try probe(&probed, arch: arch, seed: seed)
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
                isLdso: true, arch: arch, place: pos, probed: &probed, at: at
            ) { (l, r) throws(InvariantViolation) in
                let parse = l.pinTable  // decoded once, for the strict sites and the comparison
                let strict = l.region?.withStrictSites(recorded: parse.entries, origin: pos & arch.addressMask, mask: arch.addressMask)
                return ((parse, l.region), r.pin, strict)
            }
        }
        try probe(&probed, arch: arch, seed: seed)
        return read
    }

    /// The pin check, under every comparable policy on probes, of the tables the loads since the
    /// last call left pending, from the highest base or position down: a table that repeats one
    /// already probed, or is the same table moved whole (`ProbedTables`), is not probed again, so the probes
    /// run where the addresses are widest (above 4 GiB on LP64) and the lower bases are derived.
    /// One copy for both loaders (no closure to specialise it on): the label is formatted from the
    /// table's loader and place, only when a probe fails.
    @inline(never)
    static func probe(_ probed: inout ProbedTables, arch: Arch, seed: UInt64) throws(InvariantViolation) {
        let pending = probed.pending
        probed.pending.removeAll(keepingCapacity: true)
        for (t, place) in pending.reversed() {
            if probed.covers(t, mask: arch.addressMask) { continue }
            probed.seen.append(t)
            // The label captures two scalars and the arch's name, not the tables.
            let isLdso = t.isLdso, name = arch.name
            // The region policies see the region as ld.so's or the static program's, as exec
            // would install it; strict sees it with its recorded sites attached.
            for policy in RefPolicy.comparable {
                try RefProbes.pinCheck(
                    libc: nil, refLibc: nil, main: policy == .strict ? t.strict : t.main, refMain: t.ref, sigtramp: nil,
                    arch: arch, policy: policy, trusted: TrustedText(mainIsRuntimeLinker: isLdso), seed: seed,
                    at: isLdso
                        ? "\(name) interpreter loader at 0x\(String(place, radix: 16))"
                        : "\(name) main loader at base 0x\(String(place, radix: 16))")
            }
        }
    }

    /// One loader's outcome in both models (INV-REF-EXEC); where both loaded, `table` checks what
    /// else the loader decided and gives the tables, which `compareTable` then judges.
    static func judgeLoad<A, B>(
        _ core: Result<A, ExecRejection>, _ ref: Result<B, RefFailure>, isLdso: Bool, arch: Arch, place: UInt64,
        probed: inout ProbedTables, at: () -> String,
        table: (A, B) throws(InvariantViolation) -> ((parse: PinTableParse, region: PinRegion?)?, RefPinLoad?, strict: PinRegion?)
    ) throws(InvariantViolation) {
        try RefCompare.results(core, ref, "INV-REF-EXEC", at())
        guard case .success(let c) = core, case .success(let r) = ref else { return }
        let (coreTable, refTable, strict) = try table(c, r)
        try compareTable(coreTable, refTable, strict: strict, isLdso: isLdso, arch: arch, place: place, probed: &probed, at: at())
    }

    /// A loader's table against the reference's and the table's own invariants; the tables are
    /// left pending for the pin check (`probe`; `strict` is the region with its strict sites
    /// attached, `place` the load base or position).
    static func compareTable(
        _ core: (parse: PinTableParse, region: PinRegion?)?, _ ref: RefPinLoad?, strict: PinRegion?, isLdso: Bool, arch: Arch,
        place: UInt64, probed: inout ProbedTables, at: @autoclosure () -> String
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
        // Every policy on every table (a superset of drawing one from the input), once the loads
        // at every base are judged (`probe`).
        probed.pending.append((ProbedTables.Tables(main: core.region, strict: strict, ref: ref.table, isLdso: isLdso), place))
    }

    /// The tables whose pin check one input has probed, so that a table the probes would only
    /// repeat is judged once. Both checks (`PinCheck.check`, `RefPinCheck.check`) are pure
    /// functions of the tables and the probe, and `RefProbes.pinCheck` draws its probes from the
    /// tables and the input's seed alone, so:
    /// - the same tables again (a discarded table at every load base, an ET_EXEC image, which
    ///   loads at 0 whatever the base) give the same verdicts;
    /// - tables moved whole by some d, up or down (every bound by d, the same pins and recorded
    ///   sites, which are relative to the region's start) give, for each probe, the verdict of the
    ///   probe moved back by d, as long as no bound crosses either end of the address space:
    ///   region membership (start <= a < end), a site's address (start + pin) and a site's
    ///   offset (a - start) all move with it. The only probes that do not move are the fixed
    ///   addresses 0 and the mask. The mask is never inside a region (end <= mask); 0 is inside
    ///   only as the region's start, the moved start probe; outside every region the verdict of a
    ///   code depends on no table's position (no region holds the address), and the probed table's
    ///   `end` row, with the same fixed codes, already judged it under each policy.
    /// The loads at every base are still compared whole (verdict, pins, region bounds); only
    /// the probes of such a repeated or moved table are skipped. `probe` takes the tables from the
    /// highest base down, so the table probed is the one at the widest addresses.
    struct ProbedTables {
        struct Tables {
            var main: PinRegion?
            var strict: PinRegion?
            var ref: RefTable?
            var isLdso: Bool
        }

        var seen: [Tables] = []
        /// Tables loaded but not yet probed, with their load base or position.
        var pending: [(Tables, place: UInt64)] = []

        func covers(_ t: Tables, mask: UInt64) -> Bool {
            seen.contains { Self.moved($0, to: t, mask: mask) }
        }

        /// Whether `b` is `a` moved by one offset d, up or down, without any bound crossing either
        /// end of the address space (d = 0: the same tables).
        static func moved(_ a: Tables, to b: Tables, mask: UInt64) -> Bool {
            guard a.isLdso == b.isLdso else { return false }
            // The move of the first bounds compared, as a direction and a distance.
            var shift: (up: Bool, by: UInt64)?
            func same(_ x: (up: Bool, by: UInt64), _ y: (up: Bool, by: UInt64)) -> Bool {
                x.by == y.by && (x.by == 0 || x.up == y.up)
            }
            func bounds(_ s0: UInt64, _ e0: UInt64, _ s1: UInt64, _ e1: UInt64) -> Bool {
                guard s0 <= mask, e0 <= mask, s1 <= mask, e1 <= mask else { return false }
                let s = s1 >= s0 ? (up: true, by: s1 - s0) : (up: false, by: s0 - s1)
                let e = e1 >= e0 ? (up: true, by: e1 - e0) : (up: false, by: e0 - e1)
                guard same(s, e) else { return false }
                if let shift { return same(shift, s) }
                shift = s
                return true
            }
            func region(_ x: PinRegion?, _ y: PinRegion?) -> Bool {
                guard let x, let y else { return x == nil && y == nil }
                return bounds(x.start, x.end, y.start, y.end) && x.pins == y.pins && x.exactSites == y.exactSites
            }
            guard region(a.main, b.main), region(a.strict, b.strict) else { return false }
            guard let x = a.ref, let y = b.ref else { return a.ref == nil && b.ref == nil }
            return bounds(x.start, x.end, y.start, y.end) && x.pins == y.pins && x.sites == y.sites
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
    ///
    /// `read` is the main loader's image at base 0 where both models loaded it: its header read
    /// is this one, already compared whole (INV-REF-EXEC, INV-REF-PHDR), so it is not read again.
    static func compareWithLibElf(_ bytes: [UInt8], arch: Arch, read: ElfImage? = nil) throws(InvariantViolation) {
        let image: ElfImage
        if let read {
            image = read
        } else {
            // The main loader's header checks accept every e_type the interpreter loader does.
            let core = ExecRules.readImage(bytes, arch: arch, loader: .main)
            let ref = RefElf.readImage(bytes, arch: RefArch(arch), loader: .main)
            try RefCompare.results(core, ref, "INV-REF-PHDR", "\(arch.name) header read")
            guard case .success(let i) = core, case .success(let mine) = ref else { return }
            try require(RefCompare.samePhdrs(i.phdrs, mine.phdrs), "INV-REF-PHDR", "\(arch.name): core and reference read different program headers")
            image = i
        }
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
