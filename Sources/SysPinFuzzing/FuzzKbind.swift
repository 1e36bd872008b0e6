import SysPinCore
import SysPinReference
import SysPinTesting

/// FuzzKbind: bytes → an arch, a policy, user mappings (writable or not), an initial kbind state
/// and a sequence of kbind(2) calls (NULL or a parameter block, psize possibly ≠ the block's
/// length, cookie, trap address), run either through `ProcessState.syscall` with ld.so's table
/// (kbind is the wildcard, R-PT-8; its two recorded kbind sites are the strict policy's) or
/// directly through `Kbind.call`, and compared with the reference model (`RefProcess.step` or
/// `RefKbind.call`).
///
/// Invariants: INV-REF-STEP / INV-REF-STATE (through the system call: result, signal, rule, writes,
/// binding, kill), INV-REF-KBIND (direct calls: verdict, writes, binding), INV-REF-VALIDATE
/// (`Kbind.parse` against the reference's R-KB-5..9), INV-KBIND-NOWRITE (I-6) and INV-KBIND-WRITES
/// (I-7: partial writes only with R-KB-12).
public enum FuzzKbind {
    struct Call: Equatable {
        var addr: UInt64
        var param: [UInt8]?
        var psize: UInt64
        var cookie: UInt64
    }

    struct Input: Equatable {
        var arch: Arch
        var policy: PinPolicy
        /// The region is ld.so's (the usual case) rather than a static program's.
        var mainIsLdso: Bool
        var viaSyscall: Bool
        var regionStart: UInt64
        /// The two kbind call sites inside the region (ld.so's recorded kbind entries).
        var sites: [SyscallSite]
        var initial: KbindState
        var mappings: [MemoryMapping]
        var calls: [Call]
    }

    static let regionLen: UInt64 = 0x10000

    /// Decodes as it runs: the header, then one call at a time into one reused parameter buffer
    /// (no list of calls, no array per parameter block); `decode` reads the same bytes into an
    /// `Input` with the same decoders.
    public static func run(_ bytes: [UInt8]) throws(InvariantViolation) {
        var r = FuzzReader(bytes)
        let h = decodeHeader(&r)
        let arch = h.arch
        let ra = RefArch(arch)
        let mask = arch.addressMask
        let maps = h.mappings.map(RefMapping.init)
        let policy = h.policy
        func at() -> String { Lockstep.Label.archPolicy(arch, policy).text }
        // Every call's parameter block is decoded into this buffer (at most `paramCapacity` bytes),
        // allocated at the first call that has one.
        var buffer: [UInt8] = []
        if h.viaSyscall {
            let (region, refTable) = try tables(arch: arch, policy: policy, regionStart: h.regionStart, sites: h.sites)
            var core = ProcessState(arch: arch, main: region, kbind: h.initial, mappings: h.mappings, policy: policy)
            core.trusted.mainIsRuntimeLinker = h.mainIsLdso
            var run = try Lockstep(
                core: core,
                ref: RefProcess(
                    arch: ra, policy: RefPolicy(policy), main: refTable, kbindPC: h.initial.pc,
                    kbindCookie: h.initial.cookie, mappings: maps, mainIsLdso: h.mainIsLdso),
                label: .archPolicy(arch, policy))
            for _ in 0..<h.ncalls {
                let c = decodeCall(&r, h, into: &buffer)
                let param = c.hasParam ? buffer : nil
                if let param { try compareParse(param, psize: c.psize, arch: arch, ra, at: at()) }
                try run.step(
                    addr: c.addr, sysno: Int64(Sysno.kbind), .kbind(param: param, psize: c.psize, cookie: c.cookie),
                    .kbind(param: param, psize: c.psize, cookie: c.cookie))
            }
            return
        }
        var ks = h.initial
        var refPC = h.initial.pc, refCookie = h.initial.cookie
        for i in 0..<h.ncalls {
            let c = decodeCall(&r, h, into: &buffer)
            let param = c.hasParam ? buffer : nil
            func here() -> String { "\(at()) direct call \(i) at 0x\(String(c.addr, radix: 16))" }
            if let param { try compareParse(param, psize: c.psize, arch: arch, ra, at: here()) }
            let (v, writes) = Kbind.call(
                state: &ks, addr: c.addr, param: param, psize: c.psize, cookie: c.cookie, mappings: h.mappings, arch: arch)
            let (rv, rw) = RefKbind.call(
                pc: &refPC, cookie: &refCookie, trapAddr: c.addr & mask, param: param, psize: c.psize, cookie: c.cookie,
                mappings: maps, arch: ra)
            // The core's verdict and writes against the reference's as they are (converted only
            // for a message).
            try require(
                rv.matches(v) && RefCompare.sameWrites(writes, rw), "INV-REF-KBIND",
                "\(here()): core \(Lockstep.show(RefStepResult(.decided(v, writes: writes)))), reference \(Lockstep.show(.decided(rv, rw)))")
            try require(
                ks.pc == refPC && ks.cookie == refCookie, "INV-REF-KBIND",
                "\(here()): binding 0x\(String(ks.pc, radix: 16))/\(ks.cookie), reference 0x\(String(refPC, radix: 16))/\(refCookie)")
            // I-6 / I-7: writes only on success or with the update phase's own error.
            try require(writes.isEmpty || v.isOK || v.rule == "R-KB-12", "INV-KBIND-WRITES", "\(here()): \(v) with \(writes.count) writes (I-6, I-7)")
            try require(!(v.isKilled && !writes.isEmpty), "INV-KBIND-NOWRITE", "\(here()): a kill with writes (I-6)")
            if v.isKilled { break }  // the process is gone: nothing more to call
        }
    }

    /// ld.so's table of `input` in each model.
    static func tables(_ input: Input) throws(InvariantViolation) -> (PinRegion, RefTable) {
        try tables(arch: input.arch, policy: input.policy, regionStart: input.regionStart, sites: input.sites)
    }

    /// ld.so's table in each model: kbind is the wildcard (R-PT-8), nothing else is pinned; the
    /// two recorded kbind sites are the strict policy's.
    static func tables(arch: Arch, policy: PinPolicy, regionStart: UInt64, sites: [SyscallSite]) throws(InvariantViolation) -> (PinRegion, RefTable) {
        let ra = RefArch(arch)
        guard case .table(_, let pins) = PinTableReader.build(entries: sites, isLdso: true, len: regionLen) else {
            throw InvariantViolation("INV-REF-PARSE", "\(arch.name): ld.so's kbind-only table was discarded")
        }
        var region = PinRegion(start: regionStart, end: regionStart + regionLen, pins: pins)
        if policy == .strict {
            region = region.withStrictSites(recorded: sites, origin: regionStart, mask: arch.addressMask)
        }
        let entries = sites.map(RefEntry.init)
        let refPins = RefPins.build(entries, isLdso: true, len: regionLen).pins ?? []
        let refTable = RefTable(
            start: regionStart, end: regionStart + regionLen, pins: refPins,
            sites: RefPins.strictSites(pins: refPins, start: regionStart, recorded: entries, origin: regionStart, arch: ra))
        return (region, refTable)
    }

    /// `Kbind.parse` against the reference's R-KB-5..9, block by block in place (the core's
    /// parse is converted to the reference's values, and the reference's blocks copied out, only
    /// for a message).
    static func compareParse(
        _ param: [UInt8], psize: UInt64, arch: Arch, _ ra: RefArch, at: @autoclosure () -> String
    ) throws(InvariantViolation) {
        let core = Kbind.parse(param, psize: psize, arch: arch)
        let ref = RefKbind.validate(param, psize: psize, arch: ra)
        let same: Bool
        switch (core, ref) {
        case (.rejected(let v), .failure(let f)): same = f.verdict.matches(v)
        case (.blocks(let bs), .success(let n)):
            same =
                bs.count == n
                && bs.indices.allSatisfy { i in
                    let b = RefKbind.block(i, of: n, in: param, arch: ra)
                    return bs[i].addr == b.addr && bs[i].hasData(param[b.data])
                }
        default: same = false
        }
        try require(
            same, "INV-REF-VALIDATE",
            "\(at()): psize \(psize), \(param.count) bytes: Kbind.parse \(refValues(core)), reference \(RefKbind.parse(param, psize: psize, arch: ra))")
    }

    /// A core parse as the reference's values (for messages).
    static func refValues(_ p: KbindParse) -> Result<[RefKbind.Block], RefFailure> {
        switch p {
        case .rejected(let v): return .failure(RefFailure(verdict: RefVerdict(v)))
        case .blocks(let bs): return .success(bs.map { RefKbind.Block(addr: $0.addr, data: $0.data) })
        }
    }

    // MARK: Decoding

    /// What precedes the calls: the process, its mappings, the region and its two sites, the
    /// cookies and the number of calls.
    struct Header {
        var arch: Arch
        var policy: PinPolicy
        var mainIsLdso: Bool
        var viaSyscall: Bool
        var area: UInt64
        var mappings: [MemoryMapping]
        var regionStart: UInt64
        var a0: UInt64
        var a1: UInt64
        var c0: UInt64
        var c1: UInt64
        var initial: KbindState
        var ncalls: Int

        /// The two kbind call sites as ld.so's recorded entries (built only for the system-call
        /// runs, which build its table).
        var sites: [SyscallSite] {
            [
                SyscallSite(offset: UInt32(a0 - regionStart), sysno: Sysno.kbind),
                SyscallSite(offset: UInt32(a1 - regionStart), sysno: Sysno.kbind),
            ]
        }
    }

    /// One call as decoded: its parameter block, when `hasParam`, is in the caller's buffer.
    struct CallHead {
        var addr: UInt64
        var hasParam: Bool
        var psize: UInt64
        var cookie: UInt64
    }

    /// The largest parameter buffer a call decodes to: three headers with 24 data bytes each and
    /// 8 trailing bytes (`decodeParam`), or 63 raw bytes.
    static let paramCapacity = 3 * (16 + Kbind.dataMax) + 8

    static func decode(_ bytes: [UInt8]) -> Input {
        var r = FuzzReader(bytes)
        let h = decodeHeader(&r)
        var calls: [Call] = []
        calls.reserveCapacity(h.ncalls)
        for _ in 0..<h.ncalls {
            var param: [UInt8] = []
            let c = decodeCall(&r, h, into: &param)
            calls.append(Call(addr: c.addr, param: c.hasParam ? param : nil, psize: c.psize, cookie: c.cookie))
        }
        return Input(
            arch: h.arch, policy: h.policy, mainIsLdso: h.mainIsLdso, viaSyscall: h.viaSyscall, regionStart: h.regionStart,
            sites: h.sites, initial: h.initial, mappings: h.mappings, calls: calls)
    }

    /// The six-page mapping area across the MMU hole's start (sparc64; D-KBIND-HOLE).
    static func holeArea(_ arch: Arch) -> UInt64 { arch.vaHole.lowerBound &- 3 * arch.pageSize }

    static func decodeHeader(_ r: inout FuzzReader) -> Header {
        // Flags bits 4 and 5 (the layout left them unused) draw the policy.
        let (arch, mask, page, flags, policy) = r.processPreamble(policyLow: 16, high: 32)
        let viaSyscall = flags & 1 != 0
        let nearTop = flags & 8 != 0
        // Bit 6: the region is a static program's, not ld.so's (D-LIBSYS trusts only ld.so's).
        let mainIsLdso = flags & 64 == 0
        // The mapping area: six pages near the bottom of the map, or ending at VM_MAXUSER_ADDRESS,
        // or (bit 7, on an arch with an MMU hole: sparc64) three pages either side of the hole's
        // start, so mappings can cover pages the kernel's map holds as a hole (D-KBIND-HOLE).
        let atHole = flags & 128 != 0 && !arch.vaHole.isEmpty
        let area =
            atHole
            ? holeArea(arch)
            : nearTop ? arch.vmMaxUserAddress - 4 * page : (arch.vmMinAddress + page * UInt64(r.u16())) & mask
        var mappings: [MemoryMapping] = []
        let nmappings = Int(r.u8() % 5)
        mappings.reserveCapacity(nmappings)
        for _ in 0..<nmappings {
            let a = r.u8(), b = r.u8()
            let start = (area &+ page * UInt64(a % 6)) & mask
            mappings.append(MemoryMapping(start: start, end: (start &+ page * UInt64(1 + b % 3)) & mask, writable: b & 0x80 == 0))
        }
        // The region ld.so's table covers; two call sites inside it.
        let regionStart = (arch.vmMinAddress + 0x10000 * (UInt64(r.u8()) + 1)) & mask
        let a0 = regionStart + UInt64(r.u16()), a1 = regionStart + UInt64(r.u16())
        let c0 = r.u64(), c1 = r.u64()
        let initial: KbindState
        switch (flags >> 1) & 3 {
        case 1: initial = KbindState(pc: Kbind.bogoPC(arch))  // a static PIE (R-KB-14)
        case 2: initial = KbindState(pc: (a0 + arch.trapDistance) & mask, cookie: c0)
        default: initial = KbindState()
        }
        let ncalls = 1 + Int(r.u8() % 6)
        return Header(
            arch: arch, policy: policy, mainIsLdso: mainIsLdso, viaSyscall: viaSyscall, area: area, mappings: mappings,
            regionStart: regionStart, a0: a0, a1: a1, c0: c0, c1: c1, initial: initial, ncalls: ncalls)
    }

    /// The next call; a parameter block replaces `param`'s contents (its storage is reused).
    static func decodeCall(_ r: inout FuzzReader, _ h: Header, into param: inout [UInt8]) -> CallHead {
        let arch = h.arch
        let mask = arch.addressMask
        let sel = r.u8()
        let addr: UInt64
        switch sel & 7 {
        case 0, 1, 2, 3: addr = h.a0
        case 4, 5: addr = h.a1
        case 6: addr = h.regionStart + regionLen + UInt64(r.u16())  // outside: the pin check kills
        default:
            // Anywhere, or where pc = addr + D wraps to 0 or lands on BOGO_PC (R-KB-2/3).
            let any = r.u64() & mask
            switch r.u8() % 4 {
            case 0, 1: addr = any
            case 2: addr = (mask &- arch.trapDistance &+ 1) & mask
            default: addr = (mask &- arch.trapDistance) & mask
            }
        }
        let cookie: UInt64
        switch (sel >> 3) & 3 {
        case 0, 1: cookie = h.c0
        case 2: cookie = h.c1
        default: cookie = r.u64()
        }
        switch (sel >> 5) & 7 {
        case 0:
            return CallHead(addr: addr, hasParam: false, psize: 0, cookie: cookie)
        case 1:
            param.removeAll(keepingCapacity: true)
            param.reserveCapacity(paramCapacity)
            let n = Int(r.u8() % 64)
            let got = r.append(n, to: &param)
            return CallHead(addr: addr, hasParam: true, psize: decodePsize(&r, length: got, arch: arch), cookie: cookie)
        default:
            let psize = decodeParam(&r, arch: arch, area: h.area, into: &param)
            return CallHead(addr: addr, hasParam: true, psize: psize, cookie: cookie)
        }
    }

    /// psize: mostly the block's length, sometimes a boundary of R-KB-5, a lie, or the length with
    /// bit 32 set (a size_t is 32 bits on ILP32, D-SIZET).
    static func decodePsize(_ r: inout FuzzReader, length: Int, arch: Arch) -> UInt64 {
        let n = UInt64(length)
        switch r.u8() % 10 {
        case 6: return n &- 1
        case 7: return n + 1
        case 8: return UInt64(arch.kbindHeaderSize)
        case 9:
            let pick = r.u8()
            if pick >= 252 { return n | 1 << 32 }
            switch pick % 4 {
            case 0: return 0
            case 1: return UInt64(arch.kbindParamMax)
            case 2: return UInt64(arch.kbindParamMax) + 1
            default: return UInt64.max
            }
        default: return n
        }
    }

    /// A parameter block laid out as `KbindParamBuilder` encodes it: zero to three headers whose
    /// addresses sit near page boundaries of `area` or at R-KB-7's limits, sizes that mostly tell
    /// the truth, data from the input, sometimes trailing bytes; then psize and, sometimes, a
    /// buffer cut short of psize (R-KB-6). Built in one buffer: the headers' room first (each
    /// header filled in as its block is drawn), then every block's data in order.
    static func decodeParam(_ r: inout FuzzReader, arch: Arch, area: UInt64) -> ([UInt8], UInt64) {
        var param: [UInt8] = []
        let psize = decodeParam(&r, arch: arch, area: area, into: &param)
        return (param, psize)
    }

    /// `decodeParam` into `param` (its contents replaced, its storage reused); returns psize.
    static func decodeParam(_ r: inout FuzzReader, arch: Arch, area: UInt64, into param: inout [UInt8]) -> UInt64 {
        let mask = arch.addressMask
        let page = arch.pageSize
        let nblocks: Int
        switch r.u8() % 8 {
        case 0, 1, 2: nblocks = 1
        case 3, 4, 5: nblocks = 2
        case 6: nblocks = 0
        default: nblocks = 3
        }
        let h = arch.kbindHeaderSize
        param.removeAll(keepingCapacity: true)
        // Headers, up to 24 data bytes a block, up to 8 trailing bytes: one allocation (none when
        // the buffer is reused).
        param.reserveCapacity(paramCapacity)
        param.append(contentsOf: repeatElement(0, count: nblocks * h))
        for i in 0..<nblocks {
            let choice = r.u8()
            let len = 1 + Int(r.u8() % 24)
            let addr: UInt64
            switch choice % 8 {
            case 0, 1, 2:
                // Around a page boundary of the area: pieces split (R-KB-11).
                addr = (area &+ page * UInt64(r.u8() % 6) &- 16 &+ UInt64(r.u8() % 32)) & mask
            case 3: addr = (area &+ UInt64(r.u16()) % (6 * page)) & mask
            case 4: addr = 0
            case 5: addr = arch.vmMaxUserAddress - UInt64(len)  // last byte is the last user byte
            case 6: addr = arch.vmMaxUserAddress - UInt64(len) + 1  // one past: EINVAL
            default: addr = r.u64() & mask
            }
            let size: UInt64
            switch (choice >> 3) % 8 {
            case 5: size = 0
            case 6:
                switch r.u8() % 3 {
                case 0: size = 25
                case 1: size = UInt64(len) + 1
                default: size = mask
                }
            default: size = UInt64(len)
            }
            KbindParamBuilder.setHeader(i, addr: addr, size: size, in: &param, arch: arch)
            // The block's data: from the input, zero-padded to len.
            let got = r.append(len, to: &param)
            param.append(contentsOf: repeatElement(0, count: len - got))
        }
        let extra = r.u8()
        if extra % 4 == 3 {
            param.append(contentsOf: repeatElement(extra, count: 1 + Int(extra >> 5)))  // trailing bytes (R-KB-8)
        }
        let psize = decodePsize(&r, length: param.count, arch: arch)
        if r.u8() % 8 == 7, psize > 0, psize <= UInt64(param.count) {
            param.removeSubrange(Int(psize - 1)...)
        }
        return psize
    }
}
