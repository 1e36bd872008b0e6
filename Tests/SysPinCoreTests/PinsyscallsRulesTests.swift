import SysPinCore
import SysPinTesting
import Testing

/// R-PIN-1..10: pinsyscalls(2) (SPEC §6), and R-LD-*: ld.so's submission of libc's table (§9).
@Suite("R-PIN-1..10, R-LD-* pinsyscalls")
struct PinsyscallsRulesTests {
    static let libcText: UInt64 = 0x7f10_0000_1000

    /// A valid call: libc text [libcText, +0x4000), three slots.
    static var good: PinsyscallsCall {
        PinsyscallsCall(base: libcText, len: 0x4000, pins: [0, 0x10, 0xFFFF_FFFF], npins: 3)
    }

    /// Runs the call with the given once-flag; returns the verdict, the region and the flag after.
    static func run(
        _ c: PinsyscallsCall, threads: Int = 1, once: Bool = false, arch: Arch = .amd64,
        config: KernelConfig = .openbsd
    ) -> (Verdict, PinRegion?, Bool) {
        var flag = once
        let (v, r) = Pinsyscalls.call(c, threads: threads, onceFlag: &flag, arch: arch, config: config)
        return (v, r, flag)
    }

    static func with(_ edit: (inout PinsyscallsCall) -> Void) -> PinsyscallsCall {
        var c = good
        edit(&c)
        return c
    }

    // MARK: accepting, R-PIN-9

    @Test("R-PIN-9: a valid call installs {base, base + len, pins} verbatim, no rebasing")
    func accepted() {
        let (v, r, flag) = Self.run(Self.good)
        #expect(v == .ok)
        #expect(r == PinRegion(start: Self.libcText, end: Self.libcText + 0x4000, pins: [0, 0x10, 0xFFFF_FFFF]))
        #expect(r?.site(of: 0x10, mask: Arch.amd64.addressMask) == Self.libcText + 0x10)
        #expect(flag)
    }

    @Test("R-PIN-9: only the first npins values are copied")
    func onlyNpinsCopied() {
        let c = Self.with { $0.pins = [0, 0x10, 0x9999_9999]; $0.npins = 2 }
        #expect(Self.run(c).1?.pins == [0, 0x10])
    }

    // MARK: R-PIN-1

    @Test("R-PIN-1: more than one thread → EPERM, and the once-flag is not consumed")
    func threads() {
        let (v, r, flag) = Self.run(Self.good, threads: 2)
        #expect(v == .fail(.EPERM, "R-PIN-1"))
        #expect(r == nil && flag == false)
        // Checked before the once-flag.
        #expect(Self.run(Self.good, threads: 3, once: true).0 == .fail(.EPERM, "R-PIN-1"))
    }

    // MARK: R-PIN-2

    @Test("R-PIN-2: a second call → EPERM")
    func onceFlag() {
        let (v, r, flag) = Self.run(Self.good, once: true)
        #expect(v == .fail(.EPERM, "R-PIN-2"))
        #expect(r == nil && flag)
    }

    @Test(
        "R-PIN-2: a call failing after the flag is set still burns the single use",
        arguments: [
            (PinsyscallsCall(base: 0xFFFF_FFFF_FFFF_F000, len: 0x2000, pins: [0], npins: 1), Verdict.fail(.EINVAL, "R-PIN-3")),
            (PinsyscallsCall(base: 0, len: 0x1000, pins: [0], npins: 1), .fail(.EINVAL, "R-PIN-4")),
            (PinsyscallsCall(base: libcText, len: 0x1000, pins: [], npins: 0), .fail(.E2BIG, "R-PIN-5")),
            (PinsyscallsCall(base: libcText, len: 0x1000, pins: [0], npins: 2), .fail(.EFAULT, "R-PIN-7")),
            (PinsyscallsCall(base: libcText, len: 0x1000, pins: [0, 0x1001], npins: 2), .fail(.ERANGE, "R-PIN-8")),
        ])
    func failedCallBurnsFlag(call: PinsyscallsCall, expected: Verdict) {
        let (v, r, flag) = Self.run(call)
        #expect(v == expected)
        #expect(r == nil)
        #expect(flag)
        #expect(Self.run(Self.good, once: flag).0 == .fail(.EPERM, "R-PIN-2"))
    }

    // MARK: R-PIN-3

    @Test("R-PIN-3: base + len wrapping the pointer width → EINVAL")
    func wrap() {
        let c = PinsyscallsCall(base: 0xFFFF_FFFF_FFFF_0000, len: 0x1_0000, pins: [0], npins: 1)
        #expect(Self.run(c).0 == .fail(.EINVAL, "R-PIN-3"))
        // base + len == SIZE_MAX does not wrap; it is then above the map (R-PIN-4).
        let edge = PinsyscallsCall(base: 0xFFFF_FFFF_FFFF_0000, len: 0xFFFF, pins: [0], npins: 1)
        #expect(Self.run(edge).0 == .fail(.EINVAL, "R-PIN-4"))
    }

    @Test("R-PIN-3: SIZE_MAX is the arch's: 2^32 wraps on ILP32 only")
    func wrapIsPointerWidth() {
        let c = PinsyscallsCall(base: 0xFFFF_0000, len: 0x1_0000, pins: [0], npins: 1)
        #expect(Self.run(c, arch: .i386).0 == .fail(.EINVAL, "R-PIN-3"))
        #expect(Self.run(c, arch: .powerpc).0 == .fail(.EINVAL, "R-PIN-3"))
        #expect(Self.run(c, arch: .amd64).0 == .ok)
    }

    // MARK: R-PIN-4

    @Test("R-PIN-4: base below the map minimum → EINVAL", arguments: [UInt64(0), 0xFFF])
    func belowMap(base: UInt64) {
        #expect(Self.run(Self.with { $0.base = base; $0.len = 0x10 }).0 == .fail(.EINVAL, "R-PIN-4"))
    }

    @Test("R-PIN-4: base + len above the map maximum → EINVAL; exactly the maximum is fine",
          arguments: [Arch.amd64, .i386, .sparc64])
    func aboveMap(arch: Arch) {
        let top = arch.vmMaxUserAddress
        let ok = PinsyscallsCall(base: top - 0x1000, len: 0x1000, pins: [0], npins: 1)
        #expect(Self.run(ok, arch: arch).0 == .ok)
        let over = PinsyscallsCall(base: top - 0x1000, len: 0x1001, pins: [0], npins: 1)
        #expect(Self.run(over, arch: arch).0 == .fail(.EINVAL, "R-PIN-4"))
    }

    @Test("R-PIN-4: len 0 is allowed (the region then matches nothing)")
    func emptyRegion() {
        let c = PinsyscallsCall(base: Arch.amd64.vmMinAddress, len: 0, pins: [0, 0xFFFF_FFFF], npins: 2)
        let (v, r, _) = Self.run(c)
        #expect(v == .ok)
        #expect(pinCheck(libc: r, addr: Arch.amd64.vmMinAddress, code: 1) == .killed(.SIGABRT, .ENOSYS, "R-PC-7"))
    }

    // MARK: R-PIN-5

    @Test("R-PIN-5: npins < 1 or > SYS_MAXSYSCALL → E2BIG", arguments: [Int64(0), -1, Int64.min, 332, Int64.max])
    func npinsRange(npins: Int64) {
        let c = Self.with { $0.pins = [UInt32](repeating: 0, count: 400); $0.npins = npins }
        #expect(Self.run(c).0 == .fail(.E2BIG, "R-PIN-5"))
    }

    static let truncatedNpins: [(Int64, Verdict)] = [
        (0x1_0000_0001, .ok), (0x1_0000_014B, .ok), (0x1_0000_0000, .fail(.E2BIG, "R-PIN-5")),
        (0xFFFF_FFFF, .fail(.E2BIG, "R-PIN-5")), (0x8000_0001, .fail(.E2BIG, "R-PIN-5")),
        (-0xFFFF_FFFE, .ok), (0x1_0000_014C, .fail(.E2BIG, "R-PIN-5")),
    ]

    @Test("R-PIN-5: npins is a C int: the low 32 bits, signed, before the range check", arguments: truncatedNpins)
    func npinsTruncated(npins: Int64, expected: Verdict) {
        let c = Self.with { $0.pins = [UInt32](repeating: 0, count: 400); $0.npins = npins }
        #expect(Self.run(c).0 == expected, "npins \(npins)")
    }

    @Test("R-PIN-5: npins == SYS_MAXSYSCALL and npins == 1 are accepted; the bound is a parameter")
    func npinsBounds() {
        #expect(Self.run(Self.with { $0.pins = [UInt32](repeating: 0, count: 331); $0.npins = 331 }).0 == .ok)
        #expect(Self.run(Self.with { $0.pins = [0]; $0.npins = 1 }).0 == .ok)
        let small = KernelConfig(maxSyscall: 10)
        #expect(Self.run(Self.with { $0.pins = [UInt32](repeating: 0, count: 11); $0.npins = 11 }, config: small).0 == .fail(.E2BIG, "R-PIN-5"))
        #expect(Self.run(Self.with { $0.pins = [UInt32](repeating: 0, count: 10); $0.npins = 10 }, config: small).0 == .ok)
    }

    // MARK: R-PIN-7

    @Test("R-PIN-7: copying npins × 4 bytes faults → EFAULT")
    func copyFault() {
        #expect(Self.run(Self.with { $0.pins = [0, 0x10]; $0.npins = 3 }).0 == .fail(.EFAULT, "R-PIN-7"))
        // R-PIN-5 comes first.
        #expect(Self.run(Self.with { $0.pins = []; $0.npins = 400 }).0 == .fail(.E2BIG, "R-PIN-5"))
    }

    // MARK: R-PIN-8

    @Test("R-PIN-8: a value > len → ERANGE; == len, 0 and the marker are accepted")
    func valueRange() {
        #expect(Self.run(Self.with { $0.len = 0x100; $0.pins = [0, 0x101, 0] }).0 == .fail(.ERANGE, "R-PIN-8"))
        #expect(Self.run(Self.with { $0.len = 0x100; $0.pins = [0, 0x100, 0xFFFF_FFFF] }).0 == .ok)
        #expect(Self.run(Self.with { $0.len = 0; $0.pins = [0, 0, 0xFFFF_FFFF] }).0 == .ok)
        #expect(Self.run(Self.with { $0.len = 0x100; $0.pins = [0xFFFF_FFFE, 0, 0] }).0 == .fail(.ERANGE, "R-PIN-8"))
    }

    @Test("R-PIN-8: no check of pins[0] or of which numbers are present")
    func noOtherChecks() {
        #expect(Self.run(Self.with { $0.pins = [0x50, 0, 0] }).0 == .ok)
        #expect(Self.run(Self.with { $0.pins = [0, 0, 0] }).0 == .ok)
    }

    // MARK: R-PIN-10 and the process view

    static let pos: UInt64 = 0x7f00_0000_0000
    static let libcBase: UInt64 = 0x7f10_0000_0000

    /// A dynamic process: ld.so text [pos + 0x1000, pos + 0x3000), pinsyscalls pinned at +0x1020.
    static func dynamicProcess() throws -> ProcessState {
        let ld = ElfBuilder.ldso(arch: .amd64, sites: [site(0x1020, 158), site(0x1030, 20)]).build()
        let prog = ElfBuilder.dynamicExec(arch: .amd64).build()
        let (outcome, state) = ProcessModel.exec(program: prog, base: dynBase, interpreter: ld, interpreterBase: pos, arch: .amd64)
        #expect(outcome.verdict == .ok)
        return try #require(state)
    }

    /// libc.so: text [0x1000, 0x5000); exit at 0x1100, getpid twice, kbind... (offsets from its base).
    static let libcSites = [site(0x1100, 1), site(0x1200, 20), site(0x1300, 20), site(0x1000, 5), site(0x5000, 6)]
    static func libcImage(_ sites: [SyscallSite] = libcSites) throws -> ElfImage {
        let bytes = ElfBuilder.sharedLibrary(arch: .amd64, textVaddr: 0x1000, textMemsz: 0x4000, sites: sites).build()
        guard case .success(let image) = ExecRules.readImage(bytes, arch: .amd64, loader: .interpreter) else {
            throw ImageError()
        }
        return image
    }

    struct ImageError: Error {}

    @Test("R-PIN-10: pinsyscalls is itself pin-checked; a denied call does not consume the flag")
    func pinCheckedFirst() throws {
        var s = try Self.dynamicProcess()
        let call = SyscallRequest.pinsyscalls(Self.good, threads: 1)
        let r = s.syscall(addr: Self.pos + 0x1024, sysno: 158, call)
        #expect(r.verdict == .killed(.SIGABRT, .ENOSYS, "R-PT-10"))
        #expect(s.pinsyscallsUsed == false)
        #expect(s.libc == nil)
    }

    @Test("R-PIN-10/R-LD-1: ld.so's submission from its pinned site installs libc's table")
    func fromLdso() throws {
        var s = try Self.dynamicProcess()
        let sub = try #require(LdsoPin.submission(libc: Self.libcImage(), base: Self.libcBase, arch: .amd64))
        #expect(s.syscall(addr: Self.pos + 0x1020, sysno: 158, .pinsyscalls(sub, threads: 1)).verdict == .ok)
        #expect(s.pinsyscallsUsed)
        #expect(s.libc?.start == Self.libcBase + 0x1000 && s.libc?.end == Self.libcBase + 0x5000)
        // libc's getpid (sysno 20) has two sites: the marker allows any libc text address.
        var t = s
        #expect(t.syscall(addr: Self.libcBase + 0x4567, sysno: 20, .plain).verdict == .ok)
        #expect(s.syscall(addr: Self.libcBase + 0x1100, sysno: 1, .plain).verdict == .ok)
        #expect(s.syscall(addr: Self.libcBase + 0x1104, sysno: 1, .plain).verdict == .killed(.SIGABRT, .ENOSYS, "R-PT-10"))
    }

    @Test("D-DISPATCH: the number decides the call: pinsyscalls or kbind arguments under getpid's number run getpid")
    func numberDecidesTheCall() throws {
        var s = try Self.dynamicProcess()
        let sub = try #require(LdsoPin.submission(libc: Self.libcImage(), base: Self.libcBase, arch: .amd64))
        let kbindBefore = s.kbind
        // ld.so's getpid site, with another call's arguments: getpid runs; nothing is installed or bound.
        #expect(s.syscall(addr: Self.pos + 0x1030, sysno: 20, .pinsyscalls(sub, threads: 1)) == .decided(.ok, writes: []))
        #expect(s.pinsyscallsUsed == false && s.libc == nil)
        #expect(s.syscall(addr: Self.pos + 0x1030, sysno: 20, .kbind(param: nil, psize: 0, cookie: 9)) == .decided(.ok, writes: []))
        #expect(s.kbind == kbindBefore)
        // pinsyscalls arguments under kbind's number (ld.so's kbind wildcard slot): kbind's
        // registers are another call's, so nothing is installed either.
        #expect(s.syscall(addr: Self.pos + 0x2000, sysno: 86, .pinsyscalls(sub, threads: 1)) == .decided(.ok, writes: []))
        #expect(s.pinsyscallsUsed == false && s.libc == nil)
        // The flag is unspent: the real call installs libc's table.
        #expect(s.syscall(addr: Self.pos + 0x1020, sysno: 158, .pinsyscalls(sub, threads: 1)).verdict == .ok)
        #expect(s.pinsyscallsUsed && s.libc?.start == Self.libcBase + 0x1000)
    }

    @Test("R-PT-16/R-PIN-2: a static program may not call pinsyscalls")
    func staticProgram() throws {
        let prog = ElfBuilder.staticExec(arch: .amd64, sites: [site(0x40_0010, 158)]).build()
        var s = try #require(ProcessModel.exec(program: prog, interpreter: nil, arch: .amd64).1)
        #expect(s.syscall(addr: 0x40_0010, sysno: 158, .pinsyscalls(Self.good, threads: 1)).verdict == .fail(.EPERM, "R-PIN-2"))
        #expect(s.libc == nil)
    }

    // MARK: R-LD-*

    @Test("R-LD-1/3: libc's table is validated, normalised to its text span and rebased")
    func submission() throws {
        let sub = try #require(LdsoPin.submission(libc: Self.libcImage(), base: Self.libcBase, arch: .amd64))
        // Text [0x1000, 0x5000): base + 0x1000, len 0x4000. 20 twice → marker; 5 at offset ==
        // text_start → 0 (R-PT-9 D); 6 at offset == text end → 0x4000.
        var pins = [UInt32](repeating: 0, count: 21)
        pins[1] = 0x100
        pins[20] = 0xFFFF_FFFF
        pins[6] = 0x4000
        #expect(sub == PinsyscallsCall(base: Self.libcBase + 0x1000, len: 0x4000, pins: pins, npins: 21))
        // The kernel accepts it as is (0x4000 == len passes R-PIN-8).
        #expect(Self.run(sub).0 == .ok)
    }

    @Test("R-LD-4: ld.so skips the submission when libc's table is unusable")
    func submissionSkipped() throws {
        #expect(LdsoPin.submission(libc: try Self.libcImage([site(0x1100, 0)]), base: Self.libcBase, arch: .amd64) == nil)
        #expect(LdsoPin.submission(libc: try Self.libcImage([site(0x5001, 1)]), base: Self.libcBase, arch: .amd64) == nil)
        #expect(LdsoPin.submission(libc: try Self.libcImage([site(0x1100, 331)]), base: Self.libcBase, arch: .amd64) == nil)
        // No PT_OPENBSD_SYSCALLS at all.
        var none = ElfBuilder.sharedLibrary(arch: .amd64, sites: [])
        none.syscalls = nil
        guard case .success(let image) = ExecRules.readImage(none.build(), arch: .amd64, loader: .interpreter) else {
            Issue.record("image rejected")
            return
        }
        #expect(LdsoPin.submission(libc: image, base: Self.libcBase, arch: .amd64) == nil)
    }

    @Test("R-LD-4: without a submission libc's first system call dies")
    func noLibcTable() throws {
        var s = try Self.dynamicProcess()
        #expect(s.syscall(addr: Self.libcBase + 0x1100, sysno: 1, .plain).verdict == .killed(.SIGABRT, .ENOSYS, "R-PC-7"))
    }

    @Test("R-LD-2/5: the submission must come before threads, and only once")
    func onceAndSingleThreaded() throws {
        let sub = try #require(LdsoPin.submission(libc: Self.libcImage(), base: Self.libcBase, arch: .amd64))
        var s = try Self.dynamicProcess()
        #expect(s.syscall(addr: Self.pos + 0x1020, sysno: 158, .pinsyscalls(sub, threads: 2)).verdict == .fail(.EPERM, "R-PIN-1"))
        #expect(s.syscall(addr: Self.pos + 0x1020, sysno: 158, .pinsyscalls(sub, threads: 1)).verdict == .ok)
        let installed = s.libc
        #expect(s.syscall(addr: Self.pos + 0x1020, sysno: 158, .pinsyscalls(Self.good, threads: 1)).verdict == .fail(.EPERM, "R-PIN-2"))
        #expect(s.libc == installed)
    }
}
