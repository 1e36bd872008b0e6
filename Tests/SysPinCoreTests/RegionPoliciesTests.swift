import SysPinCore
import SysPinTesting
import Testing

/// D-MSYSCALL and D-LIBSYS: the region-granular policies (README "Policies"), each rule with its
/// exact verdict (errno, signal, rule).
@Suite("D-MSYSCALL, D-LIBSYS: the region-granular policies")
struct RegionPoliciesTests {
    /// A static program: text [0x40_0000, 0x40_1000), exit pinned twice (the marker), getpid once.
    static let staticProgram = ElfBuilder.staticExec(
        arch: .amd64, sites: [site(0x40_0010, 1), site(0x40_0020, 1), site(0x40_0030, 20)]
    ).build()
    static let sigtramp: UInt64 = 0x7f7f_ffff_0000

    static func staticProcess(_ policy: PinPolicy, libsys: TextSpan? = nil) throws -> ProcessState {
        var s = try #require(
            ProcessModel.exec(program: staticProgram, interpreter: nil, arch: .amd64, sigtramp: sigtramp, policy: policy).1)
        s.trusted.libsys = libsys
        return s
    }

    /// ld.so at 0x7f00_0000_0000 (text [+0x1000, +0x3000), pinsyscalls at +0x1010, kbind at +0x1020),
    /// program at 0x1000_0000, libc's submission for [0x3000_0000, 0x3000_4000) with getpid at +0x100.
    static let pos: UInt64 = 0x7f00_0000_0000
    static func dynamicProcess(_ policy: PinPolicy, libsys: TextSpan? = nil) throws -> ProcessState {
        let ld = ElfBuilder.ldso(arch: .amd64, sites: [site(0x1010, 158), site(0x1020, 86)]).build()
        var s = try #require(
            ProcessModel.exec(
                program: ElfBuilder.dynamicExec(arch: .amd64).build(), base: 0x1000_0000, interpreter: ld,
                interpreterBase: pos, arch: .amd64, sigtramp: sigtramp, policy: policy
            ).1)
        s.trusted.libsys = libsys
        var pins = [UInt32](repeating: 0, count: 21)
        pins[20] = 0x100
        let call = PinsyscallsCall(base: 0x3000_0000, len: 0x4000, pins: pins, npins: 21)
        #expect(s.syscall(addr: pos + 0x1010, sysno: 158, .pinsyscalls(call, threads: 1)).verdict == .ok)
        return s
    }

    static func verdict(_ s: ProcessState, _ addr: UInt64, _ sysno: Int64) -> Verdict? {
        var t = s
        return t.syscall(addr: addr, sysno: sysno, .plain).verdict
    }

    @Test("D-MSYSCALL: any number from anywhere in the program's text; outside it EPERM with SIGSEGV")
    func msyscallStatic() throws {
        let s = try Self.staticProcess(.msyscall)
        #expect(Self.verdict(s, 0x40_0010, 1) == .ok)
        #expect(Self.verdict(s, 0x40_0777, 1) == .ok, "the marker's any-address, as under openbsd")
        #expect(Self.verdict(s, 0x40_0031, 20) == .ok, "a precise pin's neighbour: R-PT-10 under openbsd, fine here")
        #expect(Self.verdict(s, 0x40_0abc, 5) == .ok, "a number the table never pinned")
        #expect(Self.verdict(s, 0x40_0fff, 59) == .ok, "the region's last byte")
        #expect(Self.verdict(s, 0x40_1000, 59) == .killed(.SIGSEGV, .EPERM, "D-MSYSCALL"), "one past the end (R-PC-3)")
        #expect(Self.verdict(s, 0x3fff_ffff, 1) == .killed(.SIGSEGV, .EPERM, "D-MSYSCALL"))
        // The trampoline rule stays (R-PC-5).
        #expect(Self.verdict(s, Self.sigtramp, 103) == .ok)
        #expect(Self.verdict(s, Self.sigtramp, 20) == .killed(.SIGABRT, .EPERM, "R-PC-5"))
        // Out-of-range numbers are still the MD handler's (R-PC-1).
        #expect(Self.verdict(s, 0x40_0010, 400) == .fail(.ENOSYS, "R-PC-1"))
    }

    @Test("D-MSYSCALL on i386: an out-of-range number passes the region check, then gets ENOSYS without a signal (R-PC-1)")
    func msyscallOutOfRangeI386() throws {
        let p = ElfBuilder.staticExec(arch: .i386, sites: [site(0x40_0010, 1)]).build()
        var s = try #require(ProcessModel.exec(program: p, interpreter: nil, arch: .i386, policy: .msyscall).1)
        #expect(s.syscall(addr: 0x40_0010, sysno: 400, .plain).verdict == .fail(.ENOSYS, "R-PC-1"))
        var o = try #require(ProcessModel.exec(program: p, interpreter: nil, arch: .i386, policy: .openbsd).1)
        #expect(o.syscall(addr: 0x40_0010, sysno: 400, .plain).verdict == .killed(.SIGABRT, .ENOSYS, "R-PC-7"))
    }

    @Test("D-MSYSCALL, dynamic: ld.so's text and libc's registered region accept any number; the program's own text does not")
    func msyscallDynamic() throws {
        let s = try Self.dynamicProcess(.msyscall)
        #expect(Self.verdict(s, Self.pos + 0x1500, 59) == .ok)
        #expect(Self.verdict(s, 0x3000_0100, 20) == .ok)
        #expect(Self.verdict(s, 0x3000_3fff, 4) == .ok, "pins[4] is 0: no matter")
        #expect(Self.verdict(s, 0x1000_1010, 20) == .killed(.SIGSEGV, .EPERM, "D-MSYSCALL"), "the dynamic program's text")
        // Under openbsd the same libc address is judged by its table.
        let o = try Self.dynamicProcess(.openbsd)
        #expect(Self.verdict(o, 0x3000_3fff, 4) == .killed(.SIGABRT, .ENOSYS, "R-PC-7"))
    }

    @Test("D-LIBSYS: a static program's own text accepts nothing, libsys's text accepts any number")
    func libsysStatic() throws {
        let s = try Self.staticProcess(.libsys)
        #expect(Self.verdict(s, 0x40_0030, 20) == .killed(.SIGABRT, .ENOSYS, "D-LIBSYS"), "even its recorded site")
        #expect(Self.verdict(s, Self.sigtramp, 103) == .ok, "the trampoline rule stays")
        #expect(Self.verdict(s, Self.sigtramp, 1) == .killed(.SIGABRT, .EPERM, "R-PC-5"))
        let t = try Self.staticProcess(.libsys, libsys: TextSpan(start: 0x5000_1000, end: 0x5000_2000))
        #expect(Self.verdict(t, 0x5000_1000, 1) == .ok)
        #expect(Self.verdict(t, 0x5000_1fff, 330) == .ok)
        #expect(Self.verdict(t, 0x5000_2000, 1) == .killed(.SIGABRT, .ENOSYS, "D-LIBSYS"))
        #expect(Self.verdict(t, 0x40_0030, 20) == .killed(.SIGABRT, .ENOSYS, "D-LIBSYS"))
    }

    @Test("D-LIBSYS, dynamic: ld.so's text and libsys's accept any number; libc's registered region and the program do not")
    func libsysDynamic() throws {
        let s = try Self.dynamicProcess(.libsys, libsys: TextSpan(start: 0x6000_1000, end: 0x6000_3000))
        #expect(s.libc != nil, "pinsyscalls from ld.so's text still ran")
        #expect(Self.verdict(s, Self.pos + 0x2fff, 5) == .ok)
        #expect(Self.verdict(s, 0x6000_2000, 59) == .ok)
        #expect(Self.verdict(s, 0x3000_0100, 20) == .killed(.SIGABRT, .ENOSYS, "D-LIBSYS"), "libc's pinned site")
        #expect(Self.verdict(s, 0x1000_1010, 20) == .killed(.SIGABRT, .ENOSYS, "D-LIBSYS"))
    }

    @Test("The region-granular checks read no table: zero probes")
    func noProbes() throws {
        for policy in [PinPolicy.msyscall, .libsys] {
            let s = try Self.dynamicProcess(policy, libsys: TextSpan(start: 0x6000_1000, end: 0x6000_3000))
            for addr: UInt64 in [Self.pos + 0x1010, 0x3000_0100, 0x6000_1000, 0x1234, Self.sigtramp] {
                let reads = ReadCount()
                _ = PinCheck.decide(
                    libc: s.libc.map { CountingRegion($0, reads: reads) }, main: s.main.map { CountingRegion($0, reads: reads) },
                    sigtramp: s.sigtramp, addr: addr, code: 20, mask: .max, policy: policy, trusted: s.trusted)
                #expect(reads.count == 0)
            }
        }
    }
}
