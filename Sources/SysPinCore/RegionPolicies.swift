/// The region-granular policies (docs/decisions.md D-MSYSCALL, D-LIBSYS): a system call is judged
/// by where its trap instruction lies, whatever its number. They read no pin table, so a check
/// makes no probe (P6 budget 0) and allocates nothing.
extension PinPolicy {
    /// True for the policies that ignore the number and the pins (`msyscall`, `libsys`).
    @inlinable
    public var isRegionGranular: Bool { self == .msyscall || self == .libsys }

    /// The most table probes one check may make (P6): one pins[] read under openbsd, the cuckoo
    /// set's two slots under strict, none for the region-granular policies.
    public var probeBudget: Int {
        switch self {
        case .openbsd: return 1
        case .strict: return 2
        case .msyscall, .libsys: return 0
        }
    }
}

/// A half-open address interval [start, end) (R-PC-3's region test).
public struct TextSpan: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var start: UInt64
    public var end: UInt64

    @inlinable
    public init(start: UInt64, end: UInt64) {
        self.start = start
        self.end = end
    }

    @inlinable
    public func contains(_ addr: UInt64) -> Bool { start <= addr && addr < end }

    /// The number of addresses in the span (0 when end ≤ start).
    public var count: UInt64 { end > start ? end - start : 0 }

    public static func < (a: TextSpan, b: TextSpan) -> Bool { (a.start, a.end) < (b.start, b.end) }

    public var description: String { "[0x\(String(start, radix: 16)), 0x\(String(end, radix: 16)))" }
}

extension PinRegion {
    /// The region's bounds.
    public var span: TextSpan { TextSpan(start: start, end: end) }
}

/// Where the region-granular policies accept calls besides the pin regions the process has.
public struct TrustedText: Hashable, Sendable {
    /// The text of the image the scenario names "libsys" (D-LIBSYS); nil when there is none.
    public var libsys: TextSpan?
    /// True when `ProcessState.main` is ld.so's region (a dynamic program, R-PT-12), false when it
    /// is the static program's own (R-PT-11).
    public var mainIsRuntimeLinker: Bool

    public init(libsys: TextSpan? = nil, mainIsRuntimeLinker: Bool = false) {
        self.libsys = libsys
        self.mainIsRuntimeLinker = mainIsRuntimeLinker
    }
}

public enum RegionPolicies {
    /// The decision under `.msyscall` or `.libsys` (the other policies are not region-granular and
    /// get `.noPin`; `PinCheck.decide` never sends them here).
    ///
    /// - msyscall (D-MSYSCALL): the program's or ld.so's text region (`main`) or libc's registered
    ///   region (`libc`) accepts any number; elsewhere "bogus syscall": EPERM with SIGSEGV.
    /// - libsys (D-LIBSYS): libsys's text, and `main` only when it is the runtime linker's, accept
    ///   any number; the program's own text and libc's region accept nothing.
    ///
    /// Under both, an address in no trusted text falls through to the trampoline rule (R-PC-5)
    /// exactly as under openbsd.
    @inlinable
    public static func decide<R: PinStorage>(
        libc: R?, main: R?, trusted: TrustedText, sigtramp: UInt64?, addr: UInt64, code: UInt32,
        policy: PinPolicy
    ) -> PinDecision {
        let denial: PinDecision
        switch policy {
        case .msyscall:
            if let l = libc, l.start <= addr, addr < l.end { return .allow }
            if let m = main, m.start <= addr, addr < m.end { return .allow }
            denial = .outsideSyscallText
        case .libsys:
            if let s = trusted.libsys, s.contains(addr) { return .allow }
            if trusted.mainIsRuntimeLinker, let m = main, m.start <= addr, addr < m.end { return .allow }
            denial = .outsideLibsys
        case .openbsd, .strict:
            return .noPin
        }
        if let t = sigtramp, t == addr {
            return code == Sysno.sigreturn ? .allow : .trampolineMisuse
        }
        return denial
    }
}

extension ElfImage {
    /// The executable, non-writable PT_LOADs (R-ELF-17 "text": W^X maps a writable one without
    /// execute), in table order.
    public var textLoads: [ProgramHeader] {
        phdrs.filter { $0.type == .load && $0.isExecutable && !$0.isWritable }
    }

    /// The span an image's text covers once loaded at `base`: from the lowest text PT_LOAD's
    /// address (truncated to its p_align, as ld.so normalises libc's, R-LD-1) to the highest end.
    /// nil when the image has no text.
    public func textSpan(base: UInt64, mask: UInt64) -> TextSpan? {
        let loads = textLoads
        guard let low = loads.map({ ExecRules.trunc($0.vaddr, $0.align) }).min(),
            let high = loads.map({ $0.vaddr &+ $0.memsz }).max(), low < high
        else { return nil }
        return TextSpan(start: (base &+ low) & mask, end: (base &+ high) & mask)
    }
}
