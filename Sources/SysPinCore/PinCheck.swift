/// Counts table probes on the check path (P6 cost budget). Production code passes `NoProbeCount`,
/// which the optimiser removes entirely.
public protocol ProbeCounter {
    mutating func probe()
}

public struct NoProbeCount: ProbeCounter {
    public init() {}
    @inlinable public mutating func probe() {}
}

public struct ProbeTally: ProbeCounter {
    public var probes = 0
    public init() {}
    @inlinable public mutating func probe() { probes += 1 }
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

    public var verdict: Verdict {
        switch self {
        case .allow: return .ok
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
    public static func check<C: ProbeCounter>(
        libc: PinRegion?, main: PinRegion?, sigtramp: UInt64?, addr: UInt64, code: UInt32,
        mask: UInt64, policy: PinPolicy = .openbsd, trusted: TrustedText = TrustedText(), counter: inout C
    ) -> Verdict {
        decide(
            libc: libc, main: main, sigtramp: sigtramp, addr: addr, code: code, mask: mask, policy: policy,
            trusted: trusted, counter: &counter
        ).verdict
    }

    @inlinable
    public static func decide<C: ProbeCounter>(
        libc: PinRegion?, main: PinRegion?, sigtramp: UInt64?, addr: UInt64, code: UInt32,
        mask: UInt64, policy: PinPolicy = .openbsd, trusted: TrustedText = TrustedText(), counter: inout C
    ) -> PinDecision {
        if policy.isRegionGranular {
            return RegionPolicies.decide(
                libc: libc, main: main, trusted: trusted, sigtramp: sigtramp, addr: addr, code: code, policy: policy)
        }
        // R-PC-4: libc first, then the program's (or ld.so's) region, then the trampoline.
        if let l = libc, l.start <= addr, addr < l.end {
            return decide(in: l, addr: addr, code: code, mask: mask, policy: policy, counter: &counter)
        }
        if let m = main, m.start <= addr, addr < m.end {
            return decide(in: m, addr: addr, code: code, mask: mask, policy: policy, counter: &counter)
        }
        if let t = sigtramp, t == addr {
            // R-PC-5: only sigreturn may come from the trampoline.
            return code == Sysno.sigreturn ? .allow : .trampolineMisuse
        }
        return .noPin
    }

    /// The decision once `region` holds the address.
    @inlinable
    static func decide<C: ProbeCounter>(
        in region: PinRegion, addr: UInt64, code: UInt32, mask: UInt64, policy: PinPolicy, counter: inout C
    ) -> PinDecision {
        if policy == .strict {
            if let sites = region.exactSites {
                let rel = (addr &- region.start) & mask
                return sites.contains(sysno: code, rel: rel, counter: &counter) ? .allow : .notRecorded
            }
            // A region installed without recorded sites: its precise pins only; a marker slot has
            // no site to accept.
            let v = region.pin(code, counter: &counter)
            return v != 0 && v != multipleSitesPin && region.site(of: v, mask: mask) == addr ? .allow : .notRecorded
        }
        // code ≥ npins reads as 0, so both "no pin" cases of R-PC-7 are one test.
        let v = region.pin(code, counter: &counter)
        if v == 0 { return .noPin }
        if region.site(of: v, mask: mask) == addr { return .allow }
        // R-PC-8: the multiple-sites marker accepts any address in the region.
        if v == multipleSitesPin { return .allow }
        return .otherSite  // a precise pin for another site (R-PT-10)
    }
}

extension PinRegion {
    /// pins[code] (one probe), 0 past the end.
    @inlinable
    func pin<C: ProbeCounter>(_ code: UInt32, counter: inout C) -> UInt32 {
        let i = Int(code)
        return pins.withUnsafeBufferPointer { p in
            guard i < p.count else { return 0 }
            counter.probe()
            return p[i]
        }
    }
}
