import SysPinCore
import SysPinTesting

extension FuzzScenario {
    /// The hand-made seeds (`syspin seeds` writes them through `encode`). Images are built as
    /// decode builds them; load bases, libc's base (16 pages up) and the mapping area are the low
    /// ones decode offers; policy openbsd; kbind cookie 0xC00C1E.
    static func seeds() -> [(name: String, input: Input)] {
        struct Process {
            var arch: Arch
            var page: UInt64 { arch.pageSize }
            var wide: Bool { arch.pointerBytes == 8 }
            var base: UInt64
            var interpBase: UInt64
            var libcBase: UInt64 { (wide ? 0x8_0000_0000 : 0x6000_0000) + page * 0x10 }
            var area: UInt64 { wide ? 0x6_0000_0000 : 0x2000_0000 }
            var trampBase: UInt64 { wide ? 0x7f_ffff_0000 : 0xbfff_0000 }
            init(_ arch: Arch, basePages: UInt64 = 0, interpPages: UInt64 = 0) {
                self.arch = arch
                base = (arch.pointerBytes == 8 ? 0x5_0000_0000 : 0x1000_0000) + arch.pageSize * basePages
                interpBase = (arch.pointerBytes == 8 ? 0x7_0000_0000 : 0x4000_0000) + arch.pageSize * interpPages
            }
            /// Sites at `offsets` (from the text start `tv`) with their system call numbers.
            func sites(_ tv: UInt64, _ list: [(UInt64, UInt32)]) -> [SyscallSite] {
                list.map { SyscallSite(offset: UInt32(truncatingIfNeeded: tv &+ $0.0), sysno: $0.1) }
            }
            /// libc.so: one text page at `page`, sites for 20, exit, pinsyscalls and 5 (or none).
            func libcSites(_ full: Bool) -> [SyscallSite] {
                full ? sites(page, [(0x10, 20), (0x20, Sysno.exit), (0x30, Sysno.pinsyscalls), (0x40, 5)]) : []
            }
            /// The mappings [area, +1 page) and [+1 page, +2) writable, and with `readOnly` [+4, +6).
            func mappings(readOnly: Bool) -> [MemoryMapping] {
                [MemoryMapping(start: area, end: area + page, writable: true), MemoryMapping(start: area + page, end: area + 2 * page, writable: true)]
                    + (readOnly ? [MemoryMapping(start: area + 4 * page, end: area + 6 * page, writable: false)] : [])
            }
            func input(
                _ kind: ProgramKind, program: [UInt8], interpreter: [UInt8]? = nil, interpFault: (OpenBSDErrno, String)? = nil,
                libc: Bool, sigtramp: UInt64? = nil, mappings: [MemoryMapping] = [], _ steps: [Step]
            ) -> Input {
                Input(
                    arch: arch, policy: .openbsd, kind: kind, program: program, base: base, interpreter: interpreter,
                    interpBase: interpBase, interpFault: interpFault,
                    libc: ElfBuilder.sharedLibrary(arch: arch, textVaddr: page, textMemsz: page, sites: libcSites(libc)).build(),
                    libcBase: libcBase, libsys: nil, libsysBase: libcBase + (wide ? 0x1_0000_0000 : 0x1000_0000), sigtramp: sigtramp,
                    mappings: mappings, steps: steps)
            }
        }
        func plain(_ addr: UInt64, _ sysno: Int64) -> Step { Step(addr: addr, sysno: sysno, request: .plain) }
        func fromLibc(_ addr: UInt64) -> Step { Step(addr: addr, sysno: Int64(Sysno.pinsyscalls), request: .fromLibc(threads: 1)) }
        func kbind(_ addr: UInt64, _ param: [UInt8]?, arch: Arch) -> Step {
            Step(addr: addr, sysno: Int64(Sysno.kbind), request: .kbind(param: param, psize: UInt64(param?.count ?? 0), cookie: 0xC0_0C1E))
        }
        var out: [(name: String, input: Input)] = []

        // Static programs: text 64 pages up, one page long.
        var p = Process(.amd64)
        var tv = p.page * 0x40
        var s = p.sites(tv, [(0x10, 20), (0x20, Sysno.exit), (0x30, Sysno.sigreturn)])
        let tramp = p.trampBase + 0x40
        out.append(
            ("amd64 static ET_EXEC: sites for 20, exit, sigreturn; a call from each site, sigreturn from the trampoline, then 20 from exit's site (SIGABRT) and a dead step",
             p.input(.staticExec, program: ElfBuilder.staticExec(arch: .amd64, text: (tv, p.page), sites: s).build(), libc: false, sigtramp: tramp, [
                plain(tv + 0x10, 20), plain(tv + 0x20, 1), plain(tramp, 103), plain(tv + 0x20, 20), plain(tv + 0x10, 20),
             ])))

        p = Process(.arm64, basePages: 0x10)
        tv = p.page
        s = p.sites(tv, [(0x10, Sysno.kbind), (0x20, Sysno.pinsyscalls), (UInt64.max, 20)])  // the last at text start - 1
        out.append(
            ("arm64 static PIE: ld.so converts libc's table from the program's pinsyscalls site, then kbind from its kbind site",
             p.input(.staticPIE, program: ElfBuilder.staticPIE(arch: .arm64, text: (tv, 2 * p.page), sites: s).build(), libc: true,
                     mappings: p.mappings(readOnly: false), [
                fromLibc(p.base + tv + 0x20),
                kbind(p.base + tv + 0x10, KbindParamBuilder.encode([(p.area + p.page, Array("pie-kbnd".utf8))], arch: .arm64), arch: .arm64),
             ])))

        // Dynamic programs: the program's own table (ignored), ld.so's text one page up and two
        // pages long with pinsyscalls, exit and sigreturn sites; `fault` breaks ld.so.
        func dynamic(_ arch: Arch, pie: Bool = true, fault: Int? = nil, _ steps: (Process, _ ldText: UInt64) -> [Step]) -> Input {
            let p = Process(arch, basePages: 0x20, interpPages: 0x30)
            let ptv = pie ? p.page : p.page * 0x20
            let program = ElfBuilder.dynamicExec(arch: arch, pie: pie, text: (ptv, p.page), sites: p.sites(ptv, [(0x100, 20)])).build()
            let ltv = p.page
            var ld = ElfBuilder.ldso(
                arch: arch, textVaddr: ltv, textMemsz: 2 * p.page,
                sites: p.sites(ltv, [(0x100, Sysno.pinsyscalls), (0x200, Sysno.exit), (0x300, Sysno.sigreturn)]))
            var interpFault: (OpenBSDErrno, String)?
            switch fault {
            case 10: interpFault = (.ENOENT, "no interpreter file (R-ELF-18)")
            case 11: ld.syscalls = nil; interpFault = (.EINVAL, "no PT_OPENBSD_SYSCALLS (R-ELF-24)")
            case 12: ld.type = .exec; interpFault = (.ENOEXEC, "ET_EXEC interpreter (R-ELF-5)")
            case 14: ld.entry = ltv + 3 * p.page; interpFault = (.ENOEXEC, "e_entry in a writable PT_LOAD (R-ELF-21)")
            case 15: ld.segments[1].header.align = 0x1001; interpFault = (.EINVAL, "p_align 0x1001 (R-ELF-19)")
            default: break
            }
            return p.input(
                .dynamic, program: program, interpreter: fault == 10 ? nil : ld.build(), interpFault: interpFault, libc: true,
                mappings: p.mappings(readOnly: true), steps(p, p.interpBase + ltv))
        }
        out.append(
            ("amd64 dynamic PIE: ld.so submits libc's table, libc's 20 runs, ld.so binds kbind, then NULL after binding (SIGILL)",
             dynamic(.amd64) { p, lt in
                [
                    fromLibc(lt + 0x100), plain(p.libcBase + p.page + 0x10, 20),
                    kbind(lt + 0x40, KbindParamBuilder.encode([(p.area + p.page - 8, Array("0123456789abcdef".utf8))], arch: .amd64), arch: .amd64),
                    kbind(lt + 0x40, nil, arch: .amd64),
                ]
             }))
        for (arch, fault, what) in [
            (Arch.i386, 11, "no table (R-ELF-24)"), (.riscv64, 12, "ET_EXEC (R-ELF-5)"), (.powerpc, 10, "missing (ENOENT)"),
            (.sparc64, 14, "entry in the data segment (R-ELF-21)"), (.mips64el, 15, "bad p_align (R-ELF-19)"),
        ] {
            out.append(
                ("\(arch.name) dynamic, the interpreter broken: \(what); killed with SIGABRT (R-ELF-25)",
                 dynamic(arch, fault: fault) { _, lt in [plain(lt, Int64(Sysno.pinsyscalls))] }))
        }
        out.append(
            ("armv7 dynamic non-PIE program, ld.so fine: pinsyscalls twice, exit from libc's exit site",
             dynamic(.armv7, pie: false) { p, lt in [fromLibc(lt + 0x100), fromLibc(lt + 0x100), plain(p.libcBase + p.page + 0x20, 1)] }))

        // Broken main programs.
        for (arch, why, errno) in [
            (Arch.powerpc64, "no OpenBSD note, EI_OSABI 0 (R-ELF-12)", OpenBSDErrno.ENOEXEC), (.mips64, "PT_SHLIB (R-ELF-14)", .ENOEXEC),
            (.amd64, "p_align 3 (R-ELF-8)", .EINVAL),
        ] {
            let p = Process(arch)
            let tv = p.page * 0x40
            var b = ElfBuilder.staticExec(arch: arch, text: (tv, p.page), sites: p.sites(tv, [(0x10, 20)]))
            switch why {
            case "PT_SHLIB (R-ELF-14)": b.segments.append(.raw(ProgramHeader(type: .shlib, flags: 0, offset: 0, vaddr: 0, filesz: 0, memsz: 0, align: 0)))
            case "p_align 3 (R-ELF-8)": b.segments[0].header.align = 3
            default: b.openBSDNote = false
            }
            out.append(
                ("\(arch.name) main program broken: \(why)", p.input(.brokenMain(errno, why), program: b.build(), libc: false, [plain(tv, 20)])))
        }

        p = Process(.riscv64)
        tv = p.page * 0x40
        s = p.sites(tv, [(0x10, 20), (0x20, 0)])
        out.append(
            ("riscv64 static ET_EXEC with a discarded table (sysno 0): every call dies",
             p.input(.staticExec, program: ElfBuilder.staticExec(arch: .riscv64, text: (tv, p.page), sites: s).build(), libc: false, [
                plain(tv + 0x10, 20)
             ])))
        return out
    }
}
