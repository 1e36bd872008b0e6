import SysPinCore
import SysPinTesting

/// FuzzELF: whole image bytes → exec verdict and pin table, checked against itself, the naive
/// model and libelf.
public enum FuzzELF {
    public static func run(_ bytes: [UInt8]) throws(InvariantViolation) {
        let first = Inspector.inspect(bytes)
        let second = Inspector.inspect(bytes)
        try require(
            first.verdict == second.verdict && first.pintable?.entries == second.pintable?.entries
                && first.pintable?.discardedBy == second.pintable?.discardedBy,
            "INV-DETERMINISM", "inspect gave \(first.verdict) then \(second.verdict)")
        guard let arch = first.arch else { return }
        try checkLoaders(bytes, arch: arch)
        #if LibElf
            try compareWithLibElf(bytes, arch: arch)
        #endif
    }

    static func checkLoaders(_ bytes: [UInt8], arch: Arch) throws(InvariantViolation) {
        let mask = arch.addressMask
        for base: UInt64 in [0, 0x4000_0000] {
            guard case .success(let plan) = ExecLoaders.loadMain(bytes, arch: arch, base: base) else { continue }
            try require(plan.hasInterp || plan.pinsyscallsOnce, "INV-ONCE", "static program without once-flag (R-PT-16)")
            if let layout = plan.pinLayout, let region = layout.region, let pins = layout.parse.pins {
                try PinInvariants.shape(pins, isLdso: false)
                let delta = (layout.start &- plan.loadBase) & mask
                let entries = layout.parse.entries
                try PinInvariants.completeness(region: region, entries: entries, delta: delta, isLdso: false, arch: arch)
                let naive = NaiveTable(
                    sites: entries, loadBase: plan.loadBase, delta: delta, start: region.start, end: region.end, isLdso: false)
                try PinInvariants.differential(libc: nil, naiveLibc: nil, main: region, naiveMain: naive, sigtramp: region.end, arch: arch)
            }
        }
        let pos: UInt64 = 0x2000_0000
        if case .success(let l) = ExecLoaders.loadInterpreter(bytes, arch: arch, pos: pos), let region = l.region,
            let pins = l.pinTable.pins
        {
            try PinInvariants.shape(pins, isLdso: true)
            let delta = (l.layout.start &- pos) & mask
            let entries = l.pinTable.entries
            try PinInvariants.completeness(region: region, entries: entries, delta: delta, isLdso: true, arch: arch)
            let naive = NaiveTable(sites: entries, loadBase: pos, delta: delta, start: region.start, end: region.end, isLdso: true)
            try PinInvariants.differential(libc: nil, naiveLibc: nil, main: region, naiveMain: naive, sigtramp: nil, arch: arch)
        }
    }

    /// Disagreements with libelf that SPEC explains. Any other is a violation.
    public enum LibElfDifference: String, CaseIterable, Sendable {
        /// libelf refuses an image whose e_phentsize is not its struct size; the kernel ignores
        /// e_phentsize and uses its own struct (R-ELF-7).
        case phentsizeIgnored = "R-ELF-7 e_phentsize"
        /// libelf does not read the program headers of an image whose e_ident it rejects, or
        /// reads a different class; the kernel judged the image with the arch's class (R-ELF-2).
        case identMismatch = "R-ELF-2 e_ident"
        /// libelf requires the section header table too (e_shoff/e_shnum inside the file); the
        /// kernel never reads section headers.
        case sectionHeaders = "kernel reads no section headers"
        /// libelf takes e_phoff 0 to mean "no program header table"; the kernel reads e_phnum
        /// entries at offset 0 like any other offset (R-ELF-7).
        case phoffZero = "R-ELF-7 e_phoff 0"
    }

    #if LibElf
    /// Where the kernel's reader accepted the header and phdr table, libelf's gelf_getphdr must
    /// see the same program headers, unless a classified difference explains it.
    static func compareWithLibElf(_ bytes: [UInt8], arch: Arch) throws(InvariantViolation) {
        // The main loader's header checks accept every e_type the interpreter loader does.
        guard case .success(let image) = ExecRules.readImage(bytes, arch: arch, loader: .main) else { return }
        // With no program headers there is nothing to compare.
        if image.phdrs.isEmpty { return }
        guard let theirs = LibElf.programHeaders(bytes) else {
            if classify(image) != nil { return }
            throw InvariantViolation("INV-LIBELF-PHDR", "libelf cannot read program headers the kernel reads (\(image.phdrs.count) phdrs, e_phentsize \(image.header.phentsize)): \(LibElf.lastError)")
        }
        if theirs == image.phdrs { return }
        if classify(image) != nil { return }
        let i = zip(theirs, image.phdrs).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(theirs.count, image.phdrs.count)
        throw InvariantViolation("INV-LIBELF-PHDR", "phdr \(i) differs: libelf \(i < theirs.count ? "\(theirs[i])" : "none"), core \(i < image.phdrs.count ? "\(image.phdrs[i])" : "none")")
    }
    #endif

    static func classify(_ image: ElfImage) -> LibElfDifference? {
        let h = image.header
        if h.phoff == 0 && h.phnum > 0 { return .phoffZero }
        if Int(h.phentsize) != h.elfClass.phdrSize && h.phnum > 0 { return .phentsizeIgnored }
        if h.identClass != h.elfClass.rawValue || h.identData != h.endian.rawValue { return .identMismatch }
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
