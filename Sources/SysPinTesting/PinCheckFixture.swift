import SysPinCore

/// What the pin-check benchmarks (Benchmarks/PinCheck, ordo-one/benchmark) and ci/bench-callgrind's
/// `syspin-checkloop` share: a table built and installed as a loader would, and the loop of checks
/// they time or count.
public enum PinCheckFixture {
    /// `entries` built as a program's (or, with `isLdso`, ld.so's) table over [0, len) (R-PT-4..8),
    /// installed at `base` rebased by `textStart` (R-PT-9), with its strict site set (origin `base`).
    public static func region(
        entries: [SyscallSite], isLdso: Bool = false, base: UInt64, textStart: UInt64, len: UInt64,
        mask: UInt64 = .max
    ) -> PinRegion {
        guard case .table(_, let pins) = PinTableReader.build(entries: entries, isLdso: isLdso, len: len) else {
            preconditionFailure("fixture table discarded")
        }
        return PinRegion.adjusted(pins: pins, start: base, len: len, delta: textStart, mask: mask)
            .withStrictSites(recorded: entries, origin: base, mask: mask)
    }

    /// `iterations` checks cycling through `queries`: how many were allowed. The check is
    /// `PinCheck.decide` (the one-byte decision), or with `verdict` `PinCheck.check` (the decision
    /// and its `Verdict`). Always inlined, so a caller passing constants gets the loop specialised
    /// for them (the benchmarks time it against the C twin's loop).
    @inlinable @inline(__always)
    public static func allowed(
        libc: PinRegion, main: PinRegion, sigtramp: UInt64, queries q: [(addr: UInt64, code: UInt32)],
        iterations: Int, mask: UInt64, policy: PinPolicy, verdict: Bool = false
    ) -> Int {
        var ok = 0
        var i = 0
        for _ in 0..<iterations {
            let e = q[i]
            i = i + 1 == q.count ? 0 : i + 1
            let allowed =
                verdict
                ? PinCheck.check(
                    libc: libc, main: main, sigtramp: sigtramp, addr: e.addr, code: e.code, mask: mask, policy: policy
                ).isOK
                : PinCheck.decide(
                    libc: libc, main: main, sigtramp: sigtramp, addr: e.addr, code: e.code, mask: mask, policy: policy)
                    == .allow
            if allowed { ok &+= 1 }
        }
        return ok
    }
}
