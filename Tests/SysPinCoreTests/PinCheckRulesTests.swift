import SysPinCore
import SysPinTesting
import Testing

/// R-PC-1..8 (pin_check, SPEC §7) and R-ARCH-1/2 (§3).
@Suite("R-PC-1..8, R-ARCH-1/2 pin_check")
struct PinCheckRulesTests {
    static let noPin = Verdict.killed(.SIGABRT, .ENOSYS, "R-PC-7")
    static let otherSite = Verdict.killed(.SIGABRT, .ENOSYS, "R-PT-10")

    static func pins(count: Int, _ values: [Int: UInt32]) -> [UInt32] {
        var p = [UInt32](repeating: 0, count: count)
        for (k, v) in values { p[k] = v }
        return p
    }

    /// A static amd64 process: text [0x400000, 0x401000), exit at 0x400010, getpid at 0x400020.
    static func staticProcess(arch: Arch = .amd64, sigtramp: UInt64? = nil) throws -> ProcessState {
        let prog = ElfBuilder.staticExec(arch: arch, sites: [site(0x40_0010, 1), site(0x40_0020, 20)]).build()
        return try #require(ProcessModel.exec(program: prog, interpreter: nil, arch: arch, sigtramp: sigtramp).1)
    }

    // MARK: R-PC-1

    @Test("R-PC-1: out-of-range numbers get ENOSYS with no pin check and no signal (amd64)",
          arguments: [Int64(0), -1, 331, 1000, Int64.min, Int64.max])
    func outOfRange(sysno: Int64) throws {
        var s = try Self.staticProcess()
        // From an address no table covers: a pin check would kill.
        #expect(s.syscall(addr: 0x1234, sysno: sysno, .plain).verdict == .fail(.ENOSYS, "R-PC-1"))
        #expect(s.killedBy == nil)
        #expect(s.syscall(addr: 0x40_0010, sysno: 1, .plain).verdict == .ok)
    }

    @Test("R-PC-1: the last valid number is pin-checked like any other")
    func lastInRange() throws {
        var s = try Self.staticProcess()
        #expect(s.syscall(addr: 0x1234, sysno: 330, .plain).verdict == Self.noPin)
    }

    @Test("R-PC-1 is a parameter of SYS_MAXSYSCALL")
    func outOfRangeFollowsConfig() throws {
        let prog = ElfBuilder.staticExec(arch: .amd64, sites: [site(0x40_0010, 1)]).build()
        var s = try #require(ProcessModel.exec(program: prog, interpreter: nil, arch: .amd64, config: KernelConfig(maxSyscall: 20)).1)
        #expect(s.syscall(addr: 0x1234, sysno: 20, .plain).verdict == .fail(.ENOSYS, "R-PC-1"))
        #expect(s.syscall(addr: 0x1234, sysno: 19, .plain).verdict == Self.noPin)
    }

    @Test("R-PC-1, D-SYSNO-WIDTH: the kernel judges the MD handler's code, its own width of the trap register")
    func numberWidthPerArch() throws {
        let wide: Int64 = 1 << 32 | 20  // getpid in the low 32 bits
        for arch in Arch.all {
            var s = try Self.staticProcess(arch: arch)
            let v = s.syscall(addr: 0x40_0020, sysno: wide, .plain).verdict
            if arch == .amd64 || arch == .sparc64 {
                // register_t code: all 64 bits, out of range.
                #expect(v == .fail(.ENOSYS, "R-PC-1"), "\(arch.name)")
            } else {
                // int code, unsigned int code (mips64) or a 32-bit register: 20.
                #expect(v == .ok, "\(arch.name)")
            }
        }
        // sparc64 clears SYSCALL_G2RFLAG (0x400), which its libc stubs set.
        var sparc = try Self.staticProcess(arch: .sparc64)
        #expect(sparc.syscall(addr: 0x40_0020, sysno: 0x400 | 20, .plain).verdict == .ok)
        #expect(sparc.syscall(addr: 0x40_0020, sysno: 0x400, .plain).verdict == .fail(.ENOSYS, "R-PC-1"))
        #expect(sparc.syscall(addr: 0x40_0010, sysno: 0x400 | 20, .plain).verdict == Self.otherSite)
        // On amd64 the same value is 1044, out of range.
        var amd = try Self.staticProcess()
        #expect(amd.syscall(addr: 0x40_0020, sysno: 0x400 | 20, .plain).verdict == .fail(.ENOSYS, "R-PC-1"))
        // arm64's int code: −(2^32) + 20 is 20 too; mips64's unsigned int: −1 is 0xFFFFFFFF, past every table.
        var arm = try Self.staticProcess(arch: .arm64)
        #expect(arm.syscall(addr: 0x40_0020, sysno: -(1 << 32) + 20, .plain).verdict == .ok)
        var mips = try Self.staticProcess(arch: .mips64)
        #expect(mips.syscall(addr: 0x40_0020, sysno: -1, .plain).verdict == Self.noPin)
    }

    @Test("R-PC-1 (D-RANGE): on i386 an out-of-range number reaches pin_check")
    func outOfRangeI386() throws {
        // docs/decisions.md D-RANGE: i386's handler calls mi_syscall with the raw number, so a
        // number past every table's npins is the "no pin" kill.
        var s = try Self.staticProcess(arch: .i386)
        #expect(s.syscall(addr: 0x40_0010, sysno: 331, .plain).verdict == Self.noPin)
    }

    // MARK: R-PC-3

    static let wildcardRegion = PinRegion(start: 0x1000, end: 0x1100, pins: [0, 0xFFFF_FFFF])

    @Test("R-PC-3: the region is half-open [start, end)")
    func halfOpen() {
        #expect(pinCheck(main: Self.wildcardRegion, addr: 0x1000, code: 1) == .ok)
        #expect(pinCheck(main: Self.wildcardRegion, addr: 0x10FF, code: 1) == .ok)
        #expect(pinCheck(main: Self.wildcardRegion, addr: 0x1100, code: 1) == Self.noPin)
        #expect(pinCheck(main: Self.wildcardRegion, addr: 0x0FFF, code: 1) == Self.noPin)
        // The same for the libc region.
        #expect(pinCheck(libc: Self.wildcardRegion, addr: 0x1000, code: 1) == .ok)
        #expect(pinCheck(libc: Self.wildcardRegion, addr: 0x10FF, code: 1) == .ok)
        #expect(pinCheck(libc: Self.wildcardRegion, addr: 0x1100, code: 1) == Self.noPin)
        #expect(pinCheck(libc: Self.wildcardRegion, addr: 0x0FFF, code: 1) == Self.noPin)
    }

    @Test("R-PC-3: an empty region never matches")
    func emptyRegion() {
        let empty = PinRegion(start: 0x1000, end: 0x1000, pins: [0, 0xFFFF_FFFF])
        #expect(pinCheck(main: empty, addr: 0x1000, code: 1) == Self.noPin)
        // An empty libc region falls through to the main table.
        #expect(pinCheck(libc: empty, main: Self.wildcardRegion, addr: 0x1000, code: 1) == .ok)
    }

    // MARK: R-PC-4

    @Test("R-PC-4: in an overlap the libc table alone decides")
    func libcFirst() {
        let libc = PinRegion(start: 0x1000, end: 0x2000, pins: [0, 0x100])  // exit only at 0x1100
        let main = PinRegion(start: 0x1000, end: 0x3000, pins: [0, 0xFFFF_FFFF, 0xFFFF_FFFF])
        #expect(pinCheck(libc: libc, main: main, addr: 0x1100, code: 1) == .ok)
        #expect(pinCheck(libc: libc, main: main, addr: 0x1200, code: 1) == Self.otherSite)
        #expect(pinCheck(libc: libc, main: main, addr: 0x1200, code: 2) == Self.noPin)  // past libc's npins
        // Outside libc's region, the main table decides.
        #expect(pinCheck(libc: libc, main: main, addr: 0x2100, code: 2) == .ok)
        #expect(pinCheck(libc: libc, main: main, addr: 0x2100, code: 3) == Self.noPin)
    }

    // MARK: R-PC-5

    static let tramp: UInt64 = 0x7f7f_ffff_a000

    @Test("R-PC-5: from the trampoline only sigreturn; anything else is EPERM + SIGABRT")
    func trampoline() {
        #expect(pinCheck(sigtramp: Self.tramp, addr: Self.tramp, code: 103) == .ok)
        #expect(pinCheck(sigtramp: Self.tramp, addr: Self.tramp, code: 1) == .killed(.SIGABRT, .EPERM, "R-PC-5"))
        // Exact address only.
        #expect(pinCheck(sigtramp: Self.tramp, addr: Self.tramp + 1, code: 103) == Self.noPin)
        #expect(pinCheck(sigtramp: nil, addr: Self.tramp, code: 103) == Self.noPin)
    }

    @Test("R-PC-5: a trampoline inside a region is judged by that region's table")
    func trampolineInRegion() {
        let region = PinRegion(start: 0x1000, end: 0x2000, pins: Self.pins(count: 104, [1: 0x10]))
        #expect(pinCheck(main: region, sigtramp: 0x1800, addr: 0x1800, code: 103) == Self.noPin)
        let pinned = PinRegion(start: 0x1000, end: 0x2000, pins: Self.pins(count: 104, [103: 0x800]))
        #expect(pinCheck(main: pinned, sigtramp: 0x1800, addr: 0x1800, code: 103) == .ok)
        #expect(pinCheck(main: pinned, sigtramp: 0x1900, addr: 0x1900, code: 103) == Self.otherSite)
    }

    @Test("R-PC-5 through a process: sigreturn from the trampoline, then other calls")
    func trampolineInProcess() throws {
        var s = try Self.staticProcess(sigtramp: Self.tramp)
        #expect(s.syscall(addr: Self.tramp, sysno: 103, .plain).verdict == .ok)
        #expect(s.syscall(addr: Self.tramp, sysno: 20, .plain).verdict == .killed(.SIGABRT, .EPERM, "R-PC-5"))
        #expect(s.killedBy == .SIGABRT)
    }

    // MARK: R-PC-6

    @Test("R-PC-6: a violation kills with SIGABRT; every later step finds the process dead")
    func killIsFinal() throws {
        var s = try Self.staticProcess()
        #expect(s.syscall(addr: 0x40_0020, sysno: 1, .plain).verdict == Self.otherSite)
        #expect(s.killedBy == .SIGABRT)
        #expect(s.syscall(addr: 0x40_0010, sysno: 1, .plain) == .dead)
        #expect(s.syscall(addr: 0x40_0010, sysno: 0, .plain) == .dead)
    }

    // MARK: R-PC-7

    @Test("R-PC-7: no region, code ≥ npins, or pins[code] == 0")
    func noPinCases() throws {
        var s = try Self.staticProcess()  // npins 21: slots 1 and 20
        var t = s, u = s, w = s
        #expect(s.syscall(addr: 0x50_0000, sysno: 1, .plain).verdict == Self.noPin)  // no region
        #expect(t.syscall(addr: 0x40_0010, sysno: 21, .plain).verdict == Self.noPin)  // ≥ npins
        #expect(u.syscall(addr: 0x40_0010, sysno: 5, .plain).verdict == Self.noPin)  // slot 0
        #expect(w.syscall(addr: 0x40_0020, sysno: 20, .plain).verdict == .ok)
    }

    // MARK: R-PC-8

    @Test("R-PC-8: a marker slot allows every address of the region, and no other")
    func wildcardEverywhere() {
        let region = PinRegion(start: 0x1000, end: 0x1040, pins: [0, 0, 0xFFFF_FFFF])
        for a: UInt64 in 0xFF0..<0x1050 {
            let expected: Verdict = (0x1000..<0x1040).contains(a) ? .ok : Self.noPin
            #expect(pinCheck(main: region, addr: a, code: 2) == expected, "address \(a)")
        }
    }

    @Test("R-PC-8: a precise slot allows exactly start + v", arguments: [UInt32(1), 0x17, 0x3F])
    func preciseExactlyOne(v: UInt32) {
        let region = PinRegion(start: 0x1000, end: 0x1040, pins: [0, 0, v])
        let allowed = (UInt64(0x1000)..<0x1040).filter { pinCheck(main: region, addr: $0, code: 2) == .ok }
        #expect(allowed == [0x1000 + UInt64(v)])
    }

    @Test("R-PC-8: a precise slot whose site is the region's end (v == len) allows nothing")
    func preciseAtEnd() {
        let region = PinRegion(start: 0x1000, end: 0x1040, pins: [0, 0, 0x40])
        let allowed = (UInt64(0xFF0)..<0x1050).filter { pinCheck(main: region, addr: $0, code: 2) == .ok }
        #expect(allowed.isEmpty)
    }

    // MARK: R-ARCH-1

    @Test("§3: class, byte order, e_machine and pointer width per arch")
    func archTable() {
        let expected: [(String, ElfClass, Endian, UInt16, Int)] = [
            ("amd64", .elf64, .little, 62, 8), ("i386", .elf32, .little, 3, 4), ("arm64", .elf64, .little, 183, 8),
            ("armv7", .elf32, .little, 40, 4), ("riscv64", .elf64, .little, 243, 8),
            ("powerpc64", .elf64, .big, 21, 8), ("powerpc", .elf32, .big, 20, 4), ("sparc64", .elf64, .big, 43, 8),
            ("mips64", .elf64, .big, 8, 8), ("mips64el", .elf64, .little, 8, 8),
        ]
        #expect(Arch.all.map(\.name) == expected.map(\.0))
        for (name, cls, endian, machine, ptr) in expected {
            let a = Arch.named(name)
            #expect(a?.elfClass == cls && a?.endian == endian && a?.machine == machine && a?.pointerBytes == ptr, "\(name)")
        }
    }

    @Test("R-ARCH-1: D per arch (SPEC §3; sparc64 per docs/decisions.md D-ARCH)")
    func trapDistances() {
        let d: [String: UInt64] = [
            "amd64": 2, "i386": 2, "arm64": 12, "armv7": 12, "riscv64": 4, "powerpc64": 4, "powerpc": 4,
            "sparc64": 0, "mips64": 4, "mips64el": 4,
        ]
        for a in Arch.all { #expect(a.trapDistance == d[a.name], "\(a.name)") }
    }

    @Test("R-ARCH-1: kbind binds the raw pc, trap address + D", arguments: Arch.all)
    func rawPcIsAddrPlusD(arch: Arch) {
        var state = KbindState()
        let addr: UInt64 = 0x2000_1000
        _ = Kbind.call(state: &state, addr: addr, param: [], psize: 0, cookie: 7, mappings: [], arch: arch)
        #expect(state == KbindState(pc: addr + arch.trapDistance, cookie: 7))
    }

    // MARK: R-ARCH-2

    @Test("R-ARCH-2: on LP64 a u32 pin is zero-extended onto the start")
    func lp64ZeroExtension() {
        let start: UInt64 = 0x7f00_0000_0000
        let region = PinRegion(start: start, end: start + 0x1_0000_0000, pins: [0, 0x8000_0000, 0xFFFF_FFF0])
        #expect(pinCheck(main: region, addr: 0x7f00_8000_0000, code: 1) == .ok)
        #expect(pinCheck(main: region, addr: 0x7f00_FFFF_FFF0, code: 2) == .ok)
        #expect(pinCheck(main: region, addr: start - 0x10, code: 2) == Self.noPin)
    }

    @Test("R-ARCH-2: on ILP32 start + v wraps modulo 2^32 and lands below the region")
    func ilp32Wrap() {
        let region = PinRegion(start: 0xF000_0000, end: 0xFFFF_F000, pins: [0, 0x2000_0000])
        #expect(region.site(of: 0x2000_0000, mask: Arch.i386.addressMask) == 0x1000_0000)
        #expect(region.site(of: 0x2000_0000, mask: Arch.amd64.addressMask) == 0x1_1000_0000)
        #expect(pinCheck(main: region, addr: 0x1000_0000, code: 1, arch: .i386) == Self.noPin)
        for a: UInt64 in [0xF000_0000, 0xF123_4560, 0xFFFF_EFFF] {
            #expect(pinCheck(main: region, addr: a, code: 1, arch: .i386) == Self.otherSite)
        }
    }

    @Test("R-ARCH-2: process addresses on ILP32 are pointer-width")
    func ilp32Addresses() throws {
        var s = try Self.staticProcess(arch: .i386)
        // 0x1_0040_0010 is 0x400010 modulo 2^32 (D-ADDRMASK).
        #expect(s.syscall(addr: 0x1_0040_0010, sysno: 1, .plain).verdict == .ok)
    }
}
