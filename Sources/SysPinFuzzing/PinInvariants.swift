import SysPinCore

/// Invariants over a built pin table, shared by the fuzz targets.
enum PinInvariants {
    /// Every unique, non-degenerate site of a table passes; every number without an entry dies.
    /// Degenerate entries are classified by SPEC: offset 0 (R-PT-7 B), rebased to 0 or to the
    /// marker (R-PT-9 D/E), site outside the half-open region (R-PC-3).
    ///
    /// A missing number is tried where a wrong lookup would let it through: at the region's start,
    /// at the sites of the numbers either side of it (an index off by one reads their pins) and at
    /// the first and last sites; the pin check reads pins[code] whatever the address, so a site
    /// more adds nothing a fault could hide behind, and trying every site cost (sites)² checks.
    static func completeness(
        region: PinRegion, entries: [SyscallSite], delta: UInt64, isLdso: Bool, arch: Arch,
        config: KernelConfig = .openbsd
    ) throws(InvariantViolation) {
        // How often each number is recorded: a count per slot below maxSyscall (saturating at 2,
        // all the checks ask is "once" or "absent"); a built table has no other numbers (R-PT-5),
        // but any that came would be counted by a scan. The counts live on the stack (a few
        // hundred bytes): a heap array cost a sanitizer malloc per input.
        let limit = Int(config.maxSyscall)
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: limit) { (counts) throws(InvariantViolation) in
            counts.initialize(repeating: 0)
            for e in entries where Int(e.sysno) < limit && counts[Int(e.sysno)] < 2 { counts[Int(e.sysno)] += 1 }
            try completeness(
                region: region, entries: entries, counts: UnsafeBufferPointer(counts), delta: delta, isLdso: isLdso, arch: arch,
                config: config)
        }
    }

    /// `completeness` with the counts taken.
    private static func completeness(
        region: PinRegion, entries: [SyscallSite], counts: UnsafeBufferPointer<UInt8>, delta: UInt64, isLdso: Bool,
        arch: Arch, config: KernelConfig
    ) throws(InvariantViolation) {
        let mask = arch.addressMask
        let limit = counts.count
        func count(_ c: UInt32) -> Int {
            Int(c) < limit ? Int(counts[Int(c)]) : entries.lazy.filter { $0.sysno == c }.prefix(2).count
        }
        var first: UInt64?, last: UInt64?
        for e in entries where count(e.sysno) == 1 && !(isLdso && e.sysno == Sysno.kbind) {
            let v = e.offset &- UInt32(truncatingIfNeeded: delta)
            guard e.offset != 0, v != 0, v != multipleSitesPin else { continue }
            let site = (region.start &+ UInt64(v)) & mask
            guard region.start <= site, site < region.end else { continue }
            if first == nil { first = site }
            last = site
            // The decision, not its verdict: `.allow` is the one decision whose verdict is ok
            // (`PinDecision.verdict`, compared with the reference's by INV-REF-PINCHECK).
            let got = PinCheck.decide(libc: nil, main: region, sigtramp: nil, addr: site, code: e.sysno, mask: mask)
            try require(got == .allow, "INV-PIN-COMPLETE", "\(arch.name) sysno \(e.sysno) at its site 0x\(String(site, radix: 16)): \(got.verdict)")
        }
        /// The site of number c's precise pin, if it has one inside the region.
        func siteOf(_ c: UInt32) -> UInt64? {
            guard Int(c) < region.pins.count else { return nil }
            let v = region.pins[Int(c)]
            guard v != 0 && v != multipleSitesPin else { return nil }
            let a = region.site(of: v, mask: mask)
            return region.start <= a && a < region.end ? a : nil
        }
        // `missing` and `at` are kept out of line: one copy of the pin check's edges, not one per
        // call (libFuzzer handles every executed edge per exec).
        @inline(never)
        func missing(_ c: UInt32) throws(InvariantViolation) {
            guard count(c) == 0 && !(isLdso && c == Sysno.kbind) else { return }
            // The five addresses one by one: an array literal of them cost a malloc per number.
            @inline(never)
            func at(_ a: UInt64?) throws(InvariantViolation) {
                guard let a, region.start <= a && a < region.end else { return }
                // `.noPin` is the one decision whose verdict is the R-PC-7 kill (SIGABRT, ENOSYS).
                let got = PinCheck.decide(libc: nil, main: region, sigtramp: nil, addr: a, code: c, mask: mask)
                try require(got == .noPin, "INV-PIN-MISSING", "\(arch.name) sysno \(c) absent from the table, at 0x\(String(a, radix: 16)): \(got.verdict)")
            }
            try at(region.start)
            try at(siteOf(c &- 1))
            try at(siteOf(c &+ 1))
            try at(first)
            try at(last)
        }
        // Missing numbers: a handful of fixed ones, and the one after each present number.
        for c in fixedMissing { try missing(c) }
        try missing(config.maxSyscall - 1)
        for c in 0..<UInt32(limit) where counts[Int(c)] > 0 && c + 1 < config.maxSyscall {
            try missing(c + 1)
        }
    }

    /// The numbers `completeness` always tries as missing, besides maxSyscall − 1.
    static let fixedMissing: [UInt32] = [1, 2, 20, 59, 86, 103, 158]

    /// I-1: npins ≥ 1; ld.so tables have pins[86] = marker.
    static func shape(_ pins: [UInt32], isLdso: Bool) throws(InvariantViolation) {
        try require(!pins.isEmpty, "INV-NPINS", "a built table has no slots")
        try require(pins[0] == 0, "INV-NPINS", "slot 0 is pinned in a kernel-built table")
        if isLdso {
            try require(pins.count > Int(Sysno.kbind) && pins[Int(Sysno.kbind)] == multipleSitesPin, "INV-LDSO-KBIND", "ld.so's kbind slot is not the marker")
        }
    }
}
