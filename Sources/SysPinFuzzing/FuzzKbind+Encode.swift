import SysPinCore
import SysPinTesting

/// The encoder beside `FuzzKbind.decode`, and the hand-made seeds.
///
/// decode is not injective, so encode writes one canonical choice per value and
/// `decode(encode(x)) == x` holds for every `x` decode returns (a test checks it on the seeds and on
/// random inputs). Where a choice is not in `Input`, encode picks it:
/// - the mapping area is not kept: the lowest mapping's start (or the top area when every mapping
///   fits there, or sparc64's area across its MMU hole when every mapping fits that; vmMinAddress
///   when there is none), and block addresses outside it are written raw;
/// - the cookies c0/c1 are kept only where used: c0 is the bound cookie or the first call's, c1
///   the first other cookie, else 0x99; unused choice bytes are 0;
/// - a parameter buffer is written as blocks when its headers, sizes, data, trailing bytes and
///   psize can be read back from it (addresses at the area's page edges or R-KB-7's limits), else
///   as raw bytes (under 64), else as blocks with raw addresses; a buffer cut short of psize gets
///   its missing last byte as 0.
extension FuzzKbind {
    static func encode(_ input: Input) -> [UInt8] {
        let arch = input.arch
        let mask = arch.addressMask
        let page = arch.pageSize
        var w = FuzzWriter()
        w.arch(arch)
        // The mapping area.
        let topArea = arch.vmMaxUserAddress - 4 * page
        func fits(_ area: UInt64) -> Bool {
            input.mappings.allSatisfy { m in
                let d = (m.start &- area) & mask
                return d % page == 0 && d / page < 6
            }
        }
        let nearTop = !input.mappings.isEmpty && fits(topArea)
        // sparc64's area across the MMU hole's start (flags bit 7).
        let holeArea = Self.holeArea(arch)
        let atHole = !nearTop && !arch.vaHole.isEmpty && !input.mappings.isEmpty && fits(holeArea)
        var area = atHole ? holeArea : topArea
        var areaPages: UInt16 = 0
        if !nearTop && !atHole {
            area = arch.vmMinAddress
            if let low = input.mappings.map(\.start).min() {
                let q = (low &- arch.vmMinAddress) / page
                for k in 0...min(q, 5) {
                    let a = (arch.vmMinAddress + page * (q - k)) & mask
                    if q - k <= UInt64(UInt16.max) && fits(a) {
                        (area, areaPages) = (a, UInt16(q - k))
                        break
                    }
                }
            }
        }
        let a0 = input.regionStart + UInt64(input.sites[0].offset), a1 = input.regionStart + UInt64(input.sites[1].offset)
        var stateKind: UInt8 = 0
        if input.initial == KbindState() {
            stateKind = 0
        } else if input.initial == KbindState(pc: Kbind.bogoPC(arch)) {
            stateKind = 1
        } else {
            stateKind = 2
        }
        let c0 = stateKind == 2 ? input.initial.cookie : input.calls.first?.cookie ?? 0
        let c1 = input.calls.first { $0.cookie != c0 }?.cookie ?? 0x99
        let (low, high) = FuzzReader.policyBits(input.policy)
        w.u8(
            (input.viaSyscall ? 1 : 0) | stateKind << 1 | (nearTop ? 8 : 0) | (low ? 16 : 0) | (high ? 32 : 0)
                | (input.mainIsLdso ? 0 : 64) | (atHole ? 128 : 0))
        if !nearTop && !atHole { w.u16(areaPages) }
        w.u8(UInt8(input.mappings.count))
        for m in input.mappings {
            w.u8(UInt8(((m.start &- area) & mask) / page))
            // pages = 1 + b % 3 with bit 7 = read-only: b = 0x80 + x reads 1 + (2 + x) % 3 pages.
            let pages = UInt8(((m.end &- m.start) & mask) / page)
            w.u8(m.writable ? pages - 1 : 0x80 | (pages + 3 - 1 - 2) % 3)
        }
        w.u8(UInt8((input.regionStart - arch.vmMinAddress) / 0x10000 - 1))
        w.u16(UInt16(input.sites[0].offset))
        w.u16(UInt16(input.sites[1].offset))
        w.u64(c0)
        w.u64(c1)
        w.u8(UInt8(input.calls.count - 1))
        for c in input.calls {
            var sel: UInt8
            var extra = FuzzWriter()
            let outside = input.regionStart + regionLen
            if c.addr == a0 {
                sel = 0
            } else if c.addr == a1 {
                sel = 4
            } else if c.addr >= outside && c.addr - outside <= UInt64(UInt16.max) {
                sel = 6
                extra.u16(UInt16(c.addr - outside))
            } else {
                sel = 7
                extra.u64(c.addr)
                extra.u8(0)
            }
            if c.cookie == c0 {
            } else if c.cookie == c1 {
                sel |= 2 << 3
            } else {
                sel |= 3 << 3
                extra.u64(c.cookie)
            }
            guard let param = c.param else {
                w.u8(sel)
                w.bytes(extra.bytes)
                continue
            }
            let body =
                encodeParam(param, psize: c.psize, arch: arch, area: area, rawAddresses: false).map { (2 as UInt8, $0) }
                ?? encodeRaw(param, psize: c.psize, arch: arch).map { (1, $0) }
                ?? encodeParam(param, psize: c.psize, arch: arch, area: area, rawAddresses: true).map { (2, $0) }
            guard let (kind, bytes) = body else { preconditionFailure("FuzzKbind.encode: a parameter decode cannot make") }
            w.u8(sel | kind << 5)
            w.bytes(extra.bytes)
            w.bytes(bytes)
        }
        return w.bytes
    }

    /// The choice byte(s) `decodePsize` reads as `psize` for a buffer of `length` bytes.
    static func encodePsize(_ psize: UInt64, length: Int, arch: Arch) -> [UInt8]? {
        let n = UInt64(length)
        if psize == n { return [0] }
        if psize == n &- 1 { return [6] }
        if psize == n + 1 { return [7] }
        if psize == UInt64(arch.kbindHeaderSize) { return [8] }
        let picks = [0, UInt64(arch.kbindParamMax), UInt64(arch.kbindParamMax) + 1, UInt64.max]
        if let i = picks.firstIndex(of: psize) { return [9, UInt8(i)] }
        return psize == n | 1 << 32 ? [9, 252] : nil
    }

    static func encodeRaw(_ param: [UInt8], psize: UInt64, arch: Arch) -> [UInt8]? {
        guard param.count < 64, let p = encodePsize(psize, length: param.count, arch: arch) else { return nil }
        return [UInt8(param.count)] + param + p
    }

    /// `decodeParam`'s bytes for (`param`, `psize`), or nil when none are found (see the extension's
    /// comment). Every candidate is checked by running `decodeParam` on it.
    static func encodeParam(_ param: [UInt8], psize: UInt64, arch: Arch, area: UInt64, rawAddresses: Bool) -> [UInt8]? {
        let hdr = arch.kbindHeaderSize
        let mask = arch.addressMask
        let page = arch.pageSize
        // The whole buffer before a cut (R-KB-6): `param`, or `param` and one more byte.
        // The cut-off tail is written as zeros, or as more of the last byte (trailing bytes cut
        // short): one byte (psize = its length), two (length - 1), or up to the largest buffer
        // when psize is one of the fixed values.
        var fulls: [(bytes: [UInt8], cut: Bool)] = [(param, false)]
        if psize > 0 && psize - 1 == UInt64(param.count) {
            let fixed = [UInt64(arch.kbindHeaderSize), UInt64(arch.kbindParamMax), UInt64(arch.kbindParamMax) + 1].contains(psize)
            for m in 1...(fixed ? max(2, 3 * hdr + 3 * 24 + 8 + 1 - param.count) : 2) {
                for fill in Set([0, param.last ?? 0]).sorted() {
                    fulls.append((param + [UInt8](repeating: fill, count: m), true))
                }
            }
        }
        for (full, cut) in fulls {
            guard let p = encodePsize(psize, length: full.count, arch: arch) else { continue }
            if cut && psize > UInt64(full.count) { continue }
            // Trailing bytes (R-KB-8): none, or 1 + e >> 5 copies of e with e % 4 == 3.
            var trailings: [(count: Int, byte: UInt8)] = [(0, 0)]
            if let e = full.last, e % 4 == 3, full.count >= 1 + Int(e >> 5), full.suffix(1 + Int(e >> 5)).allSatisfy({ $0 == e }) {
                trailings.append((1 + Int(e >> 5), e))
            }
            for nblocks in [1, 2, 0, 3] where nblocks * hdr <= full.count {
                let pb = arch.pointerBytes
                func word(_ at: Int) -> UInt64 {
                    let bs = arch.endian == .little ? Array(full[at..<at + pb].reversed()) : Array(full[at..<at + pb])
                    return bs.reduce(0) { $0 << 8 | UInt64($1) }
                }
                let headers = (0..<nblocks).map { i in (addr: word(i * hdr), size: word(i * hdr + pb)) }
                for (tcount, tbyte) in trailings {
                    let dataLen = full.count - nblocks * hdr - tcount
                    guard dataLen >= 0 else { continue }
                    // Each block's data length and the size choice that tells it.
                    let options: [[(len: Int, size: [UInt8])]] = headers.map { h in
                        var o: [(len: Int, size: [UInt8])] = []
                        if (1...24).contains(h.size) { o.append((Int(h.size), [0])) }
                        for len in 1...24 {
                            if h.size == 0 { o.append((len, [5])) }
                            if h.size == 25 { o.append((len, [6, 0])) }
                            if h.size == UInt64(len) + 1 { o.append((len, [6, 1])) }
                            if h.size == mask { o.append((len, [6, 2])) }
                        }
                        return o
                    }
                    for pick in combinations(options, total: dataLen) {
                        var w = FuzzWriter()
                        w.u8([1: 0, 2: 3, 0: 6, 3: 7][nblocks]!)
                        var at = nblocks * hdr
                        var ok = true
                        for (h, o) in zip(headers, pick) {
                            guard let (addrChoice, addrBytes) = encodeBlockAddress(h.addr, len: o.len, arch: arch, area: area, page: page, raw: rawAddresses)
                            else { ok = false; break }
                            w.u8(addrChoice | o.size[0] << 3)
                            w.u8(UInt8(o.len - 1))
                            w.bytes(addrBytes)
                            w.bytes(Array(o.size.dropFirst()))
                            w.bytes(Array(full[at..<at + o.len]))
                            at += o.len
                        }
                        guard ok else { continue }
                        w.u8(tbyte)
                        w.bytes(p)
                        w.u8(cut ? 7 : 0)
                        var r = FuzzReader(w.bytes)
                        let (gotParam, gotPsize) = decodeParam(&r, arch: arch, area: area)
                        if gotParam == param && gotPsize == psize && r.isAtEnd { return w.bytes }
                    }
                }
            }
        }
        return nil
    }

    /// The block address choice (and its bytes) that `decodeParam` reads as `addr`.
    static func encodeBlockAddress(_ addr: UInt64, len: Int, arch: Arch, area: UInt64, page: UInt64, raw: Bool) -> (UInt8, [UInt8])? {
        let mask = arch.addressMask
        if addr == arch.vmMaxUserAddress - UInt64(len) { return (5, []) }
        if addr == arch.vmMaxUserAddress - UInt64(len) + 1 { return (6, []) }
        for k in 0..<6 {
            let lo = (area &+ page * UInt64(k) &- 16) & mask
            let off = (addr &- lo) & mask
            if off < 32 { return (0, [UInt8(k), UInt8(off)]) }
        }
        if addr == 0 { return (4, []) }
        let d = (addr &- area) & mask
        if d < 6 * page && d <= UInt64(UInt16.max) { return (3, [UInt8(d & 0xFF), UInt8(d >> 8)]) }
        guard raw, addr <= mask else { return nil }
        var w = FuzzWriter()
        w.u64(addr)
        return (7, w.bytes)
    }

    /// The choices of `options` (one per block) whose lengths add up to `total`, first options first.
    static func combinations(_ options: [[(len: Int, size: [UInt8])]], total: Int) -> [[(len: Int, size: [UInt8])]] {
        guard let first = options.first else { return total == 0 ? [[]] : [] }
        var out: [[(len: Int, size: [UInt8])]] = []
        for o in first where o.len <= total {
            for rest in combinations(Array(options.dropFirst()), total: total - o.len) {
                out.append([o] + rest)
                if out.count >= 256 { return out }
            }
        }
        return out
    }
}
