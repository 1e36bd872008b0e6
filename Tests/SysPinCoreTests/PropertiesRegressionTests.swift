import SysPinCore
import SysPinGenerators
import Testing

/// Shrunk counterexamples the property tests found, kept as plain tests so they are checked on
/// every run whatever the generators become (their case seeds are also replayed first by the
/// properties that found them, see `regressions:`).
@Suite("Properties: kept shrunk counterexamples")
struct PropertiesRegressionTests {
    /// P1 weakness (openbsd), case seed 0xbea03b6827741755, shrunk in 127 steps from a
    /// powerpc64 libc table of 16 entries and 8 calls: exit's slot holds the marker because the
    /// same record appears three times (R-PT-7 A, C), and a call from the first byte of the text,
    /// which no entry names, is accepted (R-PC-8). Strict refuses it (D-STRICT).
    @Test("P1 regression: the marker accepts a site no entry recorded (amd64, 3 × exit@0x40001, call from 0x40000)")
    func p1MarkerSite() throws {
        let t = PinTableSpec(
            arch: .amd64, kind: .staticExec, baseChoice: .low(0), textVaddr: 0x40000, textSize: 0x4000,
            entries: Array(repeating: SyscallSite(offset: 0x40001, sysno: 1), count: 3))
        let c = PinCheckCase(table: t, calls: [PinCall(addr: 0x40000, sysno: 1, how: "in region, entry's number")])
        var open = try #require(t.start(policy: .openbsd).state)
        var strict = try #require(t.start(policy: .strict).state)
        #expect(open.main?.pins[1] == multipleSitesPin)
        #expect(open.syscall(addr: 0x40000, sysno: 1, .plain).verdict == .ok)
        #expect(strict.syscall(addr: 0x40000, sysno: 1, .plain).verdict == .killed(.SIGABRT, .ENOSYS, "D-STRICT"))
        #expect(PropertiesPinCheckTests.soundnessViolation(c, policy: .openbsd) != nil)
        #expect(PropertiesPinCheckTests.soundnessViolation(c, policy: .openbsd, excusingMarker: true) == nil)
        #expect(PropertiesPinCheckTests.soundnessViolation(c, policy: .strict) == nil)
    }

    /// P5 round trip, random base 0x61eddbe3b2c463ad, case seed 0x1057d5ef2c400f52 (shrunk from a
    /// powerpc libc of 15 entries): libc's table has an entry one byte past its load base, below
    /// its text. ld.so rebases it by text_start (R-LD-3, R-PT-9), the u32 wraps to a value above
    /// len, and the kernel refuses the whole submission with ERANGE (R-PIN-8), under both
    /// policies alike: libc then has no table and its first system call dies (R-LD-4 territory).
    /// The first version of P5 wrongly expected the strict submission to be accepted.
    @Test("P5 regression: a libc entry below its text makes ld.so's submission ERANGE, under both policies")
    func p5EntryBelowText() throws {
        let t = PinTableSpec(
            arch: .amd64, kind: .libc, baseChoice: .low(0x200_0000), textVaddr: 0x4000, textSize: 0x4000,
            entries: [SyscallSite(offset: 0x4001, sysno: 2), SyscallSite(offset: 0x4001, sysno: 2), SyscallSite(offset: 1, sysno: 1)])
        guard case .success(let image) = ExecRules.readImage(t.image(), arch: .amd64, loader: .interpreter) else {
            Issue.record("libc image rejected")
            return
        }
        for policy in PinPolicy.allCases {
            let call = try #require(LdsoPin.submission(libc: image, base: t.origin, arch: .amd64, policy: policy))
            #expect(call.pins[1] == 1 &- 0x4000, "offset 1 rebased by text_start wraps (R-PT-9 F)")
            var once = false
            #expect(Pinsyscalls.call(call, threads: 1, onceFlag: &once, arch: .amd64, policy: policy).0 == .fail(.ERANGE, "R-PIN-8"))
            let started = t.start(policy: policy)
            #expect(started.libcSubmission == .fail(.ERANGE, "R-PIN-8"))
            #expect(started.state?.libc == nil)
        }
    }
}
