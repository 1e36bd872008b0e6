import SysPinCore

/// Invariants over a built pin table, shared by the fuzz targets.
enum PinInvariants {
    /// Every unique, non-degenerate site of a table passes; every number without an entry dies.
    /// Degenerate entries are classified by SPEC: offset 0 (R-PT-7 B), rebased to 0 or to the
    /// marker (R-PT-9 D/E), site outside the half-open region (R-PC-3).
    static func completeness(
        region: PinRegion, entries: [SyscallSite], delta: UInt64, isLdso: Bool, arch: Arch,
        config: KernelConfig = .openbsd
    ) throws(InvariantViolation) {
        let mask = arch.addressMask
        // How often each number is recorded: a count per slot below maxSyscall (saturating at 2,
        // all the checks ask is "once" or "absent"); a built table has no other numbers (R-PT-5),
        // but any that came would be counted by a scan.
        let limit = Int(config.maxSyscall)
        var counts = [UInt8](repeating: 0, count: limit)
        for e in entries where Int(e.sysno) < limit && counts[Int(e.sysno)] < 2 { counts[Int(e.sysno)] += 1 }
        func count(_ c: UInt32) -> Int {
            Int(c) < limit ? Int(counts[Int(c)]) : entries.lazy.filter { $0.sysno == c }.prefix(2).count
        }
        var sites: [UInt64] = [region.start]
        for e in entries where count(e.sysno) == 1 && !(isLdso && e.sysno == Sysno.kbind) {
            let v = e.offset &- UInt32(truncatingIfNeeded: delta)
            guard e.offset != 0, v != 0, v != multipleSitesPin else { continue }
            let site = (region.start &+ UInt64(v)) & mask
            guard region.start <= site, site < region.end else { continue }
            sites.append(site)
            let got = PinCheck.check(libc: nil, main: region, sigtramp: nil, addr: site, code: e.sysno, mask: mask)
            try require(got == .ok, "INV-PIN-COMPLETE", "\(arch.name) sysno \(e.sysno) at its site 0x\(String(site, radix: 16)): \(got)")
        }
        // Missing numbers: a handful, near the present ones, from every site.
        var missing: [UInt32] = []
        for c in [1, 2, 20, 59, 86, 103, 158, config.maxSyscall - 1] where count(c) == 0 && !(isLdso && c == Sysno.kbind) {
            missing.append(c)
        }
        for c in 0..<UInt32(limit) where counts[Int(c)] > 0 && c + 1 < config.maxSyscall && counts[Int(c) + 1] == 0
            && !(isLdso && c + 1 == Sysno.kbind)
        {
            missing.append(c + 1)
        }
        for c in missing {
            for a in sites where region.start <= a && a < region.end {
                let got = PinCheck.check(libc: nil, main: region, sigtramp: nil, addr: a, code: c, mask: mask)
                try require(got == .killed(.SIGABRT, .ENOSYS, "R-PC-7"), "INV-PIN-MISSING", "\(arch.name) sysno \(c) absent from the table, at 0x\(String(a, radix: 16)): \(got)")
            }
        }
    }

    /// I-1: npins ≥ 1; ld.so tables have pins[86] = marker.
    static func shape(_ pins: [UInt32], isLdso: Bool) throws(InvariantViolation) {
        try require(!pins.isEmpty, "INV-NPINS", "a built table has no slots")
        try require(pins[0] == 0, "INV-NPINS", "slot 0 is pinned in a kernel-built table")
        if isLdso {
            try require(pins.count > Int(Sysno.kbind) && pins[Int(Sysno.kbind)] == multipleSitesPin, "INV-LDSO-KBIND", "ld.so's kbind slot is not the marker")
        }
    }
}
