import SysPinCore

/// The encoder beside `FuzzPinsyscalls.decode`.
///
/// decode is not injective, so encode writes one canonical choice per value (unused flag bits 0,
/// the first matching choice of each switch, the first matching index of each `pick`, a site
/// offset or small value through its raw `u16`/`u32` when that reads back the same) and
/// `decode(encode(x)) == x` holds for the inputs decode returns (a test checks the seeds and
/// random inputs). Choices `Input` does not keep:
/// - with no main table (`sites == nil`) decode still read sites, which then only show through
///   `delta`, the trampoline and the addresses steps pick: encode tries no sites, then sites at the
///   offsets those values need (and may not find them all);
/// - pin writes are ordered by index, `multipleSitesPin` markers last; later writes to one index
///   and writes of 0 are not kept (decode keeps only the final array);
/// - a probe's raw code is 0 unless the code is taken from it; a submission's `near` is the first
///   interesting address unless the base is taken from it.
extension FuzzPinsyscalls {
    static func encode(_ input: Input) -> [UInt8] {
        var tries: [[SyscallSite]] = []
        if let sites = input.sites {
            tries = [sites]
        } else {
            tries = [[], hiddenSites(input)]
        }
        var first: [UInt8]?
        for sites in tries {
            guard let b = encode(input, sites: sites) else { continue }
            if decode(b) == input { return b }
            first = first ?? b
        }
        return first ?? []
    }

    /// Sites a main table that decode did not keep must have had: one giving `delta`, and one at
    /// each step address inside the region that no other choice reaches.
    static func hiddenSites(_ input: Input) -> [SyscallSite] {
        let mask = input.arch.addressMask
        let len = input.mainLen
        var offsets: [UInt64] = []
        // delta = min(offset + k - 1, len): offset delta (k = 1), delta - 1 (k = 2), or len.
        if input.delta != 0 { offsets.append(input.delta <= 0xFFFF ? input.delta : input.delta - 1 <= 0xFFFF ? input.delta - 1 : len) }
        if let t = input.sigtramp { offsets.append((t &- input.mainStart) & mask) }
        for s in input.steps {
            let d = (s.addr &- input.mainStart) & mask
            if !offsets.contains(d) { offsets.append(d) }
        }
        // Offsets a site can have: u16 % (len + 1), len, len + 1.
        return offsets.filter { $0 <= min(len, 0xFFFF) || $0 == len || $0 == len + 1 }.prefix(6).map {
            SyscallSite(offset: UInt32($0), sysno: Sysno.pinsyscalls)
        }
    }

    static func encode(_ input: Input, sites: [SyscallSite]) -> [UInt8]? {
        let arch = input.arch
        let mask = arch.addressMask
        let page = arch.pageSize
        let (mainStart, mainLen) = (input.mainStart, input.mainLen)
        var w = FuzzWriter()
        w.arch(arch)
        // The region: vmMinAddress + page * pages, or on ILP32 2^32 - page * (1 + pages % 64).
        var top = false
        var pages: UInt16 = 0
        let q = (mainStart &- arch.vmMinAddress) / page
        if q <= 0xFFFF && (arch.vmMinAddress + page * q) & mask == mainStart {
            pages = UInt16(q)
        } else if arch.pointerBytes == 4, let p = (0..<64).first(where: { (0x1_0000_0000 - page * (1 + UInt64($0))) & mask == mainStart }) {
            (top, pages) = (true, UInt16(p))
        } else {
            return nil
        }
        guard mainLen % 4 == 0, mainLen / 4 <= 0xFFFF, sites.count < 7 else { return nil }
        // delta: min(site offset + k - 1, len) for a site i and k < 3.
        var deltaPick: (UInt8, UInt8)?
        if input.delta != 0 {
            outer: for (i, s) in sites.prefix(256).enumerated() {
                for k in 0..<3 where min(UInt64(s.offset) &+ UInt64(k) &- 1, mainLen) == input.delta {
                    deltaPick = (UInt8(i), UInt8(k))
                    break outer
                }
            }
            guard deltaPick != nil else { return nil }
        }
        var tramp: [UInt8] = []
        if let t = input.sigtramp {
            if t == (mainStart &+ mainLen) & mask {
                tramp = [0]
            } else if t == sites.first.map({ (mainStart &+ UInt64($0.offset)) & mask }) ?? mainStart {
                tramp = [1]
            } else {
                var e = FuzzWriter()
                e.u8(2)
                e.u64(t)
                tramp = e.bytes
            }
        }
        let (low, high) = FuzzReader.policyBits(input.policy)
        let flags =
            (input.once ? 1 : 0) | (input.isLdso ? 2 : 0) | (input.sites == nil ? 4 : 0) | (input.sigtramp != nil ? 8 : 0)
            | (deltaPick != nil ? 16 : 0) | (top ? 32 : 0) | (low ? 64 : 0) | (high ? 128 : 0) as UInt8
        w.u8(flags)
        w.u16(pages)
        w.u16(UInt16(mainLen / 4))
        w.u8(UInt8(sites.count))
        var previous: SyscallSite?
        for s in sites {
            let off = UInt64(s.offset)
            if off <= mainLen && off <= 0xFFFF {
                w.u8(4)
                w.u16(UInt16(off))
            } else if off == mainLen {
                w.u8(1)
            } else if off == mainLen + 1 {
                w.u8(2)
            } else if s.offset == previous?.offset ?? 4 {
                w.u8(3)
            } else {
                return nil
            }
            let fixed: [UInt32: UInt8] = [Sysno.pinsyscalls: 0, Sysno.kbind: 8, Sysno.sigreturn: 10, 1: 12, 330: 13, 0: 22, 331: 23]
            if let c = fixed[s.sysno] {
                w.u8(c)
            } else if s.sysno < 331 {
                w.u8(16)
                w.u16(UInt16(s.sysno))
            } else if s.sysno == previous?.sysno ?? Sysno.pinsyscalls {
                w.u8(14)
            } else {
                return nil
            }
            previous = s
        }
        if let (i, k) = deltaPick {
            w.u8(i)
            w.u8(k)
        }
        w.bytes(tramp)

        // The decoder's running lists of addresses and codes to pick from.
        var interesting: [UInt64] = [mainStart, (mainStart &+ mainLen) & mask, (mainStart &+ mainLen &- 1) & mask]
        for s in sites { interesting.append((mainStart &+ UInt64(s.offset)) & mask) }
        var codes = FuzzPinsyscalls.fixedCodes
        let pinSite = sites.first { $0.sysno == Sysno.pinsyscalls }.map { (mainStart &+ UInt64($0.offset)) & mask }
        func index(_ xs: [UInt64], _ x: UInt64) -> UInt8? { xs.prefix(256).firstIndex(of: x).map { UInt8($0) } }

        guard (1...6).contains(input.steps.count) else { return nil }
        w.u16(UInt16(input.steps.count - 1))
        for step in input.steps {
            switch step.request {
            case .plain:
                guard let a = index(interesting, step.addr) else { return nil }
                let fixed = codes + [0, -1, 331, Int64(UInt32.max) + 1, Int64.min]
                var any: UInt16 = 0
                var pick: Int
                if let i = fixed.firstIndex(of: step.sysno) {
                    pick = i
                } else if (0..<400).contains(step.sysno) {
                    (any, pick) = (UInt16(step.sysno), fixed.count)
                } else {
                    return nil
                }
                guard pick < 256 else { return nil }
                w.u8(3)
                w.u8(a)
                w.u16(any)
                w.u8(UInt8(pick))
            case .pinsyscalls(let call, let threads):
                guard step.sysno == Int64(Sysno.pinsyscalls) else { return nil }
                w.u8(0)
                let d = (step.addr &- mainStart) & mask
                if step.addr == pinSite ?? mainStart {
                    w.u8(0)
                } else if step.addr == input.sigtramp ?? mainStart {
                    w.u8(5)
                } else if d < max(mainLen, 1) && d <= 0xFFFF {
                    w.u8(3)
                    w.u16(UInt16(d))
                } else if let i = index(interesting, step.addr) {
                    w.u8(6)
                    w.u8(i)
                } else if step.addr <= mask {
                    w.u8(4)
                    w.u64(step.addr)
                } else {
                    return nil
                }
                guard w.threads(threads) else { return nil }
                guard let callBytes = encodeCall(call, arch: arch, interesting: interesting) else { return nil }
                w.bytes(callBytes)
                noteSubmission(call, mask: mask, interesting: &interesting, codes: &codes)
            default:
                return nil
            }
        }
        return w.bytes
    }

    /// The `near` pick and `decodeCall`'s bytes for `call`.
    static func encodeCall(_ call: PinsyscallsCall, arch: Arch, interesting: [UInt64]) -> [UInt8]? {
        let mask = arch.addressMask
        let page = arch.pageSize
        var w = FuzzWriter()
        var near: UInt8 = 0
        var base = FuzzWriter()
        let specials: [(UInt8, UInt64)] = [
            (1, arch.vmMinAddress), (4, 0), (5, mask), (6, arch.vmMaxUserAddress - page), (7, arch.vmMaxUserAddress),
            (8, arch.vmMinAddress - 1),
        ]
        let q = (call.base &- arch.vmMinAddress) / page
        if call.base == interesting[0] {
            base.u8(0)
        } else if let (c, _) = specials.first(where: { $0.1 == call.base }) {
            base.u8(c)
        } else if q <= 0xFFFF && (arch.vmMinAddress + page * q) & mask == call.base {
            base.u8(2)
            base.u16(UInt16(q))
        } else if let i = interesting.prefix(256).firstIndex(of: call.base) {
            near = UInt8(i)
            base.u8(0)
        } else {
            base.u8(9)
            base.u64(call.base)
        }
        w.u8(near)
        w.bytes(base.bytes)
        let b = call.base & mask
        let len = call.len
        if len == 0 {
            w.u8(0)
        } else if len <= 0xFFFF {
            w.u8(1)
            w.u16(UInt16(len))
        } else if let (c, _) = [
            (5 as UInt8, ((mask &- b) &+ 1) & mask), (6, mask &- b), (7, (arch.vmMaxUserAddress &- b) & mask),
            (8, (arch.vmMaxUserAddress &- b &+ 1) & mask),
        ].first(where: { $0.1 == len }) {
            w.u8(c)
        } else if len <= 0xFFFF_FFFF {
            w.u8(4)
            w.u32(UInt32(len))
        } else {
            w.u8(9)
            w.u64(len)
        }
        let l = len & mask
        let npinsFixed: [Int64: UInt8] = [
            -1: 0, Int64(Int32.min): 1, 0: 2, 1: 3, 87: 4, 159: 5, 330: 6, 331: 7, 332: 8, Int64(Int32.max): 9,
        ]
        if let c = npinsFixed[call.npins] {
            w.u8(c)
        } else if (0..<340).contains(call.npins) {
            w.u8(10)
            w.u16(UInt16(call.npins))
        } else if ((1 << 32)..<((1 << 32) + 340)).contains(call.npins) {
            w.u8(11)
            w.u16(UInt16(call.npins - (1 << 32)))
        } else {
            return nil
        }
        let full = Int(max(0, min(call.npins, 340)))
        let count = call.pins.count
        if count == full {
            w.u8(0)
        } else if count == max(0, full - 1) {
            w.u8(5)
        } else if count == 0 {
            w.u8(6)
        } else if count == full + 2 {
            w.u8(7)
        } else {
            return nil
        }
        let l32 = UInt32(truncatingIfNeeded: l)
        let set = call.pins.indices.filter { call.pins[$0] != 0 }
        let order = set.filter { call.pins[$0] != multipleSitesPin } + set.filter { call.pins[$0] == multipleSitesPin }
        guard order.count < 12 else { return nil }
        w.u8(UInt8(order.count))
        for i in order {
            let v = call.pins[i]
            w.u16(UInt16(i))
            if v == multipleSitesPin {
                w.u8(0)
            } else if v == l32 {
                w.u8(1)
            } else if v == l32 &+ 1 {
                w.u8(2)
            } else if l != 0 && UInt64(v) < min(l, 0xFFFF_FFFF) {
                w.u8(5)
                w.u32(v)
            } else {
                w.u8(4)
                w.u32(v)
            }
        }
        return w.bytes
    }
}
