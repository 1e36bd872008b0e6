import SysPinCore

extension FuzzScenario.Input: Equatable {
    static func == (a: Self, b: Self) -> Bool {
        a.arch == b.arch && a.policy == b.policy && a.kind == b.kind && a.program == b.program && a.base == b.base
            && a.interpreter == b.interpreter && a.interpBase == b.interpBase && a.interpFault?.0 == b.interpFault?.0
            && a.interpFault?.1 == b.interpFault?.1 && a.libc == b.libc && a.libcBase == b.libcBase && a.libsys == b.libsys
            && a.libsysBase == b.libsysBase && a.sigtramp == b.sigtramp && a.mappings == b.mappings && a.steps == b.steps
    }
}

/// The encoder beside `FuzzScenario.decode`.
///
/// `Input` holds built ELF images, not the values they were built from: encode reads the text
/// segment and the PT_OPENBSD_SYSCALLS entries back out of each image, writes the choices that
/// rebuild it, and keeps the first candidate that decode turns back into the same input. Where an
/// image does not show them (an interpreter that is missing, cut short or without its table; a
/// main program cut shorter than its ELF header), encode tries the usual ld.so (text at one page,
/// two pages long, pinsyscalls/exit/sigreturn sites at +0x100/+0x200/+0x300), an empty table, and
/// one site where the trampoline is; for a cut main program, the type and entry its bytes still
/// show. decode is not injective there: for a cut main program encode may find no candidate
/// (about 1 random input in 300), and then returns its first candidate. Other canonical choices: unused bits 0; the first
/// matching choice of each switch and the first index of each `pick`; a step's address through
/// its preferred site when it has none or the program is dynamic, else through the candidates'
/// index; a site's sysno outside the named ones through raw choice 20; the cookies 0xC00C1E and
/// c0 ^ 2 unless the kbind steps use others.
extension FuzzScenario {
    /// The text PT_LOAD (executable, above vaddr 0 when there is one) and the table's sites of an
    /// image, as far as its program headers can be read.
    static func layout(_ image: [UInt8], arch: Arch) -> (text: (vaddr: UInt64, memsz: UInt64)?, sites: [SyscallSite]?) {
        guard let h = ElfHeader.read(image, elfClass: arch.elfClass, endian: arch.endian) else { return (nil, nil) }
        let wide = arch.elfClass == .elf64
        func u(_ at: Int, _ width: Int) -> UInt64? {
            guard at >= 0, at + width <= image.count else { return nil }
            let bs = image[at..<at + width]
            return (arch.endian == .little ? bs.reversed() : Array(bs)).reduce(0) { $0 << 8 | UInt64($1) }
        }
        var texts: [(UInt64, UInt64)] = []
        var sites: [SyscallSite]?
        for i in 0..<Int(h.phnum) {
            let at = Int(h.phoff) + i * arch.elfClass.phdrSize
            guard let type = u(at, 4) else { break }
            let flags = wide ? u(at + 4, 4) : u(at + 24, 4)
            let offset = wide ? u(at + 8, 8) : u(at + 4, 4)
            let vaddr = wide ? u(at + 16, 8) : u(at + 8, 4)
            let filesz = wide ? u(at + 32, 8) : u(at + 16, 4)
            let memsz = wide ? u(at + 40, 8) : u(at + 20, 4)
            guard let flags, let offset, let vaddr, let filesz, let memsz else { break }
            if type == UInt64(SegmentType.load.rawValue) && flags & UInt64(ProgramFlags.x) != 0 { texts.append((vaddr, memsz)) }
            if type == UInt64(SegmentType.openbsdSyscalls.rawValue) && sites == nil {
                sites = []
                for e in 0..<Int(filesz / 8) {
                    guard let o = u(Int(offset) + 8 * e, 4), let n = u(Int(offset) + 8 * e + 4, 4) else { break }
                    sites!.append(SyscallSite(offset: UInt32(o), sysno: UInt32(n)))
                }
            }
        }
        let text = texts.first { $0.0 > 0 } ?? texts.first
        return (text.map { (vaddr: $0.0, memsz: $0.1) }, sites)
    }

    /// decodeSites' bytes for `sites` of a text at `tv`, `tm` long.
    static func encodeSites(_ sites: [SyscallSite], textVaddr tv: UInt64, textMemsz tm: UInt64) -> [UInt8]? {
        guard sites.count < 8 else { return nil }
        var w = FuzzWriter()
        w.u8(UInt8(sites.count))
        var last: SyscallSite?
        let t32 = UInt32(truncatingIfNeeded: tv), end32 = UInt32(truncatingIfNeeded: tv + tm)
        for s in sites {
            let d = s.offset &- t32
            if UInt64(d) < max(tm, 1) && d <= 0xFFFF {
                w.u8(7)
                w.u16(UInt16(d))
            } else if let c = [(0 as UInt8, t32), (1, t32 &- 1), (2, end32), (3, end32 &+ 1), (4, 0), (6, last?.offset ?? 0)]
                .first(where: { $0.1 == s.offset })?.0
            {
                w.u8(c)
            } else {
                w.u8(5)
                w.u32(s.offset)
            }
            let fixed: [UInt32: UInt8] = [Sysno.pinsyscalls: 0, Sysno.kbind: 4, Sysno.sigreturn: 8, Sysno.exit: 10, 20: 12, 330: 14, 0: 30, 331: 31]
            if let c = fixed[s.sysno] {
                w.u8(c)
            } else if (1...330).contains(s.sysno) {
                w.u8(20)
                w.u16(UInt16(s.sysno - 1))
            } else if s.sysno == last?.sysno ?? 1 {
                w.u8(15)
            } else {
                return nil
            }
            last = s
        }
        return w.bytes
    }

    static func encode(_ input: Input) -> [UInt8] {
        var first: [UInt8]?
        for b in candidates(input) {
            if decode(b) == input { return b }
            first = first ?? b
        }
        return first ?? []
    }

    /// The interpreter's text and sites, as the image shows them or as guessed.
    typealias Ldso = (ltv: UInt64, ltm: UInt64, sites: [SyscallSite])

    static func candidates(_ input: Input) -> [[UInt8]] {
        let arch = input.arch
        let page = arch.pageSize
        let mask = arch.addressMask
        var out: [[UInt8]] = []
        let usual: Ldso = (page, 2 * page, [
            SyscallSite(offset: UInt32(page + 0x100), sysno: Sysno.pinsyscalls), SyscallSite(offset: UInt32(page + 0x200), sysno: Sysno.exit),
            SyscallSite(offset: UInt32(page + 0x300), sysno: Sysno.sigreturn),
        ])
        /// A hidden table's one site where the trampoline is (trampoline choice 2).
        func trampSite(_ siteBase: UInt64) -> [SyscallSite] {
            input.sigtramp.map { [SyscallSite(offset: UInt32(truncatingIfNeeded: ($0 &- siteBase) & mask), sysno: Sysno.pinsyscalls)] } ?? []
        }
        switch input.kind {
        case .dynamic:
            var ldsos: [Ldso] = []
            let shown = input.interpreter.map { layout($0, arch: arch) }
            if case let (text?, sites?)? = shown { ldsos.append((text.vaddr, text.memsz, sites)) }
            let (ltv, ltm) = shown.flatMap { $0.text }.map { ($0.vaddr, $0.memsz) } ?? (usual.ltv, usual.ltm)
            if shown.flatMap({ $0.sites }) == nil {
                ldsos += [(ltv, ltm, usual.sites), (ltv, ltm, []), (ltv, ltm, trampSite(input.interpBase & mask))]
            }
            ldsos.append((page, page, []))
            for ld in ldsos {
                for quirky in [false, true] {
                    if let b = encode(input, ldso: ld, quirky: quirky, program: nil) { out.append(b) }
                }
            }
        default:
            // A program cut shorter than its ELF header shows at most its type and entry (= the text start).
            var guesses: [Program?] = [nil]
            if layout(input.program, arch: arch).text == nil {
                let w = arch.pointerBytes
                func field(_ at: Int, _ width: Int) -> UInt64? {
                    guard at + width <= input.program.count else { return nil }
                    let bs = input.program[at..<at + width]
                    return (arch.endian == .little ? bs.reversed() : Array(bs)).reduce(0) { $0 << 8 | UInt64($1) }
                }
                let types: [Bool] = field(16, 2).map { [$0 == UInt64(ElfType.dyn.rawValue)] } ?? [false, true]
                let tv = field(24, w) ?? 0x10 * page
                for pie in types {
                    let v = pie && field(24, w) == nil ? 0 : tv
                    let siteBase = pie ? input.base & mask : 0
                    guesses = [(pie, v, page, []), (pie, v, page, trampSite(siteBase))]
                }
            }
            for g in guesses {
                if let b = encode(input, ldso: usual, quirky: false, program: g) { out.append(b) }
            }
        }
        return out
    }

    /// A main program's values where its image does not show them: PIE or not, text, sites.
    typealias Program = (pie: Bool, tv: UInt64, tm: UInt64, sites: [SyscallSite])

    static func encode(_ input: Input, ldso: Ldso, quirky quirkyDynamic: Bool, program guess: Program?) -> [UInt8]? {
        let arch = input.arch
        let mask = arch.addressMask
        let page = arch.pageSize
        let wide = arch.pointerBytes == 8
        var w = FuzzWriter()
        w.arch(arch)

        // The program, parsed back.
        var kindSel: UInt8
        var pie = false
        var quirky = false
        var body = FuzzWriter()
        var sites: [SyscallSite]
        var text: (lo: UInt64, hi: UInt64)
        var siteBase: UInt64
        switch input.kind {
        case .staticExec, .staticPIE, .brokenMain:
            let (t, s) = layout(input.program, arch: arch)
            let (tvFull, tm) = t ?? guess.map { ($0.tv, $0.tm) } ?? (page * 0x10, page)
            sites = s ?? guess?.sites ?? []
            switch input.kind {
            case .staticExec: kindSel = 0
            case .staticPIE: kindSel = 2; pie = true
            default:
                kindSel = 7
                // A broken PIE is ET_DYN, or ET_REL with its text in the first four pages.
                let type = ElfHeader.read(input.program, elfClass: arch.elfClass, endian: arch.endian)?.type
                pie = guess?.pie ?? (type == .dyn || (type == .rel && tvFull < 0x10 * page))
            }
            var tv = tvFull
            if !pie && wide && tv >= 0x1_0000_0000 { quirky = true; tv -= 0x1_0000_0000 }
            if pie {
                guard tv % page == 0, tv / page < 4 else { return nil }
                body.u8(UInt8(tv / page))
            } else {
                guard tv % page == 0, tv / page >= 0x10, tv / page - 0x10 < 0x400 else { return nil }
                body.u16(UInt16(tv / page - 0x10))
            }
            let cut = tm % page != 0
            let a = ((cut ? tm + 0x10 : tm) / page)
            guard a >= 1 && a <= 4 else { return nil }
            body.u8(UInt8(a - 1))
            body.u8(cut ? 1 : 0)
            guard let sb = encodeSites(sites, textVaddr: tvFull, textMemsz: tm) else { return nil }
            body.bytes(sb)
            if case .brokenMain(_, let why) = input.kind {
                let faults: [(String, UInt8)] = [
                    ("no OpenBSD note, EI_OSABI 0 (R-ELF-12)", 0), ("no OpenBSD note, EI_OSABI 12 (R-ELF-12)", 8),
                    ("PT_SHLIB (R-ELF-14)", 1), ("p_align 3 (R-ELF-8)", 2), ("wrong e_machine (R-ELF-3)", 3),
                    ("shorter than the ELF header (R-ELF-1)", 4), ("PT_LOAD with p_memsz 0 (R-ELF-10)", 5),
                    ("e_type ET_REL (R-ELF-5)", 6), ("ET_DYN without PT_PHDR (R-ELF-13)", 7), ("e_phnum 33 (R-ELF-4)", 7),
                ]
                guard let f = faults.first(where: { $0.0 == why })?.1 else { return nil }
                body.u8(f)
                if f == 4 { body.u8(UInt8(input.program.count)) }
            }
            siteBase = pie ? input.base & mask : 0
            text = ((siteBase &+ tvFull) & mask, (siteBase &+ tvFull &+ tm) & mask)
        case .dynamic:
            kindSel = 4
            quirky = quirkyDynamic
            let (pt, progSites) = layout(input.program, arch: arch)
            guard let ptv = pt?.vaddr else { return nil }
            pie = ElfHeader.read(input.program, elfClass: arch.elfClass, endian: arch.endian)?.type == .dyn
            if pie {
                guard ptv % page == 0, ptv / page >= 1, ptv / page <= 4 else { return nil }
                body.u8(UInt8(ptv / page - 1))
            } else {
                guard ptv % page == 0, ptv / page >= 0x10, ptv / page - 0x10 < 0x400 else { return nil }
                body.u16(UInt16(ptv / page - 0x10))
            }
            guard let ps = encodeSites(progSites ?? [], textVaddr: ptv, textMemsz: page) else { return nil }
            body.bytes(ps)
            guard ldso.ltv % page == 0, (1...3).contains(ldso.ltv / page), ldso.ltm % page == 0, (1...4).contains(ldso.ltm / page)
            else { return nil }
            body.u8(UInt8(ldso.ltv / page - 1))
            body.u8(UInt8(ldso.ltm / page - 1))
            sites = ldso.sites
            guard let ls = encodeSites(sites, textVaddr: ldso.ltv, textMemsz: ldso.ltm) else { return nil }
            body.bytes(ls)
            let faults: [(String, UInt8)] = [
                ("no interpreter file (R-ELF-18)", 10), ("no PT_OPENBSD_SYSCALLS (R-ELF-24)", 11), ("ET_EXEC interpreter (R-ELF-5)", 12),
                ("e_entry in a writable PT_LOAD (R-ELF-21)", 14),
            ]
            switch input.interpFault?.1 {
            case nil: body.u8(0)
            case "shorter than the ELF header (R-ELF-1)":
                guard let n = input.interpreter?.count, n % 4 == 0, n / 4 < 16 else { return nil }
                body.u8(13 | UInt8(n / 4) << 4)
            case "p_align 0x1001 (R-ELF-19)":
                // The segment whose p_align is 0x1001: its index in the high nibble.
                guard let ld = input.interpreter, let h = ElfHeader.read(ld, elfClass: arch.elfClass, endian: arch.endian) else { return nil }
                let alignAt = arch.elfClass == .elf64 ? 48 : 28
                let width = arch.elfClass == .elf64 ? 8 : 4
                let idx = (0..<Int(h.phnum)).first { i in
                    let at = Int(h.phoff) + i * arch.elfClass.phdrSize + alignAt
                    guard at + width <= ld.count else { return false }
                    let bs = ld[at..<at + width]
                    return (arch.endian == .little ? bs.reversed() : Array(bs)).reduce(0) { $0 << 8 | UInt64($1) } == 0x1001
                }
                guard let idx, idx < 16 else { return nil }
                body.u8(15 | UInt8(idx) << 4)
            case let why?:
                guard let f = faults.first(where: { $0.0 == why })?.1 else { return nil }
                body.u8(f)
            }
            siteBase = input.interpBase & mask
            text = ((siteBase &+ ldso.ltv) & mask, (siteBase &+ ldso.ltv &+ ldso.ltm) & mask)
        }

        // Load bases: the same `high` bit for both; bit 4 moves the base off its page.
        let top: UInt64 = wide ? 0x7f7f_0000_0000 : 0x1_0000_0000
        let lowBase: UInt64 = wide ? 0x5_0000_0000 : 0x1000_0000, lowInterp: UInt64 = wide ? 0x7_0000_0000 : 0x4000_0000
        func baseOf(_ b: UInt64, high: Bool, low: UInt64) -> UInt64 {
            high ? (top - page * (1 + b % 16)) & mask : low + page * (b % 0x4000)
        }
        var bases: (b0: UInt16, b1: UInt16, high: Bool, off: Bool)?
        search: for high in [false, true] {
            guard let b1 = (0..<(high ? 16 : 0x4000) as Range<UInt64>).first(where: { baseOf($0, high: high, low: lowInterp) == input.interpBase })
            else { continue }
            let direct = (input.base &- (high ? 0 : lowBase)) / page
            if !high, input.base >= lowBase, direct < 0x4000, baseOf(direct, high: false, low: lowBase) == input.base {
                bases = (UInt16(direct), UInt16(b1), high, false)
                break search
            }
            if high, let b0 = (0..<16 as Range<UInt64>).first(where: { baseOf($0, high: true, low: lowBase) == input.base }) {
                bases = (UInt16(b0), UInt16(b1), high, false)
                break search
            }
            for b0 in 0...UInt64(0xFFFF) where (baseOf(b0, high: high, low: lowBase) + 0x10 * (1 + (b0 >> 4) % 0xff)) & mask == input.base {
                bases = (UInt16(b0), UInt16(b1), high, true)
                break search
            }
        }
        guard let bases else { return nil }
        let (low, high) = FuzzReader.policyBits(input.policy)
        w.u8(
            kindSel | (low ? 0x08 : 0) | (bases.off ? 0x10 : 0) | (quirky ? 0x20 : 0) | (bases.high ? 0x40 : 0)
                | (pie && input.kind != .staticPIE ? 0x80 : 0))
        w.u16(bases.b0)
        w.u16(bases.b1)
        w.bytes(body.bytes)

        // Trampoline byte: kind in bits 0-1, policy bit 7, libsys bits 6 and 5.
        let trampBase: UInt64 = wide ? 0x7f_ffff_0000 : 0xbfff_0000
        var tramp = FuzzWriter()
        let flagBits: UInt8 = (high ? 0x80 : 0) | (input.libsys != nil ? 0x40 : 0) | (input.libsysBase == input.libcBase ? 0x20 : 0)
        if let t = input.sigtramp {
            if t == text.hi {
                tramp.u8(3 | flagBits)
            } else if t == sites.first.map({ (siteBase &+ UInt64($0.offset)) & mask }) {
                tramp.u8(2 | flagBits)
            } else if t >= trampBase && t - trampBase <= 0xFFFF {
                tramp.u8(1 | flagBits)
                tramp.u16(UInt16(t - trampBase))
            } else {
                return nil
            }
        } else {
            tramp.u8(flagBits)
        }
        w.bytes(tramp.bytes)

        // Mappings: six pages of an area.
        let areaBase: UInt64 = wide ? 0x6_0000_0000 : 0x2000_0000
        var areaPage: UInt64 = 0
        if let lowest = input.mappings.map(\.start).min() {
            let q = (lowest &- areaBase) / page
            guard let k = (0...min(q, 5)).first(where: { k in
                q - k < 256 && input.mappings.allSatisfy { m in
                    let d = m.start &- (areaBase + page * (q - k))
                    return d % page == 0 && d / page < 6
                }
            }) else { return nil }
            areaPage = q - k
        }
        let area = areaBase + page * areaPage
        guard input.mappings.count < 5 else { return nil }
        w.u8(UInt8(areaPage))
        w.u8(UInt8(input.mappings.count))
        for m in input.mappings {
            let k = (m.start - area) / page, pages = (m.end &- m.start) / page
            guard let a = (0...255 as ClosedRange<UInt64>).first(where: {
                $0 % 6 == k && 1 + ($0 >> 3) % 3 == pages && ($0 & 0x80 == 0) == m.writable
            }) else { return nil }
            w.u8(UInt8(a))
        }

        // libc (and libsys, the same image).
        let libcLow: UInt64 = wide ? 0x8_0000_0000 : 0x6000_0000
        let (lt, libcSitesParsed) = layout(input.libc, arch: arch)
        guard let libcText = lt?.memsz, input.libcBase >= libcLow, (input.libcBase - libcLow) % page == 0,
            (input.libcBase - libcLow) / page < 0x1000, libcText % page == 0, (1...4).contains(libcText / page)
        else { return nil }
        let libcSites = libcSitesParsed ?? []
        w.u16(UInt16((input.libcBase - libcLow) / page))
        w.u8(UInt8(libcText / page - 1))
        guard let lsb = encodeSites(libcSites, textVaddr: page, textMemsz: libcText) else { return nil }
        w.bytes(lsb)
        let libsysBase = input.libsysBase

        // The decoder's candidate addresses and codes.
        var candidates: [UInt64] = [text.lo, text.hi, (text.hi &- 1) & mask, (text.lo &- 1) & mask]
        for s in sites { candidates.append((siteBase &+ UInt64(s.offset)) & mask) }
        for s in libcSites { candidates.append((input.libcBase &+ UInt64(s.offset)) & mask) }
        if input.libsys != nil {
            candidates += [libsysBase + page, libsysBase + page + libcText - 1, libsysBase + page + libcText].map { $0 & mask }
            for s in libcSites { candidates.append((libsysBase &+ UInt64(s.offset)) & mask) }
        }
        if let t = input.sigtramp { candidates.append(t) }
        let pinSite = sites.first { $0.sysno == Sysno.pinsyscalls }.map { (siteBase &+ UInt64($0.offset)) & mask }
        let kbindSite = sites.first { $0.sysno == Sysno.kbind }.map { (siteBase &+ UInt64($0.offset)) & mask }
        let codes: [Int64] = sites.map { Int64($0.sysno) } + libcSites.map { Int64($0.sysno) } + [1, 103]

        // Cookies: c0 and c1 = c0 ^ (k + 1).
        var kbindCookies: [UInt64] = []
        for s in input.steps { if case .kbind(_, _, let c) = s.request { kbindCookies.append(c) } }
        let c0: UInt64 = kbindCookies.first.flatMap { $0 <= 0xFFFF_FFFF ? $0 : nil } ?? 0xC0_0C1E
        var k: UInt8 = 1
        if let c1 = kbindCookies.first(where: { $0 != c0 }) {
            guard (1...256).contains(c0 ^ c1) else { return nil }
            k = UInt8((c0 ^ c1) - 1)
        }
        let c1 = c0 ^ (UInt64(k) + 1)
        w.u32(UInt32(c0))
        w.u8(k)

        func index(_ x: UInt64) -> UInt8? { candidates.prefix(256).firstIndex(of: x).map { UInt8($0) } }
        /// `address(&r, preferred:)`'s bytes for `addr`.
        func address(_ addr: UInt64, preferred: UInt64?) -> [UInt8]? {
            var e = FuzzWriter()
            let p0 = preferred ?? candidates[0]
            let viaPreferred = preferred == nil || input.kind == .dynamic
            if addr == p0 && viaPreferred { return [0] }
            if let i = index(addr) { return [6, i] }
            if addr == p0 { return [0] }
            let span = (text.hi &- text.lo) & mask
            let d = (addr &- text.lo) & mask
            if d < max(span, 1) && d <= 0xFFFF {
                e.u8(3)
                e.u16(UInt16(d))
                return e.bytes
            }
            for (i, c) in candidates.prefix(256).enumerated() {
                for j in 0..<5 where (c &+ UInt64(j) &- 2) & mask == addr { return [5, UInt8(i), UInt8(j)] }
            }
            guard addr <= mask else { return nil }
            e.u8(4)
            e.u64(addr)
            return e.bytes
        }

        guard input.steps.count < 12 else { return nil }
        w.u8(UInt8(input.steps.count))
        for step in input.steps {
            switch step.request {
            case .plain:
                w.u8(0)
                guard let a = address(step.addr, preferred: nil) else { return nil }
                w.bytes(a)
                let list = codes + codes + [0, -1, 331, 158, 86]
                if let i = list.firstIndex(of: step.sysno), i < 256 {
                    w.u16(0)
                    w.u8(UInt8(i))
                } else if (0..<400).contains(step.sysno), list.count < 256 {
                    w.u16(UInt16(step.sysno))
                    w.u8(UInt8(list.count))
                } else {
                    return nil
                }
            case .fromLibc(let threads), .pinsyscalls(_, let threads):
                // Under kbind's number (D-DISPATCH) the threads byte is 224: one thread.
                let underKbind = step.sysno == Int64(Sysno.kbind)
                guard step.sysno == Int64(Sysno.pinsyscalls) || (underKbind && threads == 1) else { return nil }
                w.u8(4)
                guard let a = address(step.addr, preferred: pinSite) else { return nil }
                w.bytes(a)
                if underKbind {
                    w.u8(224)
                } else {
                    guard w.threads(threads) else { return nil }
                }
                if case .pinsyscalls(let call, _) = step.request {
                    w.u8(0)
                    guard let c = FuzzPinsyscalls.encodeCall(call, arch: arch, interesting: candidates) else { return nil }
                    w.bytes(c)
                } else {
                    w.u8(1)
                }
            case .kbind(let param, let psize, let cookie):
                guard step.sysno == Int64(Sysno.kbind) else { return nil }
                w.u8(6)
                let d = (step.addr &- text.lo) & mask
                let inText = input.kind == .dynamic && d < 256 ? d : 0
                w.u8(UInt8(inText))
                guard let a = address(step.addr, preferred: input.kind == .dynamic ? (text.lo &+ inText) & mask : kbindSite) else { return nil }
                w.bytes(a)
                if cookie == c0 {
                    w.u8(0)
                } else if cookie == c1 {
                    w.u8(3)
                } else {
                    return nil
                }
                guard let param else {
                    w.u8(0)
                    continue
                }
                w.u8(1)
                guard let p = FuzzKbind.encodeParam(param, psize: psize, arch: arch, area: area, rawAddresses: false)
                    ?? FuzzKbind.encodeParam(param, psize: psize, arch: arch, area: area, rawAddresses: true)
                else { return nil }
                w.bytes(p)
            }
        }
        return w.bytes
    }
}
