import Foundation
import SysPinCore
import SysPinTesting
import Testing

/// D-STRICT: the strict policy (README "Policies"). Where openbsd's multiple-sites marker accepts
/// any address in the region (R-PC-8), strict accepts only the sites the table recorded; it
/// never accepts what openbsd refuses.
@Suite("D-STRICT: the strict policy")
struct StrictPolicyTests {
    @Test("ExactSiteSet: finds every key, nothing else, in at most two probes, deterministically")
    func exactSiteSet() {
        #expect(ExactSiteSet([]).count == 0)
        let empty = CountingSites(ExactSiteSet([]))
        #expect(!empty.contains(sysno: 1, rel: 0) && empty.reads.count == 0)
        for n in [1, 2, 3, 17, 331, 662] {
            let keys = (0..<n).map { ExactSite(sysno: UInt32(1 + $0 % 330), rel: UInt64($0) &* 0x9E37 &+ 4) }
            let set = ExactSiteSet(keys + Array(keys.prefix(3)))  // duplicates collapse
            #expect(set.count == n)
            #expect(set.sites == keys.sorted())
            #expect(set == ExactSiteSet(Array(keys.reversed())), "same keys, same table")
            for k in keys {
                let t = CountingSites(set)
                #expect(t.contains(sysno: k.sysno, rel: k.rel))
                #expect(t.reads.count <= 2)
                let u = CountingSites(set)
                #expect(!u.contains(sysno: k.sysno, rel: k.rel &+ 1_000_003))
                #expect(u.reads.count <= 2)
            }
        }
    }

    @Test("D-STRICT: the empty-slot number (0xFFFFFFFF) is in no set, and mips64's −1 is killed, not allowed")
    func emptySlotNumber() throws {
        // Empty slots hold sysno 0xFFFFFFFF and rel 0: a lookup of that pair must not find them.
        for set in [ExactSiteSet([ExactSite(sysno: 1, rel: 0x10)]), ExactSiteSet((1...40).map { ExactSite(sysno: $0, rel: UInt64($0) * 8) })] {
            #expect(!set.contains(sysno: UInt32.max, rel: 0))
            #expect(!CountingSites(set).contains(sysno: UInt32.max, rel: 0))
        }
        // mips64 reads the number as an unsigned int (D-SYSNO-WIDTH) and hands 0xFFFFFFFF to
        // pin_check (D-RANGE); from the region's first byte (rel 0) strict must deny it as openbsd does.
        let prog = ElfBuilder.staticExec(arch: .mips64, sites: [site(0x40_0010, 20)]).build()
        for (policy, want) in [(PinPolicy.openbsd, Verdict.killed(.SIGABRT, .ENOSYS, "R-PC-7")), (.strict, .killed(.SIGABRT, .ENOSYS, "D-STRICT"))] {
            var s = try #require(ProcessModel.exec(program: prog, interpreter: nil, arch: .mips64, policy: policy).1)
            let start = try #require(s.main?.start)
            #expect(s.syscall(addr: start, sysno: -1, .plain).verdict == want, "\(policy)")
        }
    }

    static let sameSiteTwice = ElfBuilder.staticExec(
        arch: .amd64, sites: [site(0x40_0010, 20), site(0x40_0010, 20), site(0x40_0020, 1)]
    ).build()

    @Test("R-PC-8 vs D-STRICT: a marker slot accepts any region address under openbsd, only its recorded sites under strict")
    func markerSlot() throws {
        var open = try #require(ProcessModel.exec(program: Self.sameSiteTwice, interpreter: nil, arch: .amd64).1)
        var strict = try #require(ProcessModel.exec(program: Self.sameSiteTwice, interpreter: nil, arch: .amd64, policy: .strict).1)
        #expect(strict.main?.pins == open.main?.pins, "strict keeps the kernel's pins")
        var o2 = open, s2 = strict
        #expect(open.syscall(addr: 0x40_0010, sysno: 20, .plain).verdict == .ok)
        #expect(strict.syscall(addr: 0x40_0010, sysno: 20, .plain).verdict == .ok)
        #expect(o2.syscall(addr: 0x40_0800, sysno: 20, .plain).verdict == .ok)
        #expect(s2.syscall(addr: 0x40_0800, sysno: 20, .plain).verdict == .killed(.SIGABRT, .ENOSYS, "D-STRICT"))
        // A precise pin behaves alike, up to the rule that names the kill.
        var o3 = open, s3 = strict
        #expect(open.syscall(addr: 0x40_0020, sysno: 1, .plain).verdict == .ok)
        #expect(strict.syscall(addr: 0x40_0020, sysno: 1, .plain).verdict == .ok)
        #expect(o3.syscall(addr: 0x40_0021, sysno: 1, .plain).verdict == .killed(.SIGABRT, .ENOSYS, "R-PT-10"))
        #expect(s3.syscall(addr: 0x40_0021, sysno: 1, .plain).verdict == .killed(.SIGABRT, .ENOSYS, "D-STRICT"))
    }

    @Test("R-PT-8 under strict: ld.so's forced kbind marker accepts only ld.so's recorded kbind sites")
    func ldsoKbind() throws {
        let ld = ElfBuilder.ldso(arch: .amd64, sites: [site(0x1010, 158), site(0x1020, 86)]).build()
        let prog = ElfBuilder.dynamicExec(arch: .amd64).build()
        let pos: UInt64 = 0x7f00_0000_0000
        var s = try #require(
            ProcessModel.exec(program: prog, base: 0x1000_0000, interpreter: ld, interpreterBase: pos, arch: .amd64, policy: .strict).1)
        #expect(s.main?.pins[86] == multipleSitesPin)
        var t = s
        #expect(s.syscall(addr: pos + 0x1020, sysno: 86, .plain).verdict == .ok)
        #expect(t.syscall(addr: pos + 0x1030, sysno: 86, .plain).verdict == .killed(.SIGABRT, .ENOSYS, "D-STRICT"))
    }

    @Test("R-PIN-9 under strict: a raw pins[] marker carries no site; ld.so's from_libc submission carries libc's")
    func pinsyscallsSites() throws {
        var once = false
        let raw = PinsyscallsCall(base: 0x2000_0000, len: 0x4000, pins: [0, 0x10, multipleSitesPin], npins: 3)
        let (v, region) = Pinsyscalls.call(raw, threads: 1, onceFlag: &once, arch: .amd64, policy: .strict)
        #expect(v == .ok)
        let r = try #require(region)
        let check = { (addr: UInt64, code: UInt32) in
            PinCheck.check(libc: r, main: nil, sigtramp: nil, addr: addr, code: code, mask: .max, policy: .strict)
        }
        #expect(check(0x2000_0010, 1) == .ok)
        #expect(check(0x2000_0100, 2) == .killed(.SIGABRT, .ENOSYS, "D-STRICT"))

        let libc = ElfBuilder.sharedLibrary(arch: .amd64, sites: [site(0x1100, 20), site(0x1200, 20), site(0x1300, 1)]).build()
        guard case .success(let image) = ExecRules.readImage(libc, arch: .amd64, loader: .interpreter) else {
            Issue.record("libc image rejected")
            return
        }
        let plain = try #require(LdsoPin.submission(libc: image, base: 0x3000_0000, arch: .amd64))
        let strict = try #require(LdsoPin.submission(libc: image, base: 0x3000_0000, arch: .amd64, policy: .strict))
        #expect(plain.sites == nil)
        #expect(strict.sites == [site(0x100, 20), site(0x200, 20), site(0x300, 1)])
        #expect(PinsyscallsCall(base: strict.base, len: strict.len, pins: strict.pins, npins: strict.npins) == plain)
        once = false
        let (_, installed) = Pinsyscalls.call(strict, threads: 1, onceFlag: &once, arch: .amd64, policy: .strict)
        let l = try #require(installed)
        #expect(PinCheck.check(libc: l, main: nil, sigtramp: nil, addr: 0x3000_1200, code: 20, mask: .max, policy: .strict) == .ok)
        #expect(
            PinCheck.check(libc: l, main: nil, sigtramp: nil, addr: 0x3000_1201, code: 20, mask: .max, policy: .strict)
                == .killed(.SIGABRT, .ENOSYS, "D-STRICT"))
    }

    @Test("syspin run --policy: openbsd by default, strict on request, anything else is a usage error")
    func cli() throws {
        guard let exe = Repo.syspinBinary else {
            Issue.record("syspin binary not built next to the tests")
            return
        }
        func run(_ args: [String]) throws -> (Int32, String) {
            let p = Process()
            p.executableURL = exe
            p.arguments = args
            let out = Pipe()
            p.standardOutput = out
            p.standardError = Pipe()
            try p.run()
            let o = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return (p.terminationStatus, String(decoding: o, as: UTF8.self))
        }
        let scenario = Repo.url("Corpus/FuzzScenario/scenarios/same-site-twice-is-wildcard.json").path
        let (d, byDefault) = try run(["run", "--json", scenario])
        let (o, openbsd) = try run(["run", "--json", "--policy", "openbsd", scenario])
        let (s, strict) = try run(["run", "--json", "--policy", "strict", scenario])
        #expect(d == 0 && o == 0 && s == 0)
        #expect(byDefault == openbsd)
        let strictLines = strict.split(separator: "\n")
        #expect(strictLines.count == 5)
        // getpid's two records name 0x2011c4; the marker let step 0 call it from write's site.
        #expect(strictLines[1].contains("\"D-STRICT\""), "getpid from 0x2011d7 is no recorded site")
        #expect(strictLines[2].contains("\"dead\""))
        #expect(byDefault.split(separator: "\n")[1].contains("\"result\": \"ok\""))
        let (bad, _) = try run(["run", "--policy", "lenient", scenario])
        #expect(bad == 2)
        let (_, help) = try run(["run", "--help"])
        #expect(help.contains("--policy") && help.contains("strict") && help.contains("openbsd"))
    }
}
