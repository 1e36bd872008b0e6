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

/// pin_check (§7.2) over the two tables of a process. `addr` is the trap instruction's address
/// (pc − D, R-ARCH-1); `sigtramp` is the trampoline's trap address, so comparing it with `addr`
/// is equivalent to the kernel's raw-pc comparison with sigret (R-PC-5).
public enum PinCheck {
    @inlinable
    public static func check<C: ProbeCounter>(
        libc: PinRegion?, main: PinRegion?, sigtramp: UInt64?, addr: UInt64, code: UInt32,
        mask: UInt64, counter: inout C
    ) -> Verdict {
        let region: PinRegion
        // R-PC-4: libc first, then the program's (or ld.so's) region, then the trampoline.
        if let l = libc, l.start <= addr, addr < l.end {
            region = l
        } else if let m = main, m.start <= addr, addr < m.end {
            region = m
        } else if let t = sigtramp, t == addr {
            // R-PC-5: only sigreturn may come from the trampoline.
            return code == Sysno.sigreturn ? .ok : .killed(.SIGABRT, .EPERM, "R-PC-5")
        } else {
            return .killed(.SIGABRT, .ENOSYS, "R-PC-7")
        }
        guard Int(code) < region.pins.count else { return .killed(.SIGABRT, .ENOSYS, "R-PC-7") }
        counter.probe()
        let v = region.pins[Int(code)]
        if v == 0 { return .killed(.SIGABRT, .ENOSYS, "R-PC-7") }
        if region.site(of: v, mask: mask) == addr { return .ok }
        // R-PC-8: the multiple-sites marker accepts any address in the region.
        if v == multipleSitesPin { return .ok }
        return .killed(.SIGABRT, .ENOSYS, "R-PT-10")  // a precise pin for another site
    }
}
