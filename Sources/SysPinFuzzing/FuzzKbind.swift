import SysPinCore
import SysPinTesting

/// FuzzKbind: bytes → an arch, user mappings (writable or not), an initial kbind state and a
/// sequence of kbind(2) calls (NULL or a parameter block, psize possibly ≠ the block's length,
/// cookie, trap address), run either through `ProcessState.syscall` with a main table that pins
/// kbind as the wildcard (ld.so's table, R-PT-8) or directly through `Kbind.call`. Each call is
/// checked against `StepOracle`, which uses the naive R-KB-5..9 parse and R-KB-11/12 writer below;
/// the whole run is repeated for INV-DETERMINISM.
///
/// Invariants: INV-KBIND-BIND (R-KB-1..3: the first non-NULL call binds pc and cookie even when it
/// then fails; a later mismatch is SIGILL), INV-KBIND-NOWRITE (no writes on EINVAL/EFAULT from
/// R-KB-5..8 or on a kill, I-6), INV-KBIND-WRITES (pieces equal the block data at the right
/// addresses, one page each, inside writable mappings; partial writes only with R-KB-12, I-7),
/// INV-KBIND-VALIDATE (Kbind.parse and the call agree with the naive R-KB-5..9), INV-KBIND-DEAD /
/// INV-DEAD (after a kill every step is .dead and nothing changes), INV-DETERMINISM.
public enum FuzzKbind {
    struct Call {
        var addr: UInt64
        var param: [UInt8]?
        var psize: UInt64
        var cookie: UInt64
    }

    struct Input {
        var arch: Arch
        var viaSyscall: Bool
        var region: PinRegion
        var initial: KbindState
        var mappings: [MemoryMapping]
        var calls: [Call]
    }

    public static func run(_ bytes: [UInt8]) throws(InvariantViolation) {
        let input = decode(bytes)
        let first = try execute(input)
        let second = try execute(input)
        try require(first == second, "INV-DETERMINISM", "\(input.arch.name): two runs of the same input differ")
    }

    static func execute(_ input: Input) throws(InvariantViolation) -> ProcessTrace {
        let arch = input.arch
        // The region's table is ld.so's: kbind (86) is the wildcard, nothing else is pinned.
        let naiveMain = NaiveTable(
            sites: [], loadBase: input.region.start, delta: 0, start: input.region.start, end: input.region.end, isLdso: true)
        var oracle = StepOracle(
            arch: arch, main: naiveMain, sigtramp: nil, once: false, kbindPC: input.initial.pc,
            kbindCookie: input.initial.cookie, mappings: input.mappings)
        var trace = ProcessTrace()
        if input.viaSyscall {
            var state = ProcessState(arch: arch, main: input.region, kbind: input.initial, mappings: input.mappings)
            for c in input.calls {
                let result = try oracle.step(
                    &state, addr: c.addr, sysno: Int64(Sysno.kbind), .kbind(param: c.param, psize: c.psize, cookie: c.cookie))
                trace.results.append(result)
            }
            trace.final = ProcessSnapshot(state)
            // INV-KBIND-DEAD: a kill is final.
            if let i = trace.results.firstIndex(where: { $0.verdict?.isKilled ?? false }) {
                try require(
                    trace.results[(i + 1)...].allSatisfy { $0 == .dead }, "INV-KBIND-DEAD",
                    "\(arch.name): a step after the kill at step \(i) was not .dead")
            }
        } else {
            var ks = input.initial
            for (i, c) in input.calls.enumerated() {
                let before = ks
                let (v, writes) = Kbind.call(
                    state: &ks, addr: c.addr, param: c.param, psize: c.psize, cookie: c.cookie, mappings: input.mappings,
                    arch: arch)
                trace.results.append(.decided(v, writes: writes))
                try oracle.checkKbind(
                    addr: c.addr, param: c.param, psize: c.psize, cookie: c.cookie, verdict: v, writes: writes,
                    before: before, after: ks, at: "\(arch.name) direct call \(i) at 0x\(String(c.addr, radix: 16))")
                if v.isKilled { break }  // the process is gone: nothing more to call
            }
        }
        return trace
    }

    // MARK: The naive rules

    struct Block: Equatable {
        var addr: UInt64
        var size: UInt64
        var data: [UInt8]
    }

    enum NaiveParse: Equatable {
        case invalid(OpenBSDErrno, RuleID)
        case blocks([Block])
    }

    /// R-KB-5..9 restated from SPEC §8.2, positionally: header #0 at 0, header #1 (only read when
    /// bytes remain after header #0 and its data) at H, data after the last header.
    static func naiveParse(_ param: [UInt8], psize: UInt64, arch: Arch) -> NaiveParse {
        let w = arch.pointerBytes
        let h = UInt64(2 * w)
        let pmax = 2 * h + 24
        if psize < h || psize > pmax { return .invalid(.EINVAL, "R-KB-5") }
        if UInt64(param.count) < psize { return .invalid(.EFAULT, "R-KB-6") }
        func word(_ at: UInt64) -> UInt64 {
            var v: UInt64 = 0
            for i in 0..<w {
                let b = UInt64(param[Int(at) + i])
                v |= arch.endian == .little ? b << (8 * UInt64(i)) : b << (8 * UInt64(w - 1 - i))
            }
            return v
        }
        let limit = arch.vmMaxUserAddress
        // addr < limit and size ≤ 24 make addr + size − 1 exact in 64 bits.
        func ok(_ addr: UInt64, _ size: UInt64, room: UInt64) -> Bool {
            addr != 0 && size != 0 && size <= 24 && addr < limit && addr + size - 1 < limit && room >= size
        }
        let a0 = word(0), s0 = word(UInt64(w))
        guard ok(a0, s0, room: psize - h) else { return .invalid(.EINVAL, "R-KB-7") }
        let rest = psize - h - s0
        if rest == 0 {
            return .blocks([Block(addr: a0, size: s0, data: Array(param[Int(h)..<Int(h + s0)]))])
        }
        if rest < h { return .invalid(.EINVAL, "R-KB-7") }
        let a1 = word(h), s1 = word(h + UInt64(w))
        guard ok(a1, s1, room: rest - h) else { return .invalid(.EINVAL, "R-KB-7") }
        if rest - h - s1 > 0 { return .invalid(.EINVAL, "R-KB-8") }
        let d0 = 2 * h, d1 = 2 * h + s0
        return .blocks([
            Block(addr: a0, size: s0, data: Array(param[Int(d0)..<Int(d0 + s0)])),
            Block(addr: a1, size: s1, data: Array(param[Int(d1)..<Int(d1 + s1)])),
        ])
    }

    /// R-KB-11/12 restated byte by byte: blocks in order, split at page boundaries; a piece with a
    /// byte outside every mapping fails EINVAL, else one with a byte in a mapping that is not
    /// writable fails EFAULT (CONTRACT `mappings`, D-KBIND-FAULT); earlier pieces stay written.
    static func naiveWrites(_ blocks: [Block], mappings: [MemoryMapping], arch: Arch) -> ([KbindWrite], OpenBSDErrno?) {
        var out: [KbindWrite] = []
        for b in blocks {
            var off: UInt64 = 0
            while off < b.size {
                let a = b.addr + off
                let n = min(b.size - off, arch.pageSize - a % arch.pageSize)
                var unmapped = false, readOnly = false
                for p in a..<a + n {
                    if !mappings.contains(where: { $0.start <= p && p < $0.end }) {
                        unmapped = true
                    } else if mappings.contains(where: { !$0.writable && $0.start <= p && p < $0.end }) {
                        readOnly = true
                    }
                }
                if unmapped { return (out, .EINVAL) }
                if readOnly { return (out, .EFAULT) }
                out.append(KbindWrite(address: a, bytes: Array(b.data[Int(off)..<Int(off + n)])))
                off += n
            }
        }
        return (out, nil)
    }

    /// INV-KBIND-VALIDATE on the core's own parser.
    static func compareParse(_ param: [UInt8], psize: UInt64, arch: Arch, at: String) throws(InvariantViolation) {
        let naive = naiveParse(param, psize: psize, arch: arch)
        let core: NaiveParse
        switch Kbind.parse(param, psize: psize, arch: arch) {
        case .rejected(let v): core = .invalid(v.errno ?? OpenBSDErrno(rawValue: 0), v.rule ?? "")
        case .blocks(let bs): core = .blocks(bs.map { Block(addr: $0.addr, size: $0.size, data: $0.data) })
        }
        try require(core == naive, "INV-KBIND-VALIDATE", "\(at): psize \(psize), \(param.count) bytes: Kbind.parse \(core), naive \(naive)")
    }

    // MARK: Decoding

    static func decode(_ bytes: [UInt8]) -> Input {
        var r = FuzzReader(bytes)
        let arch = r.arch()
        let mask = arch.addressMask
        let page = arch.pageSize
        let flags = r.u8()
        let viaSyscall = flags & 1 != 0
        let nearTop = flags & 8 != 0
        // The mapping area: six pages near the bottom of the map, or ending at VM_MAXUSER_ADDRESS.
        let area = nearTop ? arch.vmMaxUserAddress - 4 * page : (arch.vmMinAddress + page * UInt64(r.u16())) & mask
        var mappings: [MemoryMapping] = []
        for _ in 0..<Int(r.u8() % 5) {
            let a = r.u8(), b = r.u8()
            let start = (area &+ page * UInt64(a % 6)) & mask
            mappings.append(MemoryMapping(start: start, end: (start &+ page * UInt64(1 + b % 3)) & mask, writable: b & 0x80 == 0))
        }
        // The region ld.so's table covers; two call sites inside it.
        let regionStart = (arch.vmMinAddress + 0x10000 * (UInt64(r.u8()) + 1)) & mask
        let regionLen: UInt64 = 0x10000
        let region: PinRegion
        if case .table(_, let pins) = PinTableReader.build(entries: [], isLdso: true, len: regionLen) {
            region = PinRegion(start: regionStart, end: regionStart + regionLen, pins: pins)
        } else {
            region = PinRegion(start: regionStart, end: regionStart, pins: [0])
        }
        let a0 = regionStart + UInt64(r.u16()), a1 = regionStart + UInt64(r.u16())
        let c0 = r.u64(), c1 = r.u64()
        let initial: KbindState
        switch (flags >> 1) & 3 {
        case 1: initial = KbindState(pc: Kbind.bogoPC(arch))  // a static PIE (R-KB-14)
        case 2: initial = KbindState(pc: (a0 + arch.trapDistance) & mask, cookie: c0)
        default: initial = KbindState()
        }
        var calls: [Call] = []
        for _ in 0..<(1 + Int(r.u8() % 6)) {
            let sel = r.u8()
            let addr: UInt64
            switch sel & 7 {
            case 0, 1, 2, 3: addr = a0
            case 4, 5: addr = a1
            case 6: addr = regionStart + regionLen + UInt64(r.u16())  // outside: the pin check kills
            default:
                // Anywhere, or where pc = addr + D wraps to 0 or lands on BOGO_PC (R-KB-2/3).
                let any = r.u64() & mask
                addr = r.pick([any, any, (mask &- arch.trapDistance &+ 1) & mask, (mask &- arch.trapDistance) & mask])
            }
            let cookie: UInt64
            switch (sel >> 3) & 3 {
            case 0, 1: cookie = c0
            case 2: cookie = c1
            default: cookie = r.u64()
            }
            switch (sel >> 5) & 7 {
            case 0:
                calls.append(Call(addr: addr, param: nil, psize: 0, cookie: cookie))
            case 1:
                let n = Int(r.u8() % 64)
                let raw = r.take(n)
                calls.append(Call(addr: addr, param: raw, psize: decodePsize(&r, length: raw.count, arch: arch), cookie: cookie))
            default:
                let (param, psize) = decodeParam(&r, arch: arch, area: area)
                calls.append(Call(addr: addr, param: param, psize: psize, cookie: cookie))
            }
        }
        return Input(arch: arch, viaSyscall: viaSyscall, region: region, initial: initial, mappings: mappings, calls: calls)
    }

    /// psize: mostly the block's length, sometimes a boundary of R-KB-5 or a lie.
    static func decodePsize(_ r: inout FuzzReader, length: Int, arch: Arch) -> UInt64 {
        let n = UInt64(length)
        switch r.u8() % 10 {
        case 6: return n &- 1
        case 7: return n + 1
        case 8: return UInt64(arch.kbindHeaderSize)
        case 9: return r.pick([0, UInt64(arch.kbindParamMax), UInt64(arch.kbindParamMax) + 1, UInt64.max])
        default: return n
        }
    }

    /// A parameter block built with `KbindParamBuilder`: zero to three headers whose addresses sit
    /// near page boundaries of `area` or at R-KB-7's limits, sizes that mostly tell the truth, data
    /// from the input, sometimes trailing bytes; then psize and, sometimes, a buffer cut short of
    /// psize (R-KB-6).
    static func decodeParam(_ r: inout FuzzReader, arch: Arch, area: UInt64) -> ([UInt8], UInt64) {
        let mask = arch.addressMask
        let page = arch.pageSize
        let nblocks = [1, 1, 1, 2, 2, 2, 0, 3][Int(r.u8() % 8)]
        var headers: [(addr: UInt64, size: UInt64)] = []
        var data: [UInt8] = []
        for _ in 0..<nblocks {
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
            case 6: size = r.pick([25, UInt64(len) + 1, mask])
            default: size = UInt64(len)
            }
            headers.append((addr, size))
            var d = r.take(len)
            d += [UInt8](repeating: 0, count: len - d.count)
            data += d
        }
        var param = KbindParamBuilder.encode(headers: headers, data: data, arch: arch)
        let extra = r.u8()
        if extra % 4 == 3 {
            param += [UInt8](repeating: extra, count: 1 + Int(extra >> 5))  // trailing bytes (R-KB-8)
        }
        let psize = decodePsize(&r, length: param.count, arch: arch)
        if r.u8() % 8 == 7, psize > 0, psize <= UInt64(param.count) {
            param = Array(param.prefix(Int(psize - 1)))
        }
        return (param, psize)
    }
}
