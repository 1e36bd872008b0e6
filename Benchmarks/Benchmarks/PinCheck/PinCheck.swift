import Benchmark
import CPinCheck
import SysPinCore
import SysPinTesting

// The pin check (SPEC §7.2, and the strict policy, D-STRICT) against its C twin (CPinCheck):
// the same regions, the same 4096 queries, the same loop; only the check differs. Tables of 1, 32
// and SYS_MAXSYSCALL (331) entries, a quarter of the numbers duplicated (marker slots). The
// measured table is libc's (consulted first, R-PC-4); ld.so's small table and the trampoline are
// present too. 90% of the queries are calls from an entry's own site, 10% come from elsewhere
// in the region (marker-accepted or denied). The Swift side is `PinCheck.decide`, the check
// itself (a one-byte `PinDecision`, as the C twin returns an int); `PinCheck.check` adds the
// `Verdict` value and is measured once for comparison.
//
// Each benchmark iteration is 10^6 checks (`checksPerIteration`), so the wall-clock time of one
// iteration in ms is ns per check; mallocCountTotal (per iteration) must be 0 for the Swift check.

struct Fixture {
    let libc: PinRegion
    let main: PinRegion
    let queries: [(addr: UInt64, code: UInt32)]
    // The C twin's view of the same arrays (kept alive by the fixture).
    let cLibc: UnsafeMutablePointer<cpin_region>
    let cMain: UnsafeMutablePointer<cpin_region>

    init(entries n: Int) {
        let libcBase: UInt64 = 0x7f10_0000_0000
        let textStart: UInt64 = 0x1000
        var entries: [SyscallSite] = []
        for i in 0..<n {
            // Every fourth entry repeats an earlier number: the marker (R-PT-7).
            let sysno = i % 4 == 3 && i > 0 ? entries[i / 2].sysno : UInt32(1 + (i * 7919) % 330)
            entries.append(SyscallSite(offset: UInt32(textStart + 16 * UInt64(i) + 4), sysno: sysno))
        }
        let len = textStart + 16 * UInt64(max(n, 1)) + 0x100
        libc = PinCheckFixture.region(entries: entries, base: libcBase, textStart: textStart, len: len, mask: mask)
        let ldso: [SyscallSite] = [SyscallSite(offset: 0x1010, sysno: 158), SyscallSite(offset: 0x1020, sysno: 86)]
        main = PinCheckFixture.region(
            entries: ldso, isLdso: true, base: 0x7f00_0000_0000, textStart: 0x1000, len: 0x3000, mask: mask)
        var q: [(UInt64, UInt32)] = []
        var x: UInt64 = 0x2545_F491_4F6C_DD1D
        for i in 0..<4096 {
            x ^= x << 13
            x ^= x >> 7
            x ^= x << 17
            let e = entries[Int(x % UInt64(entries.count))]
            if i % 10 == 9 {
                q.append((libc.start + x % (libc.end - libc.start), e.sysno))
            } else {
                q.append((libcBase + UInt64(e.offset), e.sysno))
            }
        }
        queries = q
        cLibc = Self.cRegion(libc)
        cMain = Self.cRegion(main)
    }

    static func cRegion(_ r: PinRegion) -> UnsafeMutablePointer<cpin_region> {
        let pins = UnsafeMutablePointer<UInt32>.allocate(capacity: r.pins.count)
        pins.initialize(from: r.pins, count: r.pins.count)
        let table = r.exactSites?.slotTable ?? []
        let slots = UnsafeMutablePointer<cpin_site>.allocate(capacity: max(table.count, 1))
        for (i, s) in table.enumerated() { slots[i] = cpin_site(sysno: s.sysno, rel: s.rel) }
        let out = UnsafeMutablePointer<cpin_region>.allocate(capacity: 1)
        out.initialize(
            to: cpin_region(
                start: r.start, end: r.end, pins: pins, npins: r.pins.count, slots: slots,
                slot_mask: max(table.count, 1) - 1, nslots: (r.exactSites?.count ?? 0) == 0 ? 0 : table.count,
                seed: r.exactSites?.hashSeed ?? 0))
        return out
    }
}

let checksPerIteration = 1_000_000
let tramp: UInt64 = 0x7000_0100
let mask: UInt64 = 0xFFFF_FFFF_FFFF_FFFF

// One loop per implementation and policy, each its own function with explicit arguments, so the
// two sides are compiled alike (same loop, same registers available) and timed alike.

// The Swift loop is PinCheckFixture.allowed (shared with syspin-checkloop), inlined here with a
// constant policy.
@inline(never)
func swiftOpenBSD(_ libc: PinRegion, _ main: PinRegion, _ q: [(addr: UInt64, code: UInt32)]) -> Int {
    PinCheckFixture.allowed(
        libc: libc, main: main, sigtramp: tramp, queries: q, iterations: checksPerIteration, mask: mask, policy: .openbsd)
}

@inline(never)
func swiftStrict(_ libc: PinRegion, _ main: PinRegion, _ q: [(addr: UInt64, code: UInt32)]) -> Int {
    PinCheckFixture.allowed(
        libc: libc, main: main, sigtramp: tramp, queries: q, iterations: checksPerIteration, mask: mask, policy: .strict)
}

/// The same check through `PinCheck.check`, which also builds the `Verdict` (errno, signal, static
/// rule id) the rest of the model reports: what that costs on top of the decision (target <= 1.5x).
@inline(never)
func swiftVerdict(_ libc: PinRegion, _ main: PinRegion, _ q: [(addr: UInt64, code: UInt32)]) -> Int {
    PinCheckFixture.allowed(
        libc: libc, main: main, sigtramp: tramp, queries: q, iterations: checksPerIteration, mask: mask, policy: .openbsd,
        verdict: true)
}

@inline(never)
func cOpenBSD(_ libc: UnsafePointer<cpin_region>, _ main: UnsafePointer<cpin_region>, _ q: [(addr: UInt64, code: UInt32)]) -> Int {
    var ok = 0
    var i = 0
    for _ in 0..<checksPerIteration {
        let e = q[i]
        i = i + 1 == q.count ? 0 : i + 1
        if cpin_check_openbsd(libc, main, 1, tramp, e.addr, e.code, mask) == 0 { ok &+= 1 }
    }
    return ok
}

@inline(never)
func cStrict(_ libc: UnsafePointer<cpin_region>, _ main: UnsafePointer<cpin_region>, _ q: [(addr: UInt64, code: UInt32)]) -> Int {
    var ok = 0
    var i = 0
    for _ in 0..<checksPerIteration {
        let e = q[i]
        i = i + 1 == q.count ? 0 : i + 1
        if cpin_check_strict(libc, main, 1, tramp, e.addr, e.code, mask) == 0 { ok &+= 1 }
    }
    return ok
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 2, scalingFactor: .one, maxDuration: .seconds(3), maxIterations: 300)

    for n in [1, 32, 331] {
        let f = Fixture(entries: n)
        // Both implementations must agree on every query before they are timed against each other.
        for q in f.queries {
            for policy in [PinPolicy.openbsd, .strict] {
                let s = PinCheck.decide(
                    libc: f.libc, main: f.main, sigtramp: tramp, addr: q.addr, code: q.code, mask: mask, policy: policy)
                let r =
                    policy == .openbsd
                    ? cpin_check_openbsd(f.cLibc, f.cMain, 1, tramp, q.addr, q.code, mask)
                    : cpin_check_strict(f.cLibc, f.cMain, 1, tramp, q.addr, q.code, mask)
                precondition(
                    (s == .allow) == (r == 0) && (s.verdict.errno?.rawValue ?? 0) == Int32(r),
                    "Swift and C disagree on \(q) under \(policy)")
            }
        }
        let (libc, main, queries, cLibc, cMain) = (f.libc, f.main, f.queries, UnsafePointer(f.cLibc), UnsafePointer(f.cMain))
        Benchmark("PinCheck.swift.openbsd.n\(n)") { _ in blackHole(swiftOpenBSD(libc, main, queries)) }
        Benchmark("PinCheck.c.openbsd.n\(n)") { _ in blackHole(cOpenBSD(cLibc, cMain, queries)) }
        Benchmark("PinCheck.swift.strict.n\(n)") { _ in blackHole(swiftStrict(libc, main, queries)) }
        Benchmark("PinCheck.c.strict.n\(n)") { _ in blackHole(cStrict(cLibc, cMain, queries)) }
        if n == 331 {
            Benchmark("PinCheck.swift-verdict.openbsd.n\(n)") { _ in blackHole(swiftVerdict(libc, main, queries)) }
        }
    }
}
