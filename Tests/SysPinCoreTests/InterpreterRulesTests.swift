import SysPinCore
import SysPinTesting
import Testing

/// R-ELF-18..25: loading the interpreter (ld.so) after execve's point of no return (SPEC §4.4).
@Suite("R-ELF-18..25 interpreter loading")
struct InterpreterRulesTests {
    static let arch = Arch.amd64
    static let pos: UInt64 = dynBase

    /// exit at +0x1010, pinsyscalls at +0x1020, getpid at +0x1030 (offsets from the load base).
    static let ldSites = [site(0x1010, 1), site(0x1020, 158), site(0x1030, 20)]

    /// ld.so: read-only PT_LOAD [0, 0x1000), text [0x1000, 0x3000), data [0x4000, 0x5000).
    static func ld(_ arch: Arch = arch) -> ElfBuilder { .ldso(arch: arch, textVaddr: 0x1000, textMemsz: 0x2000, sites: ldSites) }
    static func program(_ arch: Arch = arch) -> [UInt8] { ElfBuilder.dynamicExec(arch: arch).build() }

    static func exec(_ ld: [UInt8]?, arch: Arch = arch) -> (ExecOutcome, ProcessState?) {
        ProcessModel.exec(program: program(arch), base: dynBase, interpreter: ld, interpreterBase: pos, arch: arch)
    }

    /// The kill R-ELF-25 turns an interpreter error into.
    static func killed(_ errno: OpenBSDErrno, _ rule: RuleID) -> Verdict { .killed(.SIGABRT, errno, rule) }

    // MARK: accepting

    @Test("a dynamic program with a well-formed ld.so runs, with ld.so's table as ps_pin", arguments: Arch.all)
    func acceptsLdso(arch: Arch) throws {
        let (outcome, state) = Self.exec(Self.ld(arch).build(), arch: arch)
        #expect(outcome.verdict == .ok)
        let s = try #require(state)
        // R-PT-12: region [pos + text_start, pos + text_end), values relative to its start. The
        // text PT_LOAD (vaddr 0x1000, memsz 0x2000) has p_align = page size: on 8K/16K-page arches
        // its address truncates to 0 and its size grows by the same amount, so the end stays 0x3000.
        let textStart: UInt64 = 0x1000 & ~(arch.pageSize - 1)
        var pins = [UInt32](repeating: 0, count: 159)
        pins[1] = UInt32(0x1010 - textStart)
        pins[158] = UInt32(0x1020 - textStart)
        pins[20] = UInt32(0x1030 - textStart)
        pins[86] = 0xFFFF_FFFF
        #expect(s.main == PinRegion(start: Self.pos + textStart, end: Self.pos + 0x3000, pins: pins))
        #expect(s.libc == nil)
        #expect(s.pinsyscallsUsed == false)  // R-PT-16
        #expect(s.kbind == KbindState())  // R-PT-15
    }

    @Test("rules of the main loader that INTERP does not apply: note, PT_PHDR, PT_SHLIB, PT_INTERP")
    func interpSkipsMainOnlyRules() {
        // ldso() has neither an OpenBSD note nor PT_PHDR.
        #expect(interpVerdict(Self.ld().build(), Self.arch) == .ok)
        #expect(interpVerdict(Self.ld().appending(raw(.shlib)).build(), Self.arch) == .ok)
        #expect(interpVerdict(Self.ld().appending(.payload(.interp, [0x41], align: 1)).build(), Self.arch) == .ok)
    }

    @Test("a static program never loads an interpreter")
    func staticIgnoresInterpreter() {
        let prog = ElfBuilder.staticExec(arch: Self.arch, sites: [site(0x40_0010, 1)]).build()
        let (outcome, state) = ProcessModel.exec(program: prog, interpreter: [0xde, 0xad], arch: Self.arch)
        #expect(outcome.verdict == .ok)
        #expect(state?.main?.start == 0x40_0000)
    }

    // MARK: R-ELF-18

    @Test("R-ELF-18/25: a missing interpreter kills the process (ENOENT)")
    func missingInterpreter() {
        let (outcome, state) = Self.exec(nil)
        #expect(outcome.verdict == Self.killed(.ENOENT, "R-ELF-25"))
        #expect(state == nil)
    }

    // MARK: R-ELF-19

    @Test("R-ELF-19: p_align not a power of two")
    func interpBadAlign() {
        let b = Self.ld().appending(raw(.null, align: 0x30))
        #expect(interpVerdict(b.build(), Self.arch) == .fail(.EINVAL, "R-ELF-19"))
        #expect(Self.exec(b.build()).0.verdict == Self.killed(.EINVAL, "R-ELF-19"))
    }

    @Test("R-ELF-19: PT_LOAD p_filesz > p_memsz or p_memsz == 0")
    func interpBadLoad() {
        for (f, m): (UInt64, UInt64) in [(0x20, 0x10), (0, 0)] {
            let b = Self.ld().appending(.load(flags: RW, vaddr: 0x8000, memsz: m, filesz: f))
            #expect(interpVerdict(b.build(), Self.arch) == .fail(.EINVAL, "R-ELF-19"))
            #expect(Self.exec(b.build()).0.verdict == Self.killed(.EINVAL, "R-ELF-19"))
        }
        let fine = Self.ld().appending(.load(flags: RW, vaddr: 0x8000, memsz: 0x10, filesz: 0x10))
        #expect(interpVerdict(fine.build(), Self.arch) == .ok)
    }

    @Test("R-ELF-19 covers all entries before R-ELF-21..24")
    func interpHeaderPassFirst() {
        var b = Self.ld().appending(raw(.null, align: 3))
        b.syscalls = nil  // would be R-ELF-24
        b.entry = 0x4010  // inside the writable data PT_LOAD: would be R-ELF-21
        #expect(interpVerdict(b.build(), Self.arch) == .fail(.EINVAL, "R-ELF-19"))
    }

    // MARK: R-ELF-21

    @Test("R-ELF-21: e_entry inside a writable PT_LOAD")
    func entryInWritableLoad() {
        var b = Self.ld()
        b.entry = 0x4010  // data [0x4000, 0x5000)
        #expect(interpVerdict(b.build(), Self.arch) == .fail(.ENOEXEC, "R-ELF-21"))
        #expect(Self.exec(b.build()).0.verdict == Self.killed(.ENOEXEC, "R-ELF-21"))
        b.entry = 0x1010  // text
        #expect(interpVerdict(b.build(), Self.arch) == .ok)
        b.entry = 0x10  // the read-only first PT_LOAD
        #expect(interpVerdict(b.build(), Self.arch) == .ok)
    }

    @Test("R-ELF-21: a W+X PT_LOAD is writable")
    func entryInWXLoad() {
        var b = Self.ld().appending(.load(flags: RWX, vaddr: 0x8000, memsz: 0x100))
        b.entry = 0x8000
        #expect(interpVerdict(b.build(), Self.arch) == .fail(.ENOEXEC, "R-ELF-21"))
    }

    @Test("R-ELF-21: the segment's extent is [p_vaddr, p_vaddr + p_memsz + (p_vaddr − ELF_TRUNC(p_vaddr)))")
    func entryExtent() {
        // Writable PT_LOAD at 0x5010 (align 0x1000), memsz 0x10: size = 0x10 + 0x10 = 0x20.
        let seg = ElfBuilder.Segment.load(flags: RW, vaddr: 0x5010, memsz: 0x10, align: 0x1000)
        for (entry, expected): (UInt64, Verdict) in [
            (0x5010, .fail(.ENOEXEC, "R-ELF-21")), (0x502f, .fail(.ENOEXEC, "R-ELF-21")),
            (0x5030, .ok), (0x500f, .ok),
        ] {
            var b = Self.ld().appending(seg)
            b.entry = entry
            #expect(interpVerdict(b.build(), Self.arch) == expected, "entry \(entry)")
        }
    }

    // MARK: R-ELF-22

    @Test("R-ELF-22: PT_OPENBSD_RANDOMIZE quota")
    func interpRandomize() {
        let limit = KernelConfig.openbsd.randomizeLimit
        let ok = Self.ld().appending(raw(.openbsdRandomize, memsz: limit))
        #expect(interpVerdict(ok.build(), Self.arch) == .ok)
        let over = ok.appending(raw(.openbsdRandomize, memsz: 1))
        #expect(interpVerdict(over.build(), Self.arch) == .fail(.ENOMEM, "R-ELF-22"))
        #expect(Self.exec(over.build()).0.verdict == Self.killed(.ENOMEM, "R-ELF-22"))
    }

    @Test("R-ELF-21 and R-ELF-22 are decided in table order")
    func entryAndRandomizeOrder() {
        let over = raw(.openbsdRandomize, memsz: KernelConfig.openbsd.randomizeLimit + 1)
        var first = Self.ld().prepending(over)
        first.entry = 0x4010
        #expect(interpVerdict(first.build(), Self.arch) == .fail(.ENOMEM, "R-ELF-22"))
        var last = Self.ld().appending(over)
        last.entry = 0x4010
        #expect(interpVerdict(last.build(), Self.arch) == .fail(.ENOEXEC, "R-ELF-21"))
    }

    // MARK: R-ELF-23

    @Test("R-ELF-23: the last PT_OPENBSD_SYSCALLS of ld.so is used")
    func interpLastTableWins() throws {
        var b = Self.ld()
        b.syscalls = nil
        b.segments.append(.syscalls([site(0x1100, 5)], endian: .little))
        b.segments.append(.syscalls([site(0x1200, 6)], endian: .little))
        let load = try #require(interpLoad(b.build(), Self.arch, pos: Self.pos))
        #expect(load.pinTable.entries == [site(0x1200, 6)])
        let region = try #require(load.region)
        #expect(region.pins[6] == 0x200 && region.pins[5] == 0 && region.pins[86] == 0xFFFF_FFFF)
    }

    // MARK: R-ELF-24

    @Test("R-ELF-24: ld.so without PT_OPENBSD_SYSCALLS", arguments: Arch.all)
    func interpWithoutTable(arch: Arch) {
        var b = Self.ld(arch)
        b.syscalls = nil
        #expect(interpVerdict(b.build(), arch) == .fail(.EINVAL, "R-ELF-24"))
        let (outcome, state) = Self.exec(b.build(), arch: arch)
        #expect(outcome.verdict == Self.killed(.EINVAL, "R-ELF-24"))
        #expect(state == nil)
    }

    @Test("R-ELF-24 / R-PT-12: a malformed ld.so table is no exec error, but ld.so's first syscall dies")
    func interpBadTable() throws {
        var b = Self.ld()
        b.syscalls = [site(0x1010, 1), site(0x1020, 0)]  // sysno 0: discarded (R-PT-4)
        let (outcome, state) = Self.exec(b.build())
        #expect(outcome.verdict == .ok)
        var s = try #require(state)
        #expect(s.main == nil)
        #expect(s.syscall(addr: Self.pos + 0x1010, sysno: 1, .plain).verdict == .killed(.SIGABRT, .ENOSYS, "R-PC-7"))
    }

    // MARK: R-ELF-25

    @Test("R-ELF-25: interpreter header failures kill with SIGABRT, the inner errno kept")
    func interpHeaderFailuresKill() {
        var exec = Self.ld()
        exec.type = .exec
        #expect(Self.exec(exec.build()).0.verdict == Self.killed(.ENOEXEC, "R-ELF-5"))
        // An i386 ld.so for an amd64 program.
        #expect(Self.exec(Self.ld(.i386).build()).0.verdict == Self.killed(.ENOEXEC, "R-ELF-2"))
        var machine = Self.ld()
        machine.machine = 183
        #expect(Self.exec(machine.build()).0.verdict == Self.killed(.ENOEXEC, "R-ELF-3"))
        var many = Self.ld()
        many.phnum = 33
        #expect(Self.exec(many.build()).0.verdict == Self.killed(.ENOEXEC, "R-ELF-4"))
        var phoff = Self.ld()
        phoff.phoff = 1 << 30
        #expect(Self.exec(phoff.build()).0.verdict == Self.killed(.ENOEXEC, "R-ELF-7"))
        let short = Array(Self.ld().build().prefix(40))
        // SPEC R-ELF-25: a short interpreter header is reported under R-ELF-25, inner errno kept.
        #expect(Self.exec(short).0.verdict == Self.killed(.ENOEXEC, "R-ELF-25"))
    }

    @Test("R-ELF-25: the interpreter loader itself reports a short header as ENOEXEC R-ELF-25", arguments: Arch.all)
    func loaderReportsShortHeader(arch: Arch) {
        let ld = Self.ld(arch).build()
        for n in [0, 1, 16, arch.elfClass.ehdrSize - 1] {
            #expect(interpVerdict(Array(ld.prefix(n)), arch, pos: Self.pos) == .fail(.ENOEXEC, "R-ELF-25"), "prefix \(n)")
        }
        // A whole header with the rest cut is judged by the later rules, not R-ELF-25.
        #expect(interpVerdict(Array(ld.prefix(arch.elfClass.ehdrSize)), arch, pos: Self.pos) == .fail(.ENOEXEC, "R-ELF-7"))
    }

    @Test("R-ELF-25 vs R-ELF-26: a main-program error is returned before ld.so is looked at")
    func mainErrorBeforeInterp() {
        var prog = ElfBuilder.dynamicExec(arch: Self.arch)
        prog.openBSDNote = false
        let (outcome, _) = ProcessModel.exec(
            program: prog.build(), base: dynBase, interpreter: nil, interpreterBase: Self.pos, arch: Self.arch)
        #expect(outcome.verdict == .fail(.ENOEXEC, "R-ELF-12"))
    }
}
