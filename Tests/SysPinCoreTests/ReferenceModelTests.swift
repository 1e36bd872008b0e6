import SysPinCore
import SysPinReference
import SysPinTesting
import Testing

/// The independent reference model (SysPinReference) on hand-built images: exact errno, signal and
/// rule for each rule family and for each correction of 2026-11-30.
@Suite("Reference model")
struct ReferenceModelTests {
    static let amd64 = RefArch.named("amd64")!
    static let enoexec = RefErrno.ENOEXEC
    static let abrt = RefSignal.SIGABRT

    static func ref(_ a: Arch) -> RefArch { RefArch.named(a.name)! }

    static func exec(
        _ program: [UInt8], base: UInt64 = 0, interpreter: [UInt8]? = nil, pos: UInt64 = 0x7f00_0000_0000,
        arch: Arch = .amd64, policy: RefPolicy = .openbsd, libc: [UInt8]? = nil, libcBase: UInt64 = 0
    ) -> (RefVerdict, RefProcess?) {
        RefProcess.exec(
            program: program, base: base, interpreter: interpreter, interpreterBase: pos, libc: libc, libcBase: libcBase,
            arch: ref(arch), policy: policy)
    }

    static func note(_ e: Endian, namesz: UInt32, name: [UInt8]) -> [UInt8] {
        var padded = name
        while padded.count % 4 != 0 { padded.append(0) }
        return e.encode(UInt64(namesz), width: 4) + e.encode(4, width: 4) + e.encode(1, width: 4) + padded + [0, 0, 0, 0]
    }

    static func withNotes(_ notes: [ElfBuilder.Segment], osabi: UInt8? = nil) -> [UInt8] {
        var b = ElfBuilder.staticExec(arch: .amd64, sites: [])
        b.openBSDNote = false
        b.ident.osabi = osabi
        b.segments += notes
        return b.build()
    }

    // MARK: R-ELF-12 (corrected)

    @Test("R-ELF-12: the note is required, EI_OSABI 12 admits nothing")
    func noteRequired() {
        #expect(Self.exec(Self.withNotes([], osabi: 12)).0 == .fail(Self.enoexec, "R-ELF-12"))
        let good = ElfBuilder.Segment.payload(.note, ElfBuilder.openBSDNote(endian: .little))
        #expect(Self.exec(Self.withNotes([good], osabi: 0)).0 == .ok)
    }

    @Test("R-ELF-12: namesz ≥ 7 with the C string OpenBSD, its NUL in the padding")
    func noteName() {
        let name = Array("OpenBSD".utf8)
        let seven = ElfBuilder.Segment.payload(.note, Self.note(.little, namesz: 7, name: name + [0]))
        #expect(Self.exec(Self.withNotes([seven])).0 == .ok)
        let nine = ElfBuilder.Segment.payload(.note, Self.note(.little, namesz: 9, name: name + [0, 0x41]))
        #expect(Self.exec(Self.withNotes([nine])).0 == .ok)
        let noNul = ElfBuilder.Segment.payload(.note, Self.note(.little, namesz: 7, name: name + [0x41]))
        #expect(Self.exec(Self.withNotes([noNul])).0 == .fail(Self.enoexec, "R-ELF-12"))
        let six = ElfBuilder.Segment.payload(.note, Self.note(.little, namesz: 6, name: name + [0]))
        #expect(Self.exec(Self.withNotes([six])).0 == .fail(Self.enoexec, "R-ELF-12"))
    }

    @Test("R-ELF-12: an unreadable note segment ends the scan; notes over 1024 bytes are skipped")
    func noteScanEnd() {
        let good = ElfBuilder.Segment.payload(.note, ElfBuilder.openBSDNote(endian: .little))
        let outside = ElfBuilder.Segment.raw(
            ProgramHeader(type: .note, flags: 4, offset: 1 << 20, vaddr: 0, filesz: 24, memsz: 24, align: 4))
        #expect(Self.exec(Self.withNotes([good, outside])).0 == .ok)
        #expect(Self.exec(Self.withNotes([outside, good])).0 == .fail(Self.enoexec, "R-ELF-12"))
        let big = ElfBuilder.Segment.payload(.note, ElfBuilder.openBSDNote(endian: .little) + [UInt8](repeating: 0, count: 1008))
        #expect(Self.exec(Self.withNotes([big])).0 == .fail(Self.enoexec, "R-ELF-12"))
    }

    // MARK: R-ELF-1..17, arch derivation

    @Test("R-ELF-2 vs R-ELF-3: the arch comes from e_machine; a wrong class is R-ELF-2")
    func archDerivation() throws {
        var b = ElfBuilder.staticExec(arch: .i386, sites: [])
        b.machine = 62
        let img = b.build()
        let arch = try RefElf.deriveArch(img).get()
        #expect(arch.name == "amd64")
        #expect(Self.exec(img).0 == .fail(Self.enoexec, "R-ELF-2"))
        b.machine = 999
        #expect(RefElf.deriveArch(b.build()) == .failure(RefFailure(verdict: .fail(Self.enoexec, "R-ELF-3"))))
        #expect(RefElf.deriveArch([0x7f, 0x45]) == .failure(RefFailure(verdict: .fail(Self.enoexec, "R-ELF-1"))))
        #expect(try RefElf.deriveArch(ElfBuilder.staticExec(arch: .mips64el, sites: []).build()).get().name == "mips64el")
        #expect(RefArch.named("octeon")?.name == "mips64" && RefArch.named("loongson")?.name == "mips64el")
    }

    @Test("R-ELF-1..17 in SPEC order on both byte orders and classes")
    func headerRules() {
        for arch in [Arch.amd64, .i386, .powerpc, .sparc64] {
            let ok = ElfBuilder.staticExec(arch: arch, sites: [])
            #expect(Self.exec(ok.build(), arch: arch).0 == .ok)
            #expect(Self.exec(Array(ok.build().prefix(40)), arch: arch).0 == .fail(Self.enoexec, "R-ELF-1"))
            var v = ok
            v.version = 2
            #expect(Self.exec(v.build(), arch: arch).0 == .fail(Self.enoexec, "R-ELF-3"))
            var many = ok
            many.phnum = 33
            #expect(Self.exec(many.build(), arch: arch).0 == .fail(Self.enoexec, "R-ELF-4"))
            var rel = ok
            rel.type = .rel
            #expect(Self.exec(rel.build(), arch: arch).0 == .fail(Self.enoexec, "R-ELF-5"))
            var far = ok
            far.phoff = 1 << 30
            #expect(Self.exec(far.build(), arch: arch).0 == .fail(Self.enoexec, "R-ELF-7"))
            var align = ok
            align.segments[0].header.align = 3
            #expect(Self.exec(align.build(), arch: arch).0 == .fail(RefErrno.EINVAL, "R-ELF-8"))
            var memsz = ok
            memsz.segments[1].header.memsz = 0
            #expect(Self.exec(memsz.build(), arch: arch).0 == .fail(RefErrno.EINVAL, "R-ELF-10"))
            var shlib = ok
            shlib.segments.append(.raw(ProgramHeader(type: .shlib, flags: 0, offset: 0, vaddr: 0, filesz: 0, memsz: 0, align: 0)))
            #expect(Self.exec(shlib.build(), arch: arch).0 == .fail(Self.enoexec, "R-ELF-14"))
            var rnd = ok
            rnd.segments.append(.raw(ProgramHeader(type: .openbsdRandomize, flags: 4, offset: 0, vaddr: 0, filesz: 0, memsz: 0x10_0001, align: 0)))
            #expect(Self.exec(rnd.build(), arch: arch).0 == .fail(RefErrno.ENOMEM, "R-ELF-15"))
        }
        var interp = ElfBuilder.dynamicExec(arch: .amd64)
        interp.interp = nil
        interp.segments.insert(.payload(.interp, Array("/x".utf8)), at: 0)  // no NUL
        #expect(Self.exec(interp.build()).0 == .fail(Self.enoexec, "R-ELF-9"))
        var pie = ElfBuilder.staticPIE(arch: .amd64, sites: [])
        pie.includePhdr = false
        #expect(Self.exec(pie.build()).0 == .fail(RefErrno.EINVAL, "R-ELF-13"))
        #expect(RefElf.loadMain(ElfBuilder.staticExec(arch: .amd64, sites: []).build(), arch: Self.amd64, base: 0, openForWrite: true)
            == .failure(RefFailure(verdict: .fail(RefErrno.ETXTBSY, "R-ELF-6"))))
    }

    // MARK: R-PT-1..9

    @Test("R-PT-1..8: discards, duplicates, ld.so's kbind wildcard, npins")
    func parse() {
        let e: [RefEntry] = [.init(offset: 0x10, sysno: 20), .init(offset: 0x20, sysno: 20), .init(offset: 0x30, sysno: 1)]
        let built = RefPins.build(e, isLdso: false, len: 0x30)
        #expect(built.discardedBy == nil && built.pins?.count == 21)
        #expect(built.pins?[20] == 0xFFFF_FFFF && built.pins?[1] == 0x30)
        #expect(RefPins.build(e, isLdso: false, len: 0x2f).discardedBy == "R-PT-4")
        #expect(RefPins.build([.init(offset: 0, sysno: 0)], isLdso: false, len: 0).discardedBy == "R-PT-4")
        #expect(RefPins.build([.init(offset: 0, sysno: 331)], isLdso: false, len: 0).discardedBy == "R-PT-4")
        let ld = RefPins.build([.init(offset: 8, sysno: 86), .init(offset: 4, sysno: 3)], isLdso: true, len: 8)
        #expect(ld.pins?.count == 87 && ld.pins?[86] == 0xFFFF_FFFF && ld.pins?[3] == 4)
        #expect(RefPins.build([], isLdso: false, len: 0).pins == [0])
        #expect(RefPins.parse(filesz: 5304, available: [UInt8](repeating: 1, count: 5304), bigEndian: false, isLdso: false, len: 0).discardedBy == "R-PT-1")
        #expect(RefPins.parse(filesz: 12, available: [UInt8](repeating: 1, count: 12), bigEndian: false, isLdso: false, len: 0).discardedBy == "R-PT-2")
        let short = RefPins.parse(filesz: 16, available: [1, 0, 0, 0, 2, 0, 0, 0], bigEndian: false, isLdso: false, len: 9)
        #expect(short.discardedBy == "R-PT-3" && short.entries == [.init(offset: 1, sysno: 2)])
        let be = RefPins.parse(filesz: 8, available: [0, 0, 0, 1, 0, 0, 0, 2], bigEndian: true, isLdso: false, len: 9)
        #expect(be.pins == [0, 0, 1])
    }

    @Test("R-PT-9 corrected: the delta is 32 bits for pins, start and length")
    func rebase() {
        let r = RefPins.rebase([0, 0x2010, 0x1FFF, 0x2000, 0xFFFF_FFFF], start: 0, len: 0x1_0000_3000, delta: 0x1_0000_2000, arch: Self.amd64)
        #expect(r.pins == [0, 0x10, 0xFFFF_FFFF, 0, 0xFFFF_FFFF])
        #expect(r.start == 0x2000 && r.end == 0x1_0000_3000)
        let i386 = RefArch.named("i386")!
        let w = RefPins.rebase([0x2030], start: 0xFFFF_F000, len: 0x3000, delta: 0x2000, arch: i386)
        #expect(w.start == 0x1000 && w.end == 0x2000 && w.pins == [0x30])
        // ET_EXEC text above 4 GiB: the region starts at the low 32 bits of T0.
        let b = ElfBuilder.staticExec(arch: .amd64, text: (0x1_0000_2000, 0x1000), sites: [SyscallSite(offset: 0x2010, sysno: 20)])
        let (v, p) = Self.exec(b.build())
        #expect(v == .ok)
        #expect(p?.main?.start == 0x2000 && p?.main?.end == 0x1_0000_3000 && p?.main?.pins[20] == 0x10)
    }

    // MARK: R-PT-11, R-PT-12

    @Test("R-PT-11: a static PIE's base is truncated to its base PT_LOAD's p_align first")
    func pieBase() throws {
        let b = ElfBuilder.staticPIE(arch: .amd64, text: (0x1000, 0x1000), sites: [SyscallSite(offset: 0x1010, sysno: 20)])
        let (v, p) = Self.exec(b.build(), base: 0x5000_1234)
        #expect(v == .ok)
        let s = try #require(p)
        #expect(s.main?.start == 0x5000_2000 && s.main?.end == 0x5000_3000 && s.main?.pins[20] == 0x10)
        #expect(s.kbindPC == UInt64.max && s.once)  // R-KB-14, R-PT-16
    }

    @Test("R-PT-11: the span update can shrink the span; no text is the empty region (D-NOTEXT)")
    func spanQuirk() {
        var b = ElfBuilder.staticExec(arch: .amd64, text: (0x40_0000, 0x3000), sites: [SyscallSite(offset: 0x40_0010, sysno: 20)])
        b.segments.insert(.load(flags: ProgramFlags.r | ProgramFlags.x, vaddr: 0x40_1000, memsz: 0x1000), at: 1)
        let (_, p) = Self.exec(b.build())
        #expect(p?.main?.start == 0x40_0000 && p?.main?.end == 0x40_2000)
        var down = ElfBuilder.staticExec(arch: .amd64, text: (0x40_2000, 0x1000), sites: [])
        down.segments.insert(.load(flags: ProgramFlags.r | ProgramFlags.x, vaddr: 0x40_0000, memsz: 0x1000), at: 1)
        #expect(Self.exec(down.build()).1?.main.map { [$0.start, $0.end] } == [0x40_0000, 0x40_3000])
        var none = ElfBuilder.staticExec(arch: .amd64, sites: [])
        none.segments[0].header.flags = ProgramFlags.r
        #expect(Self.exec(none.build()).1?.main.map { [$0.start, $0.end] } == [0, 0])
    }

    @Test("R-PT-12: ld.so's region, its kbind wildcard, and the absolute-first-segment quirk")
    func ldso() throws {
        let prog = ElfBuilder.dynamicExec(arch: .amd64).build()
        let ld = ElfBuilder.ldso(arch: .amd64, textVaddr: 0x1000, textMemsz: 0x2000, sites: [SyscallSite(offset: 0x1100, sysno: 158)])
        let pos: UInt64 = 0x7f00_0000_0000
        let (v, p) = Self.exec(prog, interpreter: ld.build(), pos: pos)
        #expect(v == .ok)
        let s = try #require(p)
        #expect(s.main?.start == pos + 0x1000 && s.main?.end == pos + 0x3000)
        #expect(s.main?.pins[158] == 0x100 && s.main?.pins[86] == 0xFFFF_FFFF && !s.once && s.kbindPC == 0)
        var quirk = ElfBuilder.ldso(arch: .amd64, textVaddr: 0x1000, sites: [])
        quirk.segments[0].header.flags = ProgramFlags.r | ProgramFlags.x
        quirk.segments[1].header.flags = ProgramFlags.r
        let q = try #require(Self.exec(prog, interpreter: quirk.build(), pos: 0x1_2345_6000).1?.main)
        #expect(q.start == 0x1_2345_6000 + 0x2345_6000)
    }

    // MARK: R-ELF-19..25 through exec

    @Test("R-ELF-25: interpreter failures kill with SIGABRT; missing or short is R-ELF-25")
    func interpreterFailures() {
        let prog = ElfBuilder.dynamicExec(arch: .amd64).build()
        #expect(Self.exec(prog).0 == .killed(Self.abrt, RefErrno.ENOENT, "R-ELF-25"))
        let ld = ElfBuilder.ldso(arch: .amd64, sites: [])
        #expect(Self.exec(prog, interpreter: Array(ld.build().prefix(40))).0 == .killed(Self.abrt, Self.enoexec, "R-ELF-25"))
        var exec = ld
        exec.type = .exec
        #expect(Self.exec(prog, interpreter: exec.build()).0 == .killed(Self.abrt, Self.enoexec, "R-ELF-5"))
        var none = ld
        none.syscalls = nil
        #expect(Self.exec(prog, interpreter: none.build()).0 == .killed(Self.abrt, RefErrno.EINVAL, "R-ELF-24"))
        var entry = ld
        entry.entry = 0x4000
        #expect(Self.exec(prog, interpreter: entry.build()).0 == .killed(Self.abrt, Self.enoexec, "R-ELF-21"))
        var align = ld
        align.segments[1].header.align = 0x1001
        #expect(Self.exec(prog, interpreter: align.build()).0 == .killed(Self.abrt, RefErrno.EINVAL, "R-ELF-19"))
    }

    // MARK: §7

    static func process(policy: RefPolicy = .openbsd, arch: RefArch = amd64) -> RefProcess {
        let sites: [RefEntry] = [.init(offset: 0x10, sysno: 20), .init(offset: 0x20, sysno: 4), .init(offset: 0x30, sysno: 4)]
        let pins = RefPins.build(sites, isLdso: false, len: 0x1000).pins!
        let main = RefTable(
            start: 0x1000, end: 0x2000, pins: pins,
            sites: RefPins.strictSites(pins: pins, start: 0x1000, recorded: sites, origin: 0x1000, arch: arch))
        return RefProcess(arch: arch, policy: policy, main: main, sigtramp: 0x9000)
    }

    @Test("§7.2: R-PC-7, R-PT-10, R-PC-5, the wildcard; D-STRICT")
    func pinCheck() {
        let kill = { (e: Int32, r: String) in RefStepResult.decided(.killed(RefSignal.SIGABRT, e, r)) }
        var p = Self.process()
        #expect(p.step(addr: 0x1010, sysno: 20, .plain) == .decided(.ok))
        #expect(p.step(addr: 0x1500, sysno: 4, .plain) == .decided(.ok))  // R-PC-8
        #expect(p.step(addr: 0x9000, sysno: 103, .plain) == .decided(.ok))
        for (addr, code, e, rule) in [
            (UInt64(0x1014), Int64(20), RefErrno.ENOSYS, "R-PT-10"), (0x1010, 21, RefErrno.ENOSYS, "R-PC-7"),
            (0x1010, 5, RefErrno.ENOSYS, "R-PC-7"), (0x9000, 20, RefErrno.EPERM, "R-PC-5"), (0x3000, 20, RefErrno.ENOSYS, "R-PC-7"),
        ] {
            var q = Self.process()
            #expect(q.step(addr: addr, sysno: code, .plain) == kill(e, rule))
            #expect(q.step(addr: 0x1010, sysno: 20, .plain) == .deadStep)
        }
        var s = Self.process(policy: .strict)
        #expect(s.step(addr: 0x1030, sysno: 4, .plain) == .decided(.ok))
        #expect(s.step(addr: 0x1010, sysno: 20, .plain) == .decided(.ok))
        #expect(s.step(addr: 0x1500, sysno: 4, .plain) == kill(RefErrno.ENOSYS, "D-STRICT"))
    }

    @Test("R-PC-1 per arch; R-PC-4 libc first")
    func rangeAndPrecedence() {
        var amd = Self.process()
        #expect(amd.step(addr: 0x1010, sysno: 331, .plain) == .decided(.fail(RefErrno.ENOSYS, "R-PC-1")))
        #expect(amd.step(addr: 0x5, sysno: -1, .plain) == .decided(.fail(RefErrno.ENOSYS, "R-PC-1")))
        for name in ["i386", "armv7", "mips64", "mips64el"] {
            var p = Self.process(arch: RefArch.named(name)!)
            #expect(p.step(addr: 0x1010, sysno: 331, .plain) == .decided(.killed(Self.abrt, RefErrno.ENOSYS, "R-PC-7")))
            var q = Self.process(arch: RefArch.named(name)!)
            #expect(q.step(addr: 0x1010, sysno: -5, .plain) == .decided(.killed(Self.abrt, RefErrno.ENOSYS, "R-PC-7")))
        }
        var p = Self.process()
        p.libc = RefTable(start: 0x1000, end: 0x1800, pins: [0], sites: [])
        #expect(p.step(addr: 0x1010, sysno: 20, .plain) == .decided(.killed(Self.abrt, RefErrno.ENOSYS, "R-PC-7")))
    }

    // MARK: D-MSYSCALL, D-LIBSYS

    @Test("D-MSYSCALL: any number from the pin regions, R-PC-5 at the trampoline, SIGSEGV/EPERM elsewhere")
    func msyscall() {
        let segv = RefStepResult.decided(.killed(RefSignal.SIGSEGV, RefErrno.EPERM, "D-MSYSCALL"))
        var p = Self.process(policy: .msyscall)
        #expect(p.step(addr: 0x1010, sysno: 20, .plain) == .decided(.ok))
        #expect(p.step(addr: 0x1010, sysno: 21, .plain) == .decided(.ok))  // R-PC-7 under openbsd
        #expect(p.step(addr: 0x1500, sysno: 300, .plain) == .decided(.ok))  // no pin read at all
        #expect(p.step(addr: 0x1fff, sysno: 20, .plain) == .decided(.ok))
        #expect(p.step(addr: 0x9000, sysno: 103, .plain) == .decided(.ok))
        #expect(p.step(addr: 0x1010, sysno: 331, .plain) == .decided(.fail(RefErrno.ENOSYS, "R-PC-1")))
        #expect(p.killedBy == nil)
        for (addr, code, want) in [
            (UInt64(0x2000), Int64(20), segv), (0x0fff, 20, segv), (0x3000, 103, segv),
            (0x9000, 20, RefStepResult.decided(.killed(Self.abrt, RefErrno.EPERM, "R-PC-5"))),
        ] {
            var q = Self.process(policy: .msyscall)
            #expect(q.step(addr: addr, sysno: code, .plain) == want)
            #expect(q.killedBy == want.verdict.signal)
            #expect(q.step(addr: 0x1010, sysno: 20, .plain) == .deadStep)
        }
        // i386: an out-of-range number reaches the check; inside a region it passes to sys_nosys.
        var i386 = Self.process(policy: .msyscall, arch: RefArch.named("i386")!)
        #expect(i386.step(addr: 0x1010, sysno: 331, .plain) == .decided(.fail(RefErrno.ENOSYS, "R-PC-1")))
        #expect(i386.step(addr: 0x3000, sysno: -1, .plain) == segv)
        // libc's registered region (R-PIN-9) is syscall-permitted text too, whatever its pins say.
        var l = Self.process(policy: .msyscall)
        #expect(l.step(addr: 0x10_0800, sysno: 5, .plain) == segv)
        var m = Self.process(policy: .msyscall)
        let sub = RefSubmission(base: 0x10_0000, len: 0x1000, pins: [0, 0x10], npins: 2)
        #expect(m.step(addr: 0x1500, sysno: 158, .pinsyscalls(sub, threads: 1)) == .decided(.ok))
        #expect(m.step(addr: 0x10_0800, sysno: 5, .plain) == .decided(.ok))
        #expect(m.step(addr: 0x10_1000, sysno: 5, .plain) == segv)
    }

    @Test("D-MSYSCALL through exec: a static program whose table was discarded has no permitted text")
    func msyscallExec() throws {
        let good = ElfBuilder.staticExec(arch: .amd64, text: (0x40_0000, 0x1000), sites: [SyscallSite(offset: 0x40_0010, sysno: 20)])
        var p = try #require(Self.exec(good.build(), policy: .msyscall).1)
        #expect(p.main?.start == 0x40_0000 && p.main?.end == 0x40_1000 && !p.mainIsLdso)
        #expect(p.step(addr: 0x40_0800, sysno: 7, .plain) == .decided(.ok))
        let discarded = ElfBuilder.staticExec(arch: .amd64, text: (0x40_0000, 0x1000), sites: [SyscallSite(offset: 0x40_0010, sysno: 0)])
        var q = try #require(Self.exec(discarded.build(), policy: .msyscall).1)
        #expect(q.main == nil)
        #expect(q.step(addr: 0x40_0010, sysno: 20, .plain) == .decided(.killed(RefSignal.SIGSEGV, RefErrno.EPERM, "D-MSYSCALL")))
    }

    @Test("D-LIBSYS: libsys's text at its base (R-LD-1's normalisation); nil for an unreadable image")
    func libsysText() {
        let lib = ElfBuilder.sharedLibrary(arch: .amd64, textVaddr: 0x1000, textMemsz: 0x4000, sites: [])
        #expect(RefRegionPolicies.libsysText(lib.build(), base: 0x20_0000, arch: Self.amd64) == RefSpan(start: 0x20_1000, end: 0x20_5000))
        var odd = ElfBuilder.sharedLibrary(arch: .amd64, textVaddr: 0x1000, textMemsz: 0x4000, sites: [])
        for i in odd.segments.indices where odd.segments[i].header.type == .load && odd.segments[i].header.flags & ProgramFlags.x != 0 {
            odd.segments[i].header.vaddr = 0x1010
        }
        #expect(RefRegionPolicies.libsysText(odd.build(), base: 0x20_0000, arch: Self.amd64) == RefSpan(start: 0x20_1000, end: 0x20_5010))
        var exec = lib
        exec.type = .exec
        #expect(RefRegionPolicies.libsysText(exec.build(), base: 0x20_0000, arch: Self.amd64) == nil)
        #expect(RefRegionPolicies.libsysText(Array(lib.build().prefix(10)), base: 0, arch: Self.amd64) == nil)
    }

    @Test("D-LIBSYS: any number from libsys's or ld.so's text; the program's and libc's get SIGABRT/ENOSYS")
    func libsys() throws {
        let abort = RefStepResult.decided(.killed(Self.abrt, RefErrno.ENOSYS, "D-LIBSYS"))
        // A static program's own region accepts nothing; the trampoline rule stays.
        for (addr, code, want) in [
            (UInt64(0x1010), Int64(20), abort), (0x3000, 20, abort), (0x9000, 103, RefStepResult.decided(.ok)),
            (0x9000, 20, RefStepResult.decided(.killed(Self.abrt, RefErrno.EPERM, "R-PC-5"))),
        ] {
            var q = Self.process(policy: .libsys)
            #expect(q.step(addr: addr, sysno: code, .plain) == want)
        }
        // A dynamic program with libsys at 0x20_0000 and libc at 0x30_0000.
        let prog = ElfBuilder.dynamicExec(arch: .amd64).build()
        let ld = ElfBuilder.ldso(arch: .amd64, textVaddr: 0x1000, textMemsz: 0x2000, sites: [SyscallSite(offset: 0x1100, sysno: 158)])
        let lib = ElfBuilder.sharedLibrary(arch: .amd64, textVaddr: 0x1000, textMemsz: 0x4000, sites: [SyscallSite(offset: 0x1100, sysno: 5)]).build()
        let pos: UInt64 = 0x7f00_0000_0000
        func start(_ policy: RefPolicy) throws -> RefProcess {
            let (v, p) = RefProcess.exec(
                program: prog, interpreter: ld.build(), interpreterBase: pos, libc: lib, libcBase: 0x30_0000, libsys: lib,
                libsysBase: 0x20_0000, arch: Self.amd64, policy: policy)
            #expect(v == .ok)
            return try #require(p)
        }
        var p = try start(.libsys)
        #expect(p.libsysText == RefSpan(start: 0x20_1000, end: 0x20_5000) && p.mainIsLdso)
        #expect(p.step(addr: 0x20_1000, sysno: 300, .plain) == .decided(.ok))
        #expect(p.step(addr: 0x20_4fff, sysno: 1, .plain) == .decided(.ok))
        #expect(p.step(addr: pos + 0x1800, sysno: 20, .plain) == .decided(.ok))  // ld.so's text, no pin for 20
        #expect(p.step(addr: pos + 0x1100, sysno: 158, .fromLibc(threads: 1)) == .decided(.ok))
        #expect(p.libc?.start == 0x30_1000)
        #expect(p.step(addr: 0x30_1100, sysno: 5, .plain) == abort)  // libc's region is not libsys's
        #expect(p.step(addr: 0x20_1000, sysno: 1, .plain) == .deadStep)
        var edge = try start(.libsys)
        #expect(edge.step(addr: 0x20_5000, sysno: 1, .plain) == abort)
        // Other policies ignore libsys: under openbsd its text is in no region.
        var o = try start(.openbsd)
        #expect(o.step(addr: 0x20_1000, sysno: 5, .plain) == .decided(.killed(Self.abrt, RefErrno.ENOSYS, "R-PC-7")))
    }

    // MARK: §6

    @Test("R-PIN-1..9 in order; R-PIN-5 truncates npins to a signed 32-bit int")
    func pinsyscalls() {
        let pinSite = RefEntry(offset: 0x40, sysno: 158)
        let pins = RefPins.build([pinSite], isLdso: false, len: 0x1000).pins!
        func proc() -> RefProcess {
            RefProcess(arch: Self.amd64, policy: .openbsd, main: RefTable(start: 0x1000, end: 0x2000, pins: pins, sites: []))
        }
        func call(_ s: RefSubmission, threads: Int = 1, _ p: inout RefProcess) -> RefVerdict {
            p.step(addr: 0x1040, sysno: 158, .pinsyscalls(s, threads: threads)).verdict
        }
        let good = RefSubmission(base: 0x10_0000, len: 0x1000, pins: [0, 0x10], npins: 2)
        var p = proc()
        #expect(call(good, threads: 2, &p) == .fail(RefErrno.EPERM, "R-PIN-1") && !p.once)
        #expect(call(good, &p) == .ok && p.libc?.start == 0x10_0000 && p.libc?.end == 0x10_1000)
        #expect(call(good, &p) == .fail(RefErrno.EPERM, "R-PIN-2"))
        let cases: [(RefSubmission, RefVerdict)] = [
            (RefSubmission(base: UInt64.max - 4, len: 0x10, pins: [0], npins: 1), .fail(RefErrno.EINVAL, "R-PIN-3")),
            (RefSubmission(base: 0, len: 0x10, pins: [0], npins: 1), .fail(RefErrno.EINVAL, "R-PIN-4")),
            (RefSubmission(base: 0x10_0000, len: 0x10, pins: [0], npins: 0), .fail(RefErrno.E2BIG, "R-PIN-5")),
            (RefSubmission(base: 0x10_0000, len: 0x10, pins: [0], npins: 0xFFFF_FFFF), .fail(RefErrno.E2BIG, "R-PIN-5")),
            (RefSubmission(base: 0x10_0000, len: 0x10, pins: [0], npins: 332), .fail(RefErrno.E2BIG, "R-PIN-5")),
            (RefSubmission(base: 0x10_0000, len: 0x10, pins: [0], npins: 0x1_0000_0001), .ok),
            (RefSubmission(base: 0x10_0000, len: 0x10, pins: [0], npins: 2), .fail(RefErrno.EFAULT, "R-PIN-7")),
            (RefSubmission(base: 0x10_0000, len: 0x10, pins: [0, 0x11], npins: 2), .fail(RefErrno.ERANGE, "R-PIN-8")),
            (RefSubmission(base: 0x10_0000, len: 0x10, pins: [0, 0x10, 0xFFFF_FFFF], npins: 3), .ok),
        ]
        for (s, v) in cases {
            var q = proc()
            #expect(call(s, &q) == v)
            #expect(q.once)  // R-PIN-2 burns the flag whatever follows
        }
        var outside = proc()
        #expect(outside.step(addr: 0x1044, sysno: 158, .pinsyscalls(good, threads: 1)).verdict == .killed(Self.abrt, RefErrno.ENOSYS, "R-PT-10"))
    }

    @Test("§9 / D-LDPIN: ld.so's conversion of libc's table; a bad table is skipped (R-LD-4)")
    func fromLibc() {
        let libc = ElfBuilder.sharedLibrary(arch: .amd64, textVaddr: 0x1000, textMemsz: 0x4000, sites: [SyscallSite(offset: 0x1100, sysno: 5)])
        let sub = RefPinsyscalls.ldsoSubmission(libc: libc.build(), base: 0x20_0000, arch: Self.amd64)
        #expect(sub == RefSubmission(base: 0x20_1000, len: 0x4000, pins: [0, 0, 0, 0, 0, 0x100], npins: 6, sites: [RefEntry(offset: 0x100, sysno: 5)]))
        let bad = ElfBuilder.sharedLibrary(arch: .amd64, sites: [SyscallSite(offset: 0x1100, sysno: 0)])
        var p = Self.process()
        p.libcImage = bad.build()
        #expect(p.step(addr: 0x1, sysno: 158, .fromLibc(threads: 1)) == RefStepResult(dead: false, skipped: true, verdict: RefVerdict(errno: nil, signal: nil, rule: "R-LD-4"), writes: []))
        #expect(p.killedBy == nil && !p.once)
    }

    @Test("D-STRICT: from_libc carries its sites; a raw submission's marker accepts nothing")
    func strictSubmissions() {
        let libc = ElfBuilder.sharedLibrary(
            arch: .amd64, textVaddr: 0x1000, textMemsz: 0x4000,
            sites: [SyscallSite(offset: 0x1100, sysno: 5), SyscallSite(offset: 0x1200, sysno: 5)]).build()
        let kill = RefStepResult.decided(.killed(Self.abrt, RefErrno.ENOSYS, "D-STRICT"))
        func submitted(_ policy: RefPolicy, _ request: RefRequest) -> RefProcess {
            let pins = RefPins.build([RefEntry(offset: 0x40, sysno: 158)], isLdso: false, len: 0x1000).pins!
            var p = RefProcess(
                arch: Self.amd64, policy: policy,
                main: RefTable(start: 0x1000, end: 0x2000, pins: pins, sites: [RefSite(sysno: 158, rel: 0x40)]),
                libcImage: libc, libcBase: 0x20_0000)
            #expect(p.step(addr: 0x1040, sysno: 158, request) == .decided(.ok))
            return p
        }
        var strict = submitted(.strict, .fromLibc(threads: 1))
        #expect(strict.libc?.pins[5] == 0xFFFF_FFFF)
        #expect(strict.step(addr: 0x20_1100, sysno: 5, .plain) == .decided(.ok))
        #expect(strict.step(addr: 0x20_1200, sysno: 5, .plain) == .decided(.ok))
        #expect(strict.step(addr: 0x20_1104, sysno: 5, .plain) == kill)
        var open = submitted(.openbsd, .fromLibc(threads: 1))
        #expect(open.step(addr: 0x20_1104, sysno: 5, .plain) == .decided(.ok))  // R-PC-8
        let raw = RefSubmission(base: 0x20_1000, len: 0x4000, pins: [0, 0, 0, 0, 0, 0xFFFF_FFFF, 0x10], npins: 7)
        var rawStrict = submitted(.strict, .pinsyscalls(raw, threads: 1))
        #expect(rawStrict.step(addr: 0x20_1010, sysno: 6, .plain) == .decided(.ok))  // a precise pin is a site
        #expect(rawStrict.step(addr: 0x20_1100, sysno: 5, .plain) == kill)
    }

    // MARK: §8

    static func kbindProcess(_ arch: RefArch, mappings: [RefMapping]) -> RefProcess {
        let pins = RefPins.build([], isLdso: true, len: 0x1_0000).pins!
        return RefProcess(
            arch: arch, policy: .openbsd, main: RefTable(start: 0x10_0000, end: 0x11_0000, pins: pins, sites: []),
            mappings: mappings)
    }

    @Test("R-KB-1..4: binding, BOGO_PC, SIGILL")
    func kbindBinding() {
        let ill1 = RefStepResult.decided(.killed(RefSignal.SIGILL, nil, "R-KB-1"))
        let ill3 = RefStepResult.decided(.killed(RefSignal.SIGILL, nil, "R-KB-3"))
        var p = Self.kbindProcess(Self.amd64, mappings: [])
        #expect(p.step(addr: 0x10_0100, sysno: 86, .kbind(param: nil, psize: 0, cookie: 1)) == .decided(.ok))
        #expect(p.kbindPC == UInt64.max)
        #expect(p.step(addr: 0x10_0100, sysno: 86, .kbind(param: nil, psize: 0, cookie: 1)) == .decided(.ok))
        #expect(p.step(addr: 0x10_0100, sysno: 86, .kbind(param: [], psize: 0, cookie: 1)) == ill3)
        var q = Self.kbindProcess(Self.amd64, mappings: [])
        // R-KB-2: bound before validation, so the failing first call still binds.
        #expect(q.step(addr: 0x10_0100, sysno: 86, .kbind(param: [], psize: 0, cookie: 7)) == .decided(.fail(RefErrno.EINVAL, "R-KB-5")))
        #expect(q.kbindPC == 0x10_0102 && q.kbindCookie == 7)
        var r = q
        #expect(r.step(addr: 0x10_0100, sysno: 86, .kbind(param: [], psize: 0, cookie: 8)) == ill3)
        var s = q
        #expect(s.step(addr: 0x10_0104, sysno: 86, .kbind(param: [], psize: 0, cookie: 7)) == ill3)
        #expect(q.step(addr: 0x10_0100, sysno: 86, .kbind(param: nil, psize: 0, cookie: 7)) == ill1)
        #expect(q.step(addr: 0x10_0100, sysno: 86, .plain) == .deadStep)
    }

    @Test("R-KB-5..9 on LP64/ILP32 and both byte orders")
    func kbindValidation() {
        for arch in [Arch.amd64, .i386, .powerpc, .sparc64] {
            let r = Self.ref(arch)
            let h = UInt64(arch.kbindHeaderSize)
            func parse(_ headers: [(UInt64, UInt64)], data: Int, psize: UInt64? = nil) -> Result<[RefKbind.Block], RefFailure> {
                let buf = KbindParamBuilder.encode(headers: headers, data: [UInt8](repeating: 0xAB, count: data), arch: arch)
                return RefKbind.parse(buf, psize: psize ?? UInt64(buf.count), arch: r)
            }
            let einval = { (rule: String) in Result<[RefKbind.Block], RefFailure>.failure(RefFailure(verdict: .fail(RefErrno.EINVAL, rule))) }
            #expect(parse([(0x20_0000, 8)], data: 8) == .success([.init(addr: 0x20_0000, data: [UInt8](repeating: 0xAB, count: 8))]))
            #expect(parse([(0x20_0000, 8), (0x20_1000, 4)], data: 12).map { $0.count } == .success(2))
            #expect(parse([(0x20_0000, 8)], data: 8, psize: h - 1) == einval("R-KB-5"))
            #expect(parse([(0x20_0000, 8)], data: 8, psize: r.kbindParamMax + 1) == einval("R-KB-5"))
            #expect(RefKbind.parse([UInt8](repeating: 0, count: Int(h)), psize: h + 1, arch: r) == .failure(RefFailure(verdict: .fail(RefErrno.EFAULT, "R-KB-6"))))
            #expect(parse([(0, 8)], data: 8) == einval("R-KB-7"))
            #expect(parse([(0x20_0000, 0)], data: 0) == einval("R-KB-7"))
            #expect(parse([(0x20_0000, 25)], data: 25, psize: h + 25) == einval("R-KB-5") || h + 25 <= r.kbindParamMax)
            #expect(parse([(r.vmMaxUser - 4, 4)], data: 4) == .success([.init(addr: r.vmMaxUser - 4, data: [0xAB, 0xAB, 0xAB, 0xAB])]))
            #expect(parse([(r.vmMaxUser - 3, 4)], data: 4) == einval("R-KB-7"))
            #expect(parse([(0x20_0000, 8)], data: 9) == einval("R-KB-7"))  // 1 byte left < H
            #expect(parse([(0x20_0000, 4), (0x20_1000, 4)], data: 9) == einval("R-KB-8"))
        }
    }

    @Test("R-KB-11/12: page-split writes, EINVAL/EFAULT per piece, partial writes kept")
    func kbindWrites() {
        for arch in [Arch.amd64, .mips64] {
            let r = Self.ref(arch)
            let page = r.pageSize
            let area: UInt64 = 0x20_0000
            let data: [UInt8] = Array(1...16)
            let at = area + page - 8
            let buf = KbindParamBuilder.encode([(at, data)], arch: arch)
            func run(_ maps: [RefMapping]) -> RefStepResult {
                var p = Self.kbindProcess(r, mappings: maps)
                return p.step(addr: 0x10_0100, sysno: 86, .kbind(param: buf, psize: UInt64(buf.count), cookie: 0))
            }
            let first = RefWrite(address: at, bytes: Array(data[0..<8]))
            let second = RefWrite(address: area + page, bytes: Array(data[8...]))
            #expect(run([RefMapping(start: area, end: area + 2 * page, writable: true)]) == .decided(.ok, [first, second]))
            #expect(run([RefMapping(start: area, end: area + page, writable: true)]) == .decided(.fail(RefErrno.EINVAL, "R-KB-12"), [first]))
            #expect(
                run([RefMapping(start: area, end: area + page, writable: true), RefMapping(start: area + page, end: area + 2 * page, writable: false)])
                    == .decided(.fail(RefErrno.EFAULT, "R-KB-12"), [first]))
            #expect(run([RefMapping(start: area, end: area + 2 * page, writable: false)]) == .decided(.fail(RefErrno.EFAULT, "R-KB-12"), []))
        }
    }

    @Test("RefTable without its site set (indexed: false) answers every D-STRICT question as the indexed table and equals it")
    func unindexedTable() {
        // More sites than RefTable.scanLimit, so the indexed table holds a set.
        let recorded = (0..<40).map { RefEntry(offset: UInt32(0x10 * $0), sysno: 4) } + [RefEntry(offset: 0x800, sysno: 20)]
        let pins = RefPins.build(recorded, isLdso: false, len: 0x1000).pins!
        let sites = RefPins.strictSites(pins: pins, start: 0x1000, recorded: recorded, origin: 0x1000, arch: Self.amd64)
        #expect(sites.count > RefTable.scanLimit)
        let indexed = RefTable(start: 0x1000, end: 0x2000, pins: pins, sites: sites)
        let bare = RefTable(start: 0x1000, end: 0x2000, pins: pins, sites: sites, indexed: false)
        #expect(indexed.siteSet != nil && bare.siteSet == nil)
        #expect(indexed == bare)
        for sysno: UInt32 in [3, 4, 5, 20, 21] {
            for rel in stride(from: UInt64(0), through: 0x1000, by: 8) {
                let site = RefSite(sysno: sysno, rel: rel)
                #expect(indexed.records(site) == bare.records(site))
            }
        }
        var changed = bare
        changed.sites = sites  // a change of the sites builds the set as usual
        #expect(changed.siteSet != nil)
    }
}
