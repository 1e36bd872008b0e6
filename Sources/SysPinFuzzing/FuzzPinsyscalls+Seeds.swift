import SysPinCore

extension FuzzPinsyscalls {
    /// The hand-made seeds (`syspin seeds` writes them through `encode`). Each process's main table
    /// starts `pages` pages above vmMinAddress, with pinsyscalls at +0x100 and exit at +0x200;
    /// policy openbsd.
    static func seeds() -> [(name: String, input: Input)] {
        let sites = [SyscallSite(offset: 0x100, sysno: Sysno.pinsyscalls), SyscallSite(offset: 0x200, sysno: Sysno.exit)]
        func process(
            _ arch: Arch, pages: UInt64, len: UInt64, isLdso: Bool = false, once: Bool = false, delta: UInt64 = 0,
            trampAtEnd: Bool = false, _ steps: (_ start: UInt64, _ vmMin: UInt64) -> [Step]
        ) -> Input {
            let start = arch.vmMinAddress + arch.pageSize * pages
            return Input(
                arch: arch, policy: .openbsd, isLdso: isLdso, sites: sites, mainStart: start, mainLen: len, delta: delta,
                sigtramp: trampAtEnd ? start + len : nil, once: once, steps: steps(start, arch.vmMinAddress))
        }
        /// A submission from the table's pinsyscalls site (or `from`), by `threads` threads.
        func submit(_ start: UInt64, base: UInt64, len: UInt64, npins: Int64, count: Int? = nil, pins: [Int: UInt32] = [:],
                    threads: Int = 1, from: UInt64? = nil) -> Step {
            var p = [UInt32](repeating: 0, count: count ?? Int(npins))
            for (i, v) in pins { p[i] = v }
            return Step(
                addr: from ?? start + 0x100, sysno: Int64(Sysno.pinsyscalls),
                request: .pinsyscalls(PinsyscallsCall(base: base, len: len, pins: p, npins: npins), threads: threads))
        }
        func probe(_ addr: UInt64, _ sysno: Int64) -> Step { Step(addr: addr, sysno: sysno, request: .plain) }
        let page: (Arch) -> UInt64 = { $0.pageSize }
        let marker = multipleSitesPin
        var out: [(name: String, input: Input)] = []
        out.append(
            ("amd64 ld.so table: a good submission (87 pins, three set), a probe of 20 from base + pins[20], then a second call (R-PIN-2)",
             process(.amd64, pages: 0x100, len: 0x4000, isLdso: true) { s, v in
                let base = v + page(.amd64) * 0x800
                return [
                    submit(s, base: base, len: 0x4000, npins: 87, pins: [1: 0x40, 20: 0x120, 86: marker]),
                    probe(base + 0x120, 20),
                    submit(s, base: v + page(.amd64) * 0x900, len: 0x100, npins: 1),
                ]
             }))
        out.append(
            ("i386, static program with the once-flag already set: EPERM (R-PIN-2)",
             process(.i386, pages: 0x20, len: 0x1000, once: true) { s, v in [submit(s, base: v, len: 0x1000, npins: 1, pins: [0: 8])] }))
        out.append(
            ("powerpc (ILP32, big-endian): two threads (R-PIN-1, flag kept), then success",
             process(.powerpc, pages: 0x40, len: 0x2000) { s, v in
                let base = v + page(.powerpc) * 0x10
                return [
                    submit(s, base: base, len: 0x2000, npins: 1, threads: 2),
                    submit(s, base: base, len: 0x2000, npins: 159, pins: [158: 0x44, 86: marker]),
                ]
             }))
        out.append(
            ("sparc64: npins 332 (E2BIG)",
             process(.sparc64, pages: 0x10, len: 0x2000) { s, v in [submit(s, base: v, len: 0x1000, npins: 332)] }))
        out.append(
            ("sparc64: npins 331 exactly (accepted), pins[330] == len",
             process(.sparc64, pages: 0x10, len: 0x2000) { s, v in
                [submit(s, base: v, len: 0x1000, npins: 331, pins: [330: 0x1000, 329: marker])]
             }))
        out.append(
            ("arm64: the pins array one short of npins (EFAULT, R-PIN-7)",
             process(.arm64, pages: 0x10, len: 0x2000) { s, v in [submit(s, base: v, len: 0x1000, npins: 159, count: 158)] }))
        out.append(
            ("mips64el: a pin == len (accepted), then len + 1 (ERANGE)",
             process(.mips64el, pages: 0x10, len: 0x2000) { s, v in
                [submit(s, base: v, len: 0x1000, npins: 159, pins: [20: 0x1000, 21: 0x1001])]
             }))
        out.append(
            ("amd64: base + len wraps (R-PIN-3)",
             process(.amd64, pages: 0x10, len: 0x2000) { s, _ in [submit(s, base: Arch.amd64.addressMask, len: 0x10, npins: 1)] }))
        out.append(
            ("riscv64: base below the map minimum (R-PIN-4)",
             process(.riscv64, pages: 0x10, len: 0x2000) { s, v in [submit(s, base: v - 1, len: 0, npins: 1)] }))
        out.append(
            ("armv7: called from an address with no pin (R-PIN-10, SIGABRT), then dead steps",
             process(.armv7, pages: 0x10, len: 0x2000) { s, v in
                [
                    submit(s, base: v, len: 0x1000, npins: 1, from: 0x1234_5678),
                    probe(s, 1),
                    submit(s, base: v, len: 0x1000, npins: 1),
                ]
             }))
        out.append(
            ("mips64: main table rebased by 0xff, trampoline at its end, pins[0] set; probes with code 0 (D-RANGE: pin_check runs on mips64), 1 (marker) and -1",
             process(.mips64, pages: 0x10, len: 0x2000, delta: 0xff, trampAtEnd: true) { s, _ in
                [
                    submit(s, base: s, len: 0x2000, npins: 87, pins: [0: 0x10, 1: marker]),
                    probe(s + 0x10, 0),
                    probe(s + 0x100, 1),
                    probe(s + 0x10, -1),
                ]
             }))
        return out
    }
}
