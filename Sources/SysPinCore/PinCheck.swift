/// What the pin check reads of a region: its bounds, its pins[] one element at a time, and its
/// strict site set one slot at a time. `PinRegion` is the production storage (plain arrays, each
/// read one load); P6 hands the check a storage that counts every element and slot read, so the
/// check's cost is measured where a lookup cannot hide it (a scan reads more elements, whatever
/// the check says about itself). The check is generic over the storage and specialised, so the
/// production path is the same code with no indirection.
public protocol PinStorage {
    associatedtype Sites: ExactSiteSlots
    var start: UInt64 { get }
    var end: UInt64 { get }
    var npins: Int { get }
    /// pins[i] for 0 ≤ i < npins: one element read.
    func pinElement(_ i: Int) -> UInt32
    /// The strict policy's exact site set, nil when the region has none.
    var siteSlots: Sites? { get }
}

/// The slots of a strict region's exact site set (`ExactSiteSet`'s layout): a lookup reads at most
/// two of them.
public protocol ExactSiteSlots {
    /// Number of sites; 0 means no slot may be read.
    var siteCount: Int { get }
    var hashSeed: UInt64 { get }
    /// Slot count − 1 (the slot count is a power of two).
    var slotMask: Int { get }
    /// Slot i, 0 ≤ i ≤ slotMask: one slot read.
    func slot(_ i: Int) -> ExactSite
}

extension ExactSiteSlots {
    /// Whether (sysno, rel) is in the set: reads the key's two candidate slots at most. The number
    /// that marks an empty slot (UInt32.max, past every table) is never in it: on mips64 a code of
    /// −1 reaches the strict check as 0xFFFFFFFF and must not match an empty slot.
    @inlinable
    public func contains(sysno: UInt32, rel: UInt64) -> Bool {
        if siteCount == 0 || sysno == ExactSiteSet.emptySysno { return false }
        let (a, b) = ExactSiteSet.positions(sysno: sysno, rel: rel, seed: hashSeed, mask: slotMask)
        let x = slot(a)
        if x.sysno == sysno && x.rel == rel { return true }
        let y = slot(b)
        return y.sysno == sysno && y.rel == rel
    }
}

/// What pin_check decided, in one byte. The check path computes this and nothing else (no
/// `Verdict`, no rule string): `verdict` turns it into the value the rest of the model reports.
public enum PinDecision: UInt8, Hashable, Sendable {
    case allow
    /// R-PC-7 "no pin": no region holds the address, code ≥ npins, or pins[code] is 0.
    case noPin
    /// R-PT-10: a precise pin for another site.
    case otherSite
    /// R-PC-5: a call other than sigreturn from the trampoline.
    case trampolineMisuse
    /// D-STRICT: (code, site) is not in the region's exact site set.
    case notRecorded
    /// D-MSYSCALL: the address lies in no syscall-permitted text (the msyscall era's "bogus syscall").
    case outsideSyscallText
    /// D-LIBSYS: the address lies neither in libsys's text nor in the runtime linker's.
    case outsideLibsys

    /// Inlinable, like the check, so `PinCheck.check` builds the value in its caller's code.
    @inlinable
    public var verdict: Verdict {
        switch self {
        case .allow: return Verdict(errno: nil, signal: nil, rule: nil)
        case .noPin: return .killed(.SIGABRT, .ENOSYS, "R-PC-7")
        case .otherSite: return .killed(.SIGABRT, .ENOSYS, "R-PT-10")
        case .trampolineMisuse: return .killed(.SIGABRT, .EPERM, "R-PC-5")
        case .notRecorded: return .killed(.SIGABRT, .ENOSYS, "D-STRICT")
        case .outsideSyscallText: return .killed(.SIGSEGV, .EPERM, "D-MSYSCALL")
        case .outsideLibsys: return .killed(.SIGABRT, .ENOSYS, "D-LIBSYS")
        }
    }
}

/// pin_check (§7.2) over the two tables of a process. `addr` is the trap instruction's address
/// (pc − D, R-ARCH-1); `sigtramp` is the trampoline's trap address, so comparing it with `addr`
/// is equivalent to the kernel's raw-pc comparison with sigret (R-PC-5).
///
/// `policy` only changes what happens once a region is chosen: `.openbsd` is §7.2 as written (one
/// probe: pins[code]); `.strict` allows exactly the (code, site) pairs of the region's exact site
/// set (at most two probes) and denies every other call under rule D-STRICT. `.msyscall` and
/// `.libsys` read no table: `RegionPolicies.decide` judges them by region bounds alone, with
/// `trusted` saying where libsys's text is and whether `main` is the runtime linker's.
public enum PinCheck {
    @inlinable
    public static func check<R: PinStorage>(
        libc: R?, main: R?, sigtramp: UInt64?, addr: UInt64, code: UInt32,
        mask: UInt64, policy: PinPolicy = .openbsd, trusted: TrustedText = TrustedText()
    ) -> Verdict {
        decide(
            libc: libc, main: main, sigtramp: sigtramp, addr: addr, code: code, mask: mask, policy: policy,
            trusted: trusted
        ).verdict
    }

    @inlinable
    public static func decide<R: PinStorage>(
        libc: R?, main: R?, sigtramp: UInt64?, addr: UInt64, code: UInt32,
        mask: UInt64, policy: PinPolicy = .openbsd, trusted: TrustedText = TrustedText()
    ) -> PinDecision {
        if policy.isRegionGranular {
            return RegionPolicies.decide(
                libc: libc, main: main, trusted: trusted, sigtramp: sigtramp, addr: addr, code: code, policy: policy)
        }
        // R-PC-4: libc first, then the program's (or ld.so's) region, then the trampoline.
        if let l = libc, l.start <= addr, addr < l.end {
            return decide(in: l, addr: addr, code: code, mask: mask, policy: policy)
        }
        if let m = main, m.start <= addr, addr < m.end {
            return decide(in: m, addr: addr, code: code, mask: mask, policy: policy)
        }
        if let t = sigtramp, t == addr {
            // R-PC-5: only sigreturn may come from the trampoline.
            return code == Sysno.sigreturn ? .allow : .trampolineMisuse
        }
        return .noPin
    }

    /// The decision once `region` holds the address.
    @inlinable
    static func decide<R: PinStorage>(
        in region: R, addr: UInt64, code: UInt32, mask: UInt64, policy: PinPolicy
    ) -> PinDecision {
        if policy == .strict {
            if let sites = region.siteSlots {
                let rel = (addr &- region.start) & mask
                return sites.contains(sysno: code, rel: rel) ? .allow : .notRecorded
            }
            // A region installed without recorded sites: its precise pins only; a marker slot has
            // no site to accept.
            let v = pin(region, code)
            return v != 0 && v != multipleSitesPin && site(region, v, mask) == addr ? .allow : .notRecorded
        }
        // code ≥ npins reads as 0, so both "no pin" cases of R-PC-7 are one test.
        let v = pin(region, code)
        if v == 0 { return .noPin }
        if site(region, v, mask) == addr { return .allow }
        // R-PC-8: the multiple-sites marker accepts any address in the region.
        if v == multipleSitesPin { return .allow }
        return .otherSite  // a precise pin for another site (R-PT-10)
    }

    /// pins[code], 0 past the end: one element read (P6).
    @inlinable
    static func pin<R: PinStorage>(_ region: R, _ code: UInt32) -> UInt32 {
        let i = Int(code)
        guard i < region.npins else { return 0 }
        return region.pinElement(i)
    }

    /// The address a precise pin `v` allows (§7.2 "region.start + v", R-ARCH-2 widths).
    @inlinable
    static func site<R: PinStorage>(_ region: R, _ v: UInt32, _ mask: UInt64) -> UInt64 {
        (region.start &+ UInt64(v)) & mask
    }
}

extension PinRegion: PinStorage {
    /// Bounds-checked by the caller (`PinCheck.pin`): one load.
    @inlinable
    public func pinElement(_ i: Int) -> UInt32 {
        pins.withUnsafeBufferPointer { $0[i] }
    }

    @inlinable
    public var siteSlots: ExactSiteSet? { exactSites }
}

#if ModelCoverage || ModelCoverageAFL
/// The fuzz builds' coverage (the ModelCoverage and ModelCoverageAFL traits) instruments this
/// module and the reference, not the harness; but an `@inlinable` generic is compiled into its
/// caller's module, so a harness that calls `PinCheck.decide` carried the whole decision
/// (R-PC-4..8, D-STRICT, the region policies) in code no counter saw. These non-generic overloads
/// for the production storage, which overload resolution prefers, keep the decision compiled
/// here, where it is counted (`ci/fuzz-counted` checks it). They exist only in those builds: the
/// plain build, the CLI and the benchmarks inline the check as before.
extension PinCheck {
    @inline(never)
    public static func check(
        libc: PinRegion?, main: PinRegion?, sigtramp: UInt64?, addr: UInt64, code: UInt32,
        mask: UInt64, policy: PinPolicy = .openbsd, trusted: TrustedText = TrustedText()
    ) -> Verdict {
        generic(libc, main, sigtramp, addr, code, mask, policy, trusted).verdict
    }

    @inline(never)
    public static func decide(
        libc: PinRegion?, main: PinRegion?, sigtramp: UInt64?, addr: UInt64, code: UInt32,
        mask: UInt64, policy: PinPolicy = .openbsd, trusted: TrustedText = TrustedText()
    ) -> PinDecision {
        generic(libc, main, sigtramp, addr, code, mask, policy, trusted)
    }

    /// The generic `decide` (inside a generic context the overloads above do not apply).
    @inline(__always)
    private static func generic<R: PinStorage>(
        _ libc: R?, _ main: R?, _ sigtramp: UInt64?, _ addr: UInt64, _ code: UInt32, _ mask: UInt64,
        _ policy: PinPolicy, _ trusted: TrustedText
    ) -> PinDecision {
        decide(
            libc: libc, main: main, sigtramp: sigtramp, addr: addr, code: code, mask: mask, policy: policy,
            trusted: trusted)
    }
}
#endif
