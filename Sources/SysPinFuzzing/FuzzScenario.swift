import SysPinCore
import SysPinReference
import SysPinTesting

/// FuzzScenario: bytes → a whole process, structure-aware. An arch and a policy; a program image
/// built with `ElfBuilder` (static ET_EXEC, static PIE, dynamic with an ld.so image also built by
/// the builder and sometimes broken, or a main program broken on purpose), pin sites from the
/// bytes; a trampoline; mappings; a libc.so, sometimes also as libsys.so (D-LIBSYS); then steps (plain system calls from site or random
/// addresses, pinsyscalls — raw or ld.so's conversion of libc — and kbind). The same raw images
/// and steps run through the core (`ProcessModel.exec`, `ProcessState.syscall`) and through the
/// reference model (`RefProcess`), compared whole after exec and after every step.
///
/// Invariants: INV-REF-EXEC (the exec line: errno, signal, rule), INV-REF-STATE (the start state
/// and the state after each step: tables, once-flag, kbind, kill), INV-REF-STEP (every step's
/// result, signal, rule and writes, "dead" and "skipped" included), and INV-EXEC (what the
/// builder meant: a broken main program is an error returned before the point of no return, a
/// broken interpreter a SIGABRT kill with the expected inner errno, R-ELF-25/26).
public enum FuzzScenario {
    enum ProgramKind: Equatable {
        case staticExec
        case staticPIE
        case dynamic
        /// A main program the loader must reject before the point of no return (R-ELF-26).
        case brokenMain(OpenBSDErrno, String)
    }

    enum Request: Equatable {
        case plain
        /// A raw submission.
        case pinsyscalls(PinsyscallsCall, threads: Int)
        /// ld.so's conversion of libc's table (§9).
        case fromLibc(threads: Int)
        case kbind(param: [UInt8]?, psize: UInt64, cookie: UInt64)
    }

    struct Step: Equatable {
        var addr: UInt64
        var sysno: Int64
        var request: Request
    }

    struct Input {
        var arch: Arch
        var policy: PinPolicy
        var kind: ProgramKind
        var program: [UInt8]
        var base: UInt64
        var interpreter: [UInt8]?
        var interpBase: UInt64
        /// The inner errno a broken interpreter must be killed with (R-ELF-25), nil when it is fine.
        var interpFault: (OpenBSDErrno, String)?
        var libc: [UInt8]
        var libcBase: UInt64
        /// A libsys.so (D-LIBSYS): the same built shared library as libc, at `libsysBase`.
        var libsys: [UInt8]?
        var libsysBase: UInt64
        var sigtramp: UInt64?
        var mappings: [MemoryMapping]
        var steps: [Step]
    }

    public static func run(_ bytes: [UInt8]) throws(InvariantViolation) {
        let input = decode(bytes)
        let arch = input.arch
        let ra = RefArch(arch)
        let (kind, policy) = (input.kind, input.policy)
        let label = { "\(arch.name) \(kind) \(policy)" }
        let (outcome, started) = ProcessModel.exec(
            program: input.program, base: input.base, interpreter: input.interpreter, interpreterBase: input.interpBase,
            arch: arch, sigtramp: input.sigtramp, mappings: input.mappings, policy: input.policy)
        let (refVerdict, refStarted) = RefProcess.exec(
            program: input.program, base: input.base, interpreter: input.interpreter, interpreterBase: input.interpBase,
            libc: input.libc, libcBase: input.libcBase, libsys: input.libsys, libsysBase: input.libsysBase, arch: ra,
            sigtramp: input.sigtramp,
            mappings: input.mappings.map(RefMapping.init), policy: RefPolicy(input.policy))
        try RefCompare.verdicts(outcome.verdict, refVerdict, "INV-REF-EXEC", "\(label()): exec")
        try require((started == nil) == (refStarted == nil), "INV-REF-EXEC", "\(label()): one model started the process, the other did not")
        try checkBuilderIntent(input, outcome.verdict, started: started != nil, label: label)
        guard var state = started, let refState = refStarted else { return }
        addLibsys(input, to: &state)

        // ld.so's submission, made at the first from_libc step (nil inside: it declines).
        var fromLibc: PinsyscallsCall??
        var run = try Lockstep(core: state, ref: refState, label: label)
        for s in input.steps {
            if case .fromLibc = s.request, fromLibc == nil { fromLibc = libcSubmission(input) }
            try run.step(addr: s.addr, sysno: s.sysno, coreRequest(s.request, fromLibc: fromLibc ?? nil), refRequest(s.request))
        }
    }

    /// As the scenario runner does: libsys's text, part of the process from exec (D-LIBSYS).
    static func addLibsys(_ input: Input, to state: inout ProcessState) {
        guard let libsys = input.libsys,
            case .success(let image) = ExecRules.readImage(libsys, arch: input.arch, loader: .interpreter)
        else { return }
        state.trusted.libsys = image.textSpan(base: input.libsysBase, mask: input.arch.addressMask)
    }

    /// ld.so's submission of libc's table in the core, built once (nil: ld.so declines, R-LD-4).
    static func libcSubmission(_ input: Input) -> PinsyscallsCall? {
        guard case .success(let image) = ExecRules.readImage(input.libc, arch: input.arch, loader: .interpreter) else { return nil }
        return LdsoPin.submission(libc: image, base: input.libcBase, arch: input.arch, policy: input.policy)
    }

    /// The core's request (nil: a from_libc submission ld.so does not make) and the reference's.
    static func coreRequest(_ r: Request, fromLibc: PinsyscallsCall?) -> SyscallRequest? {
        switch r {
        case .plain: return .plain
        case .pinsyscalls(let c, let threads): return .pinsyscalls(c, threads: threads)
        case .fromLibc(let threads): return fromLibc.map { .pinsyscalls($0, threads: threads) }
        case .kbind(let param, let psize, let cookie): return .kbind(param: param, psize: psize, cookie: cookie)
        }
    }

    static func refRequest(_ r: Request) -> RefRequest {
        switch r {
        case .fromLibc(let threads): return .fromLibc(threads: threads)
        default: return FuzzPinsyscalls.refRequest(coreRequest(r, fromLibc: nil)!)
        }
    }

    /// INV-EXEC: the outcome the builder meant. Kills are SIGABRT from the interpreter path only
    /// (R-ELF-25); a broken main program is an errno returned before the point of no return.
    static func checkBuilderIntent(_ input: Input, _ v: Verdict, started: Bool, label: () -> String) throws(InvariantViolation) {
        if v.isKilled {
            try require(
                v.signal == .SIGABRT && input.kind == .dynamic && !started, "INV-EXEC",
                "\(label()): exec killed by \(v) outside the interpreter path")
        }
        switch input.kind {
        case .brokenMain(let e, let why):
            try require(
                v.errno == e && v.signal == nil && !started, "INV-EXEC",
                "\(label()) (\(why)): exec \(v), expected \(e.name) returned before the point of no return (R-ELF-26)")
        case .dynamic:
            if let (e, why) = input.interpFault {
                try require(
                    v.signal == .SIGABRT && v.errno == e && !started, "INV-EXEC",
                    "\(label()) (\(why)): exec \(v), expected killed(SIGABRT) with \(e.name) (R-ELF-25)")
                return
            }
            try require(v.isOK && started, "INV-EXEC", "\(label()): a program the builder made valid was rejected: \(v)")
        case .staticExec, .staticPIE:
            try require(v.isOK && started, "INV-EXEC", "\(label()): a program the builder made valid was rejected: \(v)")
        }
    }

    // MARK: Decoding

    static func decodeSites(_ r: inout FuzzReader, textVaddr: UInt64, textMemsz: UInt64) -> [SyscallSite] {
        var sites: [SyscallSite] = []
        let end = textVaddr + textMemsz
        let count = Int(r.u8() % 8)
        sites.reserveCapacity(count)
        for _ in 0..<count {
            let offset: UInt64
            switch r.u8() % 12 {
            case 0: offset = textVaddr  // rebased to 0: "no pin" (R-PT-9 D)
            case 1: offset = textVaddr &- 1  // rebased to the marker: a wildcard (R-PT-9 E)
            case 2: offset = end  // == len: accepted, never matches
            case 3: offset = end + 1  // > len: the table is discarded
            case 4: offset = 0
            case 5: offset = UInt64(r.u32())
            case 6: offset = UInt64(sites.last?.offset ?? 0)  // a duplicate site
            default: offset = textVaddr + UInt64(r.u16()) % max(textMemsz, 1)
            }
            let sysno: UInt32
            switch r.u8() % 32 {
            case 0..<4: sysno = Sysno.pinsyscalls
            case 4..<8: sysno = Sysno.kbind
            case 8, 9: sysno = Sysno.sigreturn
            case 10, 11: sysno = Sysno.exit
            case 12, 13: sysno = 20
            case 14: sysno = 330
            case 15, 16, 17: sysno = sites.last?.sysno ?? 1
            case 30: sysno = 0
            case 31: sysno = 331
            default: sysno = UInt32(1 + r.u16() % 330)
            }
            sites.append(SyscallSite(offset: UInt32(truncatingIfNeeded: offset), sysno: sysno))
        }
        return sites
    }

    static func decode(_ bytes: [UInt8]) -> Input {
        var r = FuzzReader(bytes)
        let arch = r.arch()
        let mask = arch.addressMask
        let page = arch.pageSize
        let wide = arch.pointerBytes == 8
        let kindByte = r.u8()
        let quirky = kindByte & 0x20 != 0  // another unused bit: the layouts of R-PT-9/12's edges
        var kind: ProgramKind
        switch kindByte % 8 {
        case 0, 1: kind = .staticExec
        case 2, 3: kind = .staticPIE
        case 4, 5, 6: kind = .dynamic
        default: kind = .brokenMain(.ENOEXEC, "")
        }
        // Load bases; with bit 6, near the top of the address space (ILP32: wrapping, R-ARCH-2).
        let high = kindByte & 0x40 != 0
        let top: UInt64 = wide ? 0x7f7f_0000_0000 : 0x1_0000_0000
        let b0 = UInt64(r.u16()), b1 = UInt64(r.u16())
        var base = high ? (top - page * (1 + b0 % 16)) & mask : (wide ? 0x5_0000_0000 : 0x1000_0000) + page * (b0 % 0x4000)
        // With bit 4, a load base off the page: the kernel truncates it to p_align (R-PT-11).
        if kindByte & 0x10 != 0 { base = (base + 0x10 * (1 + (b0 >> 4) % 0xff)) & mask }
        let interpBase = high ? (top - page * (1 + b1 % 16)) & mask : (wide ? 0x7_0000_0000 : 0x4000_0000) + page * (b1 % 0x4000)

        var program: [UInt8]
        var interpreter: [UInt8]?
        var interpFault: (OpenBSDErrno, String)?
        var sites: [SyscallSite]
        var text: (lo: UInt64, hi: UInt64)  // the table's text range, load base applied
        var siteBase: UInt64  // what site offsets count from
        switch kind {
        case .staticExec, .staticPIE, .brokenMain:
            let pie = kind == .staticPIE || (kind != .staticExec && kindByte & 0x80 != 0)
            var tv = pie ? page * UInt64(r.u8() % 4) : page * (0x10 + UInt64(r.u16() % 0x400))
            // With bit 5, ET_EXEC text above 4 GiB (LP64): R-PT-9's delta is 32 bits wide.
            if quirky && !pie && wide { tv += 0x1_0000_0000 }
            let tm = page * UInt64(1 + r.u8() % 4) - UInt64(r.u8() % 2) * 0x10
            sites = decodeSites(&r, textVaddr: tv, textMemsz: tm)
            var b = pie ? ElfBuilder.staticPIE(arch: arch, text: (tv, tm), sites: sites) : ElfBuilder.staticExec(arch: arch, text: (tv, tm), sites: sites)
            siteBase = pie ? base & mask : 0
            text = ((siteBase &+ tv) & mask, (siteBase &+ tv &+ tm) & mask)
            if case .brokenMain = kind {
                let fault = r.u8()
                switch fault % 8 {
                case 0:
                    b.openBSDNote = false
                    // With bit 3, EI_OSABI says OpenBSD: the note is still required (R-ELF-12).
                    b.ident.osabi = fault & 8 != 0 ? 12 : nil
                    kind = .brokenMain(.ENOEXEC, "no OpenBSD note, EI_OSABI \(fault & 8 != 0 ? 12 : 0) (R-ELF-12)")
                case 1:
                    b.segments.append(.raw(ProgramHeader(type: .shlib, flags: 0, offset: 0, vaddr: 0, filesz: 0, memsz: 0, align: 0)))
                    kind = .brokenMain(.ENOEXEC, "PT_SHLIB (R-ELF-14)")
                case 2:
                    b.segments[0].header.align = 3
                    kind = .brokenMain(.EINVAL, "p_align 3 (R-ELF-8)")
                case 3:
                    b.machine = arch.machine &+ 1
                    kind = .brokenMain(.ENOEXEC, "wrong e_machine (R-ELF-3)")
                case 4:
                    b.truncatedTo = Int(r.u8()) % arch.elfClass.ehdrSize
                    kind = .brokenMain(.ENOEXEC, "shorter than the ELF header (R-ELF-1)")
                case 5:
                    b.segments.append(.load(flags: ProgramFlags.r, vaddr: 0x20_0000, memsz: 0))
                    kind = .brokenMain(.EINVAL, "PT_LOAD with p_memsz 0 (R-ELF-10)")
                case 6:
                    b.type = .rel
                    kind = .brokenMain(.ENOEXEC, "e_type ET_REL (R-ELF-5)")
                default:
                    if pie {
                        b.includePhdr = false
                        kind = .brokenMain(.EINVAL, "ET_DYN without PT_PHDR (R-ELF-13)")
                    } else {
                        b.phnum = 33
                        kind = .brokenMain(.ENOEXEC, "e_phnum 33 (R-ELF-4)")
                    }
                }
            }
            program = b.build()
        case .dynamic:
            let pie = kindByte & 0x80 != 0
            let ptv = pie ? page * UInt64(1 + r.u8() % 4) : page * (0x10 + UInt64(r.u16() % 0x400))
            let progSites = decodeSites(&r, textVaddr: ptv, textMemsz: page)  // ignored by the kernel (R-ELF-16)
            program = ElfBuilder.dynamicExec(arch: arch, pie: pie, text: (ptv, page), sites: progSites.isEmpty ? nil : progSites).build()
            let ltv = page * UInt64(1 + r.u8() % 3)
            let ltm = page * UInt64(1 + r.u8() % 4)
            sites = decodeSites(&r, textVaddr: ltv, textMemsz: ltm)
            var ld = ElfBuilder.ldso(arch: arch, textVaddr: ltv, textMemsz: ltm, sites: sites)
            // With bit 5, ld.so's first PT_LOAD is executable: text_start is the absolute load
            // address (R-PT-12's quirk), and above 4 GiB R-PT-9's 32-bit delta shows.
            if quirky { ld.segments[0].header.flags |= ProgramFlags.x }
            siteBase = interpBase & mask
            text = ((siteBase &+ ltv) & mask, (siteBase &+ ltv &+ ltm) & mask)
            let fault = r.u8()
            switch fault % 16 {
            case 10:
                interpFault = (.ENOENT, "no interpreter file (R-ELF-18)")
            case 11:
                ld.syscalls = nil
                interpFault = (.EINVAL, "no PT_OPENBSD_SYSCALLS (R-ELF-24)")
            case 12:
                ld.type = .exec
                interpFault = (.ENOEXEC, "ET_EXEC interpreter (R-ELF-5)")
            case 13:
                ld.truncatedTo = Int(fault >> 4) * 4
                interpFault = (.ENOEXEC, "shorter than the ELF header (R-ELF-1)")
            case 14:
                ld.entry = ltv + ltm + page  // the data PT_LOAD (one page past the text)
                interpFault = (.ENOEXEC, "e_entry in a writable PT_LOAD (R-ELF-21)")
            case 15:
                ld.segments[Int(fault >> 4) % ld.segments.count].header.align = 0x1001
                interpFault = (.EINVAL, "p_align 0x1001 (R-ELF-19)")
            default:
                break
            }
            interpreter = interpFault?.0 == .ENOENT ? nil : ld.build()
        }

        // The trampoline byte's high bits, unused by its layout: bit 7 with the kind byte's bit 3
        // draws the policy (all four), bit 6 adds a libsys image, bit 5 puts it at libc's base.
        let trampByte = r.u8()
        let policy = FuzzReader.policy(low: kindByte & 0x08 != 0, high: trampByte & 0x80 != 0)
        let sigtramp: UInt64?
        switch trampByte % 4 {
        case 0: sigtramp = nil
        case 1: sigtramp = (wide ? 0x7f_ffff_0000 : 0xbfff_0000) + UInt64(r.u16())
        case 2: sigtramp = sites.first.map { (siteBase &+ UInt64($0.offset)) & mask }  // inside the region: the region wins
        default: sigtramp = text.hi
        }

        // Mappings for kbind: six pages of an area, writable or not.
        let area = (wide ? 0x6_0000_0000 : 0x2000_0000) + page * UInt64(r.u8())
        var mappings: [MemoryMapping] = []
        let mappingCount = Int(r.u8() % 5)
        mappings.reserveCapacity(mappingCount)
        for _ in 0..<mappingCount {
            let a = r.u8()
            let start = area + page * UInt64(a % 6)
            mappings.append(MemoryMapping(start: start, end: start + page * UInt64(1 + (a >> 3) % 3), writable: a & 0x80 == 0))
        }

        // A libc.so for ld.so's conversion (R-LD-*), built by the builder.
        let libcBase = (wide ? 0x8_0000_0000 : 0x6000_0000) + page * UInt64(r.u16() % 0x1000)
        let libcText = page * UInt64(1 + r.u8() % 4)
        let libcSites = decodeSites(&r, textVaddr: page, textMemsz: libcText)
        let libcBytes = ElfBuilder.sharedLibrary(arch: arch, textVaddr: page, textMemsz: libcText, sites: libcSites).build()
        // libsys (D-LIBSYS): the same built library, apart from libc or where libc is.
        let libsys = trampByte & 0x40 != 0 ? libcBytes : nil
        let libsysBase = trampByte & 0x20 != 0 ? libcBase : libcBase + (wide ? 0x1_0000_0000 : 0x1000_0000)

        // Addresses worth calling from (all decided here, none from results).
        var candidates: [UInt64] = []
        candidates.reserveCapacity(4 + sites.count + libcSites.count + (libsys == nil ? 0 : 3 + libcSites.count) + 1)
        candidates.append(text.lo)
        candidates.append(text.hi)
        candidates.append((text.hi &- 1) & mask)
        candidates.append((text.lo &- 1) & mask)
        for s in sites { candidates.append((siteBase &+ UInt64(s.offset)) & mask) }
        for s in libcSites { candidates.append((libcBase &+ UInt64(s.offset)) & mask) }
        if libsys != nil {
            candidates.append((libsysBase + page) & mask)
            candidates.append((libsysBase + page + libcText - 1) & mask)
            candidates.append((libsysBase + page + libcText) & mask)
            for s in libcSites { candidates.append((libsysBase &+ UInt64(s.offset)) & mask) }
        }
        if let t = sigtramp { candidates.append(t) }
        let pinSite = sites.first { $0.sysno == Sysno.pinsyscalls }.map { (siteBase &+ UInt64($0.offset)) & mask }
        let kbindSite = sites.first { $0.sysno == Sysno.kbind }.map { (siteBase &+ UInt64($0.offset)) & mask }
        // The codes: the sites' numbers, libc's, then 1 and 103 (read in place, not gathered).
        let codeCount = sites.count + libcSites.count + 2
        func code(_ i: Int) -> Int64 {
            if i < sites.count { return Int64(sites[i].sysno) }
            if i - sites.count < libcSites.count { return Int64(libcSites[i - sites.count].sysno) }
            return i == codeCount - 2 ? 1 : 103
        }
        let c0 = UInt64(r.u32()), c1 = c0 ^ (UInt64(r.u8()) + 1)

        func address(_ r: inout FuzzReader, preferred: UInt64?) -> UInt64 {
            switch r.u8() % 8 {
            case 0, 1, 2: return preferred ?? candidates[0]
            case 3: return (text.lo &+ UInt64(r.u16()) % max((text.hi &- text.lo) & mask, 1)) & mask
            case 4: return r.u64() & mask
            case 5: return (r.pick(candidates) &+ UInt64(r.u8() % 5) &- 2) & mask
            default: return r.pick(candidates)
            }
        }

        var steps: [Step] = []
        let stepCount = Int(r.u8() % 12)
        steps.reserveCapacity(stepCount)
        for _ in 0..<stepCount {
            switch r.u8() % 8 {
            case 0, 1, 2, 3:
                let addr = address(&r, preferred: nil)
                // A number below 400, or (raw ≥ 0xFF00) a code with bit 32 or sparc64's 0x400 flag
                // set: the kernel narrows the register per arch (D-SYSNO-WIDTH).
                let raw = r.u16()
                let any = raw >= 0xFF00 ? code(Int(raw) % codeCount) | (raw & 1 == 0 ? 1 << 32 : 0x400) : Int64(raw % 400)
                // One of codes + codes + [0, -1, 331, 158, 86, any], chosen by one byte as `pick`
                // does, without building either array.
                let k = Int(r.u8()) % (2 * codeCount + 6)
                let sysno: Int64
                switch k - 2 * codeCount {
                case ..<0: sysno = code(k % codeCount)
                case 0: sysno = 0
                case 1: sysno = -1
                case 2: sysno = 331
                case 3: sysno = 158
                case 4: sysno = 86
                default: sysno = any
                }
                steps.append(Step(addr: addr, sysno: sysno, request: .plain))
            case 4, 5:
                let addr = address(&r, preferred: pinSite)
                let t = r.u8()
                let threads = t >= 240 ? Int(t % 4) : 1
                // t in [224, 240): the arguments under kbind's number, which ld.so's wildcard slot
                // lets through from its text: the kernel runs kbind's call, not pinsyscalls
                // (D-DISPATCH).
                let sysno = t >= 224 && t < 240 ? Int64(Sysno.kbind) : Int64(Sysno.pinsyscalls)
                if r.u8() % 4 != 0 {
                    steps.append(Step(addr: addr, sysno: sysno, request: .fromLibc(threads: threads)))
                } else {
                    let near = r.pick(candidates)
                    let call = FuzzPinsyscalls.decodeCall(&r, arch: arch, near: near)
                    steps.append(Step(addr: addr, sysno: sysno, request: .pinsyscalls(call, threads: threads)))
                }
            default:
                let inText = (text.lo &+ UInt64(r.u8())) & mask  // ld.so's kbind slot is the wildcard
                let addr = address(&r, preferred: kind == .dynamic ? inText : kbindSite)
                let cookie: UInt64 = r.u8() % 4 == 3 ? c1 : c0  // `pick([c0, c0, c0, c1])`
                if r.u8() % 5 == 0 {
                    steps.append(Step(addr: addr, sysno: Int64(Sysno.kbind), request: .kbind(param: nil, psize: 0, cookie: cookie)))
                } else {
                    let (param, psize) = FuzzKbind.decodeParam(&r, arch: arch, area: area)
                    steps.append(Step(addr: addr, sysno: Int64(Sysno.kbind), request: .kbind(param: param, psize: psize, cookie: cookie)))
                }
            }
        }
        return Input(
            arch: arch, policy: policy, kind: kind, program: program, base: base, interpreter: interpreter,
            interpBase: interpBase, interpFault: interpFault, libc: libcBytes, libcBase: libcBase, libsys: libsys,
            libsysBase: libsysBase, sigtramp: sigtramp,
            mappings: mappings, steps: steps)
    }
}
