import SysPinCore
@testable import SysPinFuzzing
import SysPinReference
import Testing

/// FuzzELF probes a table's pin check once per input and skips a later table that repeats it or
/// is it moved whole (`FuzzELF.ProbedTables`). These tests hold that rule to its premise: which
/// tables count as moved, and that a moved table's verdicts are the first one's, probe for probe.
@Suite("FuzzELF probed tables")
struct FuzzELFProbeTests {
    static let arch32 = Arch.named("i386")!
    static let arch64 = Arch.named("amd64")!

    /// A static program's table as both models would install it at `start`, with its strict sites.
    static func tables(
        start: UInt64, len: UInt64, entries: [SyscallSite], arch: Arch, isLdso: Bool = false
    ) -> FuzzELF.ProbedTables.Tables {
        let mask = arch.addressMask
        let parse = PinTableReader.build(entries: entries, isLdso: isLdso, len: len)
        let region = PinRegion.adjusted(pins: parse.pins!, start: start, len: len, delta: 0, mask: mask)
        let strict = region.withStrictSites(recorded: entries, origin: start, mask: mask)
        let ref = RefTable(
            start: region.start, end: region.end, pins: region.pins,
            sites: entries.map { RefSite(sysno: $0.sysno, rel: UInt64($0.offset)) })
        return .init(main: region, strict: strict, ref: ref, isLdso: isLdso)
    }

    static let entries = [
        SyscallSite(offset: 0x10, sysno: 1), SyscallSite(offset: 0x20, sysno: 4), SyscallSite(offset: 0x30, sysno: 4),
        SyscallSite(offset: 0, sysno: 5),
    ]

    @Test("the same tables, and tables moved whole without wrapping, are covered")
    func moved() {
        for arch in [Self.arch32, Self.arch64] {
            let a = Self.tables(start: 0, len: 0x1000, entries: Self.entries, arch: arch)
            var probed = FuzzELF.ProbedTables()
            probed.seen.append(a)
            #expect(probed.covers(a, mask: arch.addressMask))
            #expect(probed.covers(Self.tables(start: 0x4000_1000, len: 0x1000, entries: Self.entries, arch: arch), mask: arch.addressMask))
            let nothing = FuzzELF.ProbedTables.Tables(main: nil, strict: nil, ref: nil, isLdso: false)
            #expect(!probed.covers(nothing, mask: arch.addressMask))
            probed.seen.append(nothing)
            #expect(probed.covers(nothing, mask: arch.addressMask))
            #expect(!probed.covers(.init(main: nil, strict: nil, ref: nil, isLdso: true), mask: arch.addressMask))
        }
        let a = Self.tables(start: 0, len: 0x1000, entries: Self.entries, arch: Self.arch64)
        let high = Self.tables(start: 0x1_0001_3000, len: 0x1000, entries: Self.entries, arch: Self.arch64)
        var probed = FuzzELF.ProbedTables()
        probed.seen.append(a)
        #expect(probed.covers(high, mask: .max))
        // Moved down: FuzzELF probes the highest base first and derives the lower ones.
        probed.seen = [high]
        #expect(probed.covers(a, mask: .max))
        #expect(probed.covers(Self.tables(start: 0x4000_1000, len: 0x1000, entries: Self.entries, arch: Self.arch64), mask: .max))
    }

    @Test("tables that wrap, differ in a pin, a site, a bound or the loader are probed again")
    func notMoved() {
        let arch = Self.arch32, mask = arch.addressMask
        let a = Self.tables(start: 0x1000, len: 0x1000, entries: Self.entries, arch: arch)
        var probed = FuzzELF.ProbedTables()
        probed.seen.append(a)
        // The end crosses 2^32, moving up or down.
        #expect(!probed.covers(Self.tables(start: 0xFFFF_F800, len: 0x1000, entries: Self.entries, arch: arch), mask: mask))
        probed.seen = [Self.tables(start: 0xFFFF_F800, len: 0x1000, entries: Self.entries, arch: arch)]
        #expect(!probed.covers(a, mask: mask))
        probed.seen = [a]
        // Another pin.
        var e = Self.entries
        e[0].offset = 0x18
        #expect(!probed.covers(Self.tables(start: 0x5000, len: 0x1000, entries: e, arch: arch), mask: mask))
        // Another length: the end moves by something else than the start.
        #expect(!probed.covers(Self.tables(start: 0x5000, len: 0x2000, entries: Self.entries, arch: arch), mask: mask))
        // ld.so's table against the program's.
        #expect(!probed.covers(Self.tables(start: 0x1000, len: 0x1000, entries: Self.entries, arch: arch, isLdso: true), mask: mask))
        // The core's strict sites moved, the reference's not.
        var b = Self.tables(start: 0x5000, len: 0x1000, entries: Self.entries, arch: arch)
        b.ref!.sites[0].rel += 8
        #expect(!probed.covers(b, mask: mask))
        // The reference's bounds not moved with the core's.
        b = Self.tables(start: 0x5000, len: 0x1000, entries: Self.entries, arch: arch)
        b.ref!.end += 1
        #expect(!probed.covers(b, mask: mask))
    }

    /// The premise: a probe of the moved table gets the verdict of the probe moved back, in both
    /// models and under every policy; 0 and the mask, outside the moved table, get the verdict of
    /// the first table's end.
    @Test("a moved table's verdicts are the first table's, probe for probe")
    func verdictsMove() {
        for arch in [Self.arch32, Self.arch64] {
            let mask = arch.addressMask
            let ra = RefArch(arch)
            let d: UInt64 = arch.pointerBytes == 8 ? 0x1_0001_3000 : 0x4000_1000
            let a = Self.tables(start: 0, len: 0x1000, entries: Self.entries, arch: arch)
            let b = Self.tables(start: d, len: 0x1000, entries: Self.entries, arch: arch)
            var probed = FuzzELF.ProbedTables()
            probed.seen.append(a)
            #expect(probed.covers(b, mask: mask))
            for policy in RefPolicy.comparable {
                let trusted = TrustedText(mainIsRuntimeLinker: false)
                func core(_ t: FuzzELF.ProbedTables.Tables, _ addr: UInt64, _ code: UInt32) -> Verdict {
                    PinCheck.check(
                        libc: nil, main: policy == .strict ? t.strict : t.main, sigtramp: nil, addr: addr, code: code, mask: mask,
                        policy: policy, trusted: trusted)
                }
                func ref(_ t: FuzzELF.ProbedTables.Tables, _ addr: UInt64, _ code: UInt32) -> RefVerdict? {
                    RefPinCheck.check(
                        libc: nil, main: t.ref, sigtramp: nil, addr: addr, code: Int64(code), policy: RefPolicy(policy), arch: ra)
                }
                let rel: [UInt64] = [0, 1, 0xF, 0x10, 0x11, 0x20, 0x30, 0xFFF, 0x1000, 0x1001, mask, mask - 1, 0xFFFF_FFFF]
                for r in rel {
                    for code: UInt32 in [1, 2, 4, 5, 6, 330] {
                        #expect(core(b, (r &+ d) & mask, code) == core(a, r, code), "\(arch.name) \(policy) rel \(r) code \(code)")
                        #expect(ref(b, (r &+ d) & mask, code) == ref(a, r, code), "\(arch.name) \(policy) rel \(r) code \(code)")
                    }
                }
                for fixed in [0, mask] {
                    for code: UInt32 in [1, 4, 5, 330] {
                        #expect(core(b, fixed, code) == core(a, 0x1000, code))
                        #expect(ref(b, fixed, code) == ref(a, 0x1000, code))
                    }
                }
            }
        }
    }
}
