import SysPinCore
import SysPinTesting

extension FuzzKbind {
    /// The hand-made seeds (`syspin seeds` writes them through `encode`). Each process: ld.so's
    /// region at vmMinAddress + 0x40000 with kbind sites at +0x100 and +0x200, cookies c0 and c1,
    /// the mapping area at `areaPages` pages above vmMinAddress (or the top area), policy openbsd.
    static func seeds() -> [(name: String, input: Input)] {
        let c0: UInt64 = 0x1122_3344_5566_7788, c1: UInt64 = 0x99
        struct Process {
            var arch: Arch
            var area: UInt64
            var regionStart: UInt64
            var a0: UInt64 { regionStart + 0x100 }
            var a1: UInt64 { regionStart + 0x200 }
            var page: UInt64 { arch.pageSize }
            /// Near page `k`'s start in the mapping area: `area + page * k + off`.
            func at(_ k: UInt64, _ off: Int64 = 0) -> UInt64 { (area &+ page * k &+ UInt64(bitPattern: off)) & arch.addressMask }
            func param(_ blocks: [(addr: UInt64, data: [UInt8])], sizes: [UInt64]? = nil, trailing: [UInt8] = []) -> [UInt8] {
                let headers = blocks.enumerated().map { (addr: $1.addr, size: sizes?[$0] ?? UInt64($1.data.count)) }
                return KbindParamBuilder.encode(headers: headers, data: blocks.flatMap(\.data), arch: arch) + trailing
            }
            /// A call with a parameter buffer whose psize is its length unless given.
            func call(_ addr: UInt64, _ param: [UInt8]?, psize: UInt64? = nil, cookie: UInt64 = 0x1122_3344_5566_7788) -> Call {
                Call(addr: addr, param: param, psize: param == nil ? 0 : psize ?? UInt64(param!.count), cookie: cookie)
            }
        }
        func process(_ arch: Arch, areaPages: UInt64?) -> Process {
            let area = areaPages.map { arch.vmMinAddress + arch.pageSize * $0 } ?? arch.vmMaxUserAddress - 4 * arch.pageSize
            return Process(arch: arch, area: area, regionStart: arch.vmMinAddress + 0x40000)
        }
        func input(
            _ p: Process, viaSyscall: Bool, initial: KbindState = KbindState(), mappings: [MemoryMapping]? = nil, _ calls: [Call]
        ) -> Input {
            // Default mappings: pages 0-1 of the area writable, pages 2-4 read-only.
            let maps = mappings ?? [
                MemoryMapping(start: p.at(0), end: p.at(2), writable: true), MemoryMapping(start: p.at(2), end: p.at(5), writable: false),
            ]
            return Input(
                arch: p.arch, policy: .openbsd, mainIsLdso: true, viaSyscall: viaSyscall, regionStart: p.regionStart,
                sites: [p.a0, p.a1].map { SyscallSite(offset: UInt32($0 - p.regionStart), sysno: Sysno.kbind) }, initial: initial,
                mappings: maps, calls: calls)
        }
        var out: [(name: String, input: Input)] = []

        var p = process(.amd64, areaPages: 0x400)
        out.append(
            ("amd64 via the syscall path: one block across the page 0/1 boundary, two blocks, then a wrong cookie (SIGILL) and a dead step",
             input(p, viaSyscall: true, [
                p.call(p.a0, p.param([(p.at(1, -8), Array(0..<16))])),
                p.call(p.a0, p.param([(p.at(1, -16), Array("ABCDEFGH".utf8)), (p.at(1, 8), Array("abcdefgh".utf8))])),
                p.call(p.a0, p.param([(p.at(1), Array("ZZZZZZZZ".utf8))]), cookie: c1),
                p.call(p.a0, nil),
             ])))
        out.append(
            ("amd64 via syscall, regression (CONTRACT mappings, R-KB-12): page 1 is writable and read-only at once; a block across pages 0/1 writes its page-0 piece, then EFAULT",
             input(p, viaSyscall: true,
                mappings: [
                    MemoryMapping(start: p.at(0), end: p.at(2), writable: true), MemoryMapping(start: p.at(1), end: p.at(2), writable: false),
                ],
                [p.call(p.a0, p.param([(p.at(1, -8), [UInt8](repeating: 0xab, count: 16))]))])))
        p = process(.i386, areaPages: 0x400)
        out.append(
            ("i386 direct: NULL first (disables kbind, R-KB-1), then a block (SIGILL, R-KB-3)",
             input(p, viaSyscall: false, [p.call(p.a0, nil), p.call(p.a0, p.param([(p.at(1, 4), [1, 2, 3, 4])]))])))
        p = process(.powerpc64, areaPages: 0x400)
        out.append(
            ("powerpc64 via syscall: into the read-only pages (EFAULT), then from the writable page across into them after a good piece (partial write, R-KB-12)",
             input(p, viaSyscall: true, [
                p.call(p.a0, p.param([(p.at(2, 16), Array("RORORORO".utf8))])),
                p.call(p.a0, p.param([(p.at(2, -8), [UInt8](repeating: 0, count: 16)), (p.at(3, 4), Array("tail".utf8))])),
             ])))
        p = process(.armv7, areaPages: 0x400)
        out.append(
            ("armv7 direct: the first call is invalid (psize 0, R-KB-5) but binds; a call from the other site is SIGILL",
             input(p, viaSyscall: false, [
                p.call(p.a0, p.param([(p.at(0), Array("abcd".utf8))]), psize: 0),
                p.call(p.a1, p.param([(p.at(1), Array("abcd".utf8))])),
             ])))
        p = process(.sparc64, areaPages: nil)
        let top = Arch.sparc64.vmMaxUserAddress
        out.append(
            ("sparc64 near VM_MAXUSER_ADDRESS: a block ending on the last user byte, then one past",
             input(p, viaSyscall: true, mappings: [MemoryMapping(start: p.at(3), end: p.at(4), writable: true)], [
                p.call(p.a0, p.param([(top - 8, Array("lastbyte".utf8))])),
                p.call(p.a0, p.param([(top - 7, Array("pastlast".utf8))])),
             ])))
        p = process(.mips64, areaPages: 0x10)
        out.append(
            ("mips64 direct, already bound: raw parameter bytes, trailing bytes after two blocks (R-KB-8), a lying size (R-KB-7)",
             input(p, viaSyscall: false, initial: KbindState(pc: p.a0 + Arch.mips64.trapDistance, cookie: c0), [
                p.call(p.a0, [UInt8](repeating: 0, count: 7) + [1] + [UInt8](repeating: 0, count: 7) + [4] + Array("data".utf8)),
                p.call(p.a0, p.param([(p.at(1), Array("1111".utf8)), (p.at(1, -16), Array("2222".utf8))], trailing: [3])),
                p.call(p.a0, p.param([(p.at(1), Array("lies".utf8))], sizes: [5])),
             ])))
        p = process(.mips64el, areaPages: 0x10)
        out.append(
            ("mips64el via syscall from outside ld.so's region: pin_check kills (SIGABRT) before kbind",
             input(p, viaSyscall: true, [p.call(p.regionStart + regionLen + 0x40, nil), p.call(p.a0, nil)])))
        return out
    }
}
