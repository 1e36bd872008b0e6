import SysPinCore
import SysPinTesting
import Testing

/// The corrections of 2026-11-30 at the top of SPEC.md, each with its exact verdict and rule
/// (the R-ELF-12 note rules are in ExecProgramHeaderRulesTests, R-PIN-5 in PinsyscallsRulesTests).
@Suite("SPEC corrections of 2026-11-30")
struct SpecCorrectionsTests {
    @Test("R-ELF-2: a wrong EI_CLASS for the arch e_machine names is ENOEXEC R-ELF-2, not R-ELF-3", arguments: Arch.all)
    func wrongClassIsIdent(arch: Arch) {
        var b = ElfBuilder.staticExec(arch: arch, sites: [site(0x40_0010, 20)])
        b.ident.elfClass = arch.elfClass == .elf64 ? 1 : 2
        let bytes = b.build()
        guard case .success(let inferred) = ExecRules.inferArch(bytes) else {
            Issue.record("no arch inferred for \(arch.name)")
            return
        }
        #expect(inferred == arch)
        let report = Inspector.inspect(bytes)
        #expect(report.arch == arch)
        #expect(report.verdict == .fail(.ENOEXEC, "R-ELF-2"))
    }

    @Test("CONTRACT default arch: without a matching arch, short is R-ELF-1, bad magic or EI_DATA R-ELF-2, unknown e_machine R-ELF-3")
    func defaultArchRules() {
        var unknown = ElfBuilder.staticExec(arch: .amd64, sites: [])
        unknown.machine = 0x1234
        #expect(Inspector.inspect(unknown.build()).verdict == .fail(.ENOEXEC, "R-ELF-3"))
        #expect(Inspector.inspect(Array(unknown.build().prefix(51))).verdict == .fail(.ENOEXEC, "R-ELF-1"))
        var badData = unknown
        badData.ident.data = 3
        #expect(Inspector.inspect(badData.build()).verdict == .fail(.ENOEXEC, "R-ELF-2"))
        var badMagic = unknown
        badMagic.ident.magic = [0x7f, 0x45, 0x4c, 0x47]
        #expect(Inspector.inspect(badMagic.build()).verdict == .fail(.ENOEXEC, "R-ELF-2"))
        // EM_MIPS is mips64 for MSB and mips64el for LSB, whatever the class says.
        var mips = ElfBuilder.staticExec(arch: .mips64el, sites: [])
        mips.ident.elfClass = 1
        #expect(Inspector.inspect(mips.build()).arch == .mips64el)
    }

    @Test("§3: octeon and loongson are input aliases; output keeps mips64/mips64el")
    func archAliases() {
        #expect(Arch.named("octeon") == .mips64)
        #expect(Arch.named("loongson") == .mips64el)
        #expect(Arch.named("octeon")?.name == "mips64")
        #expect(Arch.named("loongson")?.name == "mips64el")
        #expect(Arch.named("mips") == nil)
    }

    @Test("R-PT-11: a static PIE's load base is truncated to its base PT_LOAD's p_align before anything else")
    func pieBaseTruncated() throws {
        var b = ElfBuilder.staticPIE(arch: .amd64, text: (0x1000, 0x1000), sites: [site(0x1010, 20)])
        b.segments[0].header.align = 0x10_0000
        let prog = b.build()
        let plan = try #require(mainPlan(prog, .amd64, base: 0x2003_4000))
        #expect(plan.loadBase == 0x2000_0000)
        #expect(plan.region == PinRegion(start: 0x2000_1000, end: 0x2000_2000, pins: [UInt32](repeating: 0, count: 20) + [0x10]))
        let (outcome, started) = ProcessModel.exec(program: prog, base: 0x2003_4000, interpreter: nil, arch: .amd64)
        #expect(outcome.verdict == .ok)
        var state = try #require(started)
        #expect(state.syscall(addr: 0x2000_1010, sysno: 20, .plain) == .decided(.ok, writes: []))
        var other = try #require(started)
        #expect(other.syscall(addr: 0x2003_5010, sysno: 20, .plain) == .decided(.killed(.SIGABRT, .ENOSYS, "R-PC-7"), writes: []))
        _ = state
    }

    @Test("R-PT-9: the delta is 32 bits wide for the region start and length too")
    func delta32Region() {
        let r = PinRegion.adjusted(
            pins: [0, 0x1010], start: 0, len: 0x1_0000_2000, delta: 0x1_0000_1000, mask: Arch.amd64.addressMask)
        #expect(r == PinRegion(start: 0x1000, end: 0x1_0000_2000, pins: [0, 0x10]))
    }

    @Test("R-PT-9: ET_EXEC text above 4 GiB moves the region by the low 32 bits of its address",
        arguments: [Arch.amd64, .arm64, .riscv64, .powerpc64])
    func execTextAbove4G(arch: Arch) throws {
        let prog = ElfBuilder.staticExec(arch: arch, text: (0x1_0000_1000, 0x1000), sites: [site(0x1010, 20)]).build()
        let plan = try #require(mainPlan(prog, arch))
        // T0 = 0x1_0000_1000, T1 = 0x1_0000_2000, delta (u_int) = 0x1000: start 0x1000, len T1 − 0x1000.
        #expect(plan.region == PinRegion(start: 0x1000, end: 0x1_0000_2000, pins: [UInt32](repeating: 0, count: 20) + [0x10]))
        var state = try #require(ProcessModel.exec(program: prog, interpreter: nil, arch: arch).1)
        var killed = state
        #expect(state.syscall(addr: 0x1010, sysno: 20, .plain) == .decided(.ok, writes: []))
        #expect(killed.syscall(addr: 0x1_0000_1010, sysno: 20, .plain) == .decided(.killed(.SIGABRT, .ENOSYS, "R-PT-10"), writes: []))
    }

    @Test("R-KB-12 / CONTRACT mappings: a piece with a byte in a read-only mapping is EFAULT, even where a writable one overlaps")
    func overlappingMappings() {
        let rw = MemoryMapping(start: 0x60_0000, end: 0x60_2000, writable: true)
        let ro = MemoryMapping(start: 0x60_1000, end: 0x60_2000, writable: false)
        var state = KbindState()
        let param = KbindParamBuilder.encode([(0x60_0ff8, [UInt8](repeating: 0xab, count: 16))], arch: .amd64)
        let (v, writes) = Kbind.call(
            state: &state, addr: 0x1000, param: param, psize: UInt64(param.count), cookie: 7, mappings: [rw, ro], arch: .amd64)
        #expect(v == .fail(.EFAULT, "R-KB-12"))
        #expect(writes == [KbindWrite(address: 0x60_0ff8, bytes: [UInt8](repeating: 0xab, count: 8))])
    }
}
