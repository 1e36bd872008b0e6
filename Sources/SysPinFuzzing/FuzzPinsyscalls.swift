import SysPinCore
import SysPinReference

/// FuzzPinsyscalls: bytes → a process (arch, policy, a main table built from a few sites,
/// once-flag, trampoline) and a sequence of pinsyscalls(2) submissions and probing system calls,
/// run through `ProcessState.syscall` and, in lockstep, through the reference model's process
/// (`RefProcess.step`), which builds its own main table from the same sites.
///
/// Invariants: INV-REF-PARSE / INV-REF-REGION (the main table: discard, bounds, every pin),
/// INV-REF-STEP (each step's result, signal, rule), INV-REF-STATE (tables, once-flag, kbind state
/// and kill flag after each step), INV-REF-PINCHECK (probes of both tables after a successful
/// submission).
public enum FuzzPinsyscalls {
    struct Step: Equatable {
        var addr: UInt64
        var sysno: Int64
        var request: SyscallRequest
    }

    struct Input: Equatable {
        var arch: Arch
        var policy: PinPolicy
        var isLdso: Bool
        /// nil: the process has no main table at all.
        var sites: [SyscallSite]?
        var mainStart: UInt64
        var mainLen: UInt64
        var delta: UInt64
        var sigtramp: UInt64?
        var once: Bool
        var steps: [Step]
    }

    public static func run(_ bytes: [UInt8]) throws(InvariantViolation) {
        let input = decode(bytes)
        let arch = input.arch
        let ra = RefArch(arch)
        let policy = input.policy
        func label() -> String { Lockstep.Label.archPolicy(arch, policy).text }
        let seed = FuzzSeed.of(bytes)
        let (main, refMain) = try tables(input)
        var core = ProcessState(arch: arch, main: main, pinsyscallsUsed: input.once, sigtramp: input.sigtramp, policy: input.policy)
        // The main table is ld.so's or the static program's (D-LIBSYS trusts only ld.so's).
        core.trusted.mainIsRuntimeLinker = input.isLdso
        var run = try Lockstep(
            core: core,
            ref: RefProcess(
                arch: ra, policy: RefPolicy(input.policy), main: refMain, once: input.once, sigtramp: input.sigtramp,
                mainIsLdso: input.isLdso),
            label: .archPolicy(arch, policy))
        for (i, s) in input.steps.enumerated() {
            // A successful submission is the one step that installs a libc table (R-PIN-9;
            // `Lockstep.step` compares it with the reference's): counted rather than copying and
            // comparing the table around every step.
            let installed = run.pinsyscallsSuccesses
            try run.step(addr: s.addr, sysno: s.sysno, s.request, refRequest(s.request))
            if run.pinsyscallsSuccesses != installed {
                // The numbers the new libc table pins (the first 64), probed with every address;
                // kept on the stack.
                try withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { (extra) throws(InvariantViolation) in
                    var n = 0
                    if let pins = run.core.libc?.pins {
                        for (code, v) in pins.enumerated() where v != 0 {
                            if n == 64 { break }
                            extra[n] = UInt32(code)
                            n += 1
                        }
                    }
                    try RefProbes.pinCheck(
                        libc: run.core.libc, refLibc: run.ref.libc, main: run.core.main, refMain: run.ref.main,
                        sigtramp: run.core.sigtramp, arch: arch, policy: input.policy, trusted: run.core.trusted,
                        extra: UnsafeBufferPointer(rebasing: extra[..<n]), seed: seed &+ UInt64(i), at: label())
                }
            }
        }
    }

    /// The main table, built by each model from the same sites and compared (nil: no table).
    static func tables(_ input: Input) throws(InvariantViolation) -> (PinRegion?, RefTable?) {
        guard let sites = input.sites else { return (nil, nil) }
        let ra = RefArch(input.arch)
        let mask = input.arch.addressMask
        func at() -> String { "\(input.arch.name) \(input.policy) main table" }
        let parse = PinTableReader.build(entries: sites, isLdso: input.isLdso, len: input.mainLen)
        var ref = RefPins.build(sites.map(RefEntry.init), isLdso: input.isLdso, len: input.mainLen)
        var rule: String?
        if case .discarded(let r, _) = parse { rule = r.rawValue }
        try require(
            rule == ref.discardedBy && RefCompare.samePins(parse.pins, ref.pins), "INV-REF-PARSE",
            "\(at()): core \(rule ?? "built") npins \(parse.pins?.count ?? 0), reference \(ref.discardedBy ?? "built") npins \(ref.pins?.count ?? 0)")
        var main: PinRegion?
        var refMain: RefTable?
        // Both pins arrays are taken out of their parses, so each is rebased in place.
        if case .table(_, let pins) = consume parse, let refPins = ref.pins {
            ref.pins = nil
            main = PinRegion.adjusted(pins: consume pins, start: input.mainStart, len: input.mainLen, delta: input.delta, mask: mask)
            if input.policy == .strict {
                main = main?.withStrictSites(recorded: sites, origin: input.mainStart, mask: mask)
            }
            let r = RefPins.rebase(consume refPins, start: input.mainStart, len: input.mainLen, delta: input.delta, arch: ra)
            let strict = RefPins.strictSites(pins: r.pins, start: r.start, recorded: ref.entries, origin: input.mainStart, arch: ra)
            // Only the strict policy asks whether a site was recorded: the others build no set.
            refMain = RefTable(start: r.start, end: r.end, pins: r.pins, sites: strict, indexed: input.policy == .strict)
        }
        try RefCompare.tables(main, refMain, "INV-REF-REGION", at())
        return (main, refMain)
    }

    /// The reference's request for a core request.
    static func refRequest(_ r: SyscallRequest) -> RefRequest {
        switch r {
        case .plain: return .plain
        case .pinsyscalls(let c, let threads):
            return .pinsyscalls(
                RefSubmission(base: c.base, len: c.len, pins: c.pins, npins: c.npins, sites: (c.sites ?? []).map(RefEntry.init)),
                threads: threads)
        case .kbind(let param, let psize, let cookie):
            return .kbind(param: param, psize: psize, cookie: cookie)
        }
    }

    // MARK: Decoding

    static func decode(_ bytes: [UInt8]) -> Input {
        var r = FuzzReader(bytes)
        // Flags bits 6 and 7 (the layout left them unused) draw the policy.
        let (arch, mask, page, flags, policy) = r.processPreamble(policyLow: 64, high: 128)
        let once = flags & 1 != 0
        let isLdso = flags & 2 != 0
        let noMain = flags & 4 != 0
        let hasTramp = flags & 8 != 0
        let useDelta = flags & 16 != 0

        // The main table: a region of up to 256 KiB near the bottom of the map (on ILP32,
        // sometimes at the top, so that start + len wraps: R-ARCH-2), a few sites.
        let pages = UInt64(r.u16())
        let mainStart =
            flags & 32 != 0 && arch.pointerBytes == 4
            ? (0x1_0000_0000 - page * (1 + pages % 64)) & mask : (arch.vmMinAddress + page * pages) & mask
        let mainLen = UInt64(r.u16()) * 4
        var sites: [SyscallSite] = []
        let nsites = Int(r.u8() % 7)
        sites.reserveCapacity(nsites)
        for _ in 0..<nsites {
            let offset: UInt32
            switch r.u8() % 8 {
            case 0: offset = 0
            case 1: offset = UInt32(mainLen)
            case 2: offset = UInt32(mainLen + 1)
            case 3: offset = sites.last?.offset ?? 4
            default: offset = UInt32(UInt64(r.u16()) % (mainLen + 1))
            }
            let sysno: UInt32
            switch r.u8() % 24 {
            case 0..<8: sysno = Sysno.pinsyscalls
            case 8, 9: sysno = Sysno.kbind
            case 10, 11: sysno = Sysno.sigreturn
            case 12: sysno = 1
            case 13: sysno = 330
            case 14, 15: sysno = sites.last?.sysno ?? Sysno.pinsyscalls
            case 22: sysno = 0
            case 23: sysno = 331
            default: sysno = UInt32(r.u16() % 331)
            }
            sites.append(SyscallSite(offset: offset, sysno: sysno))
        }
        var delta: UInt64 = 0
        if useDelta, !sites.isEmpty {
            let s = sites[Int(r.u8()) % sites.count]
            delta = min(UInt64(s.offset) &+ UInt64(r.u8() % 3) &- 1, mainLen)
        }
        // Trampoline: past the region, on a site, or anywhere.
        var sigtramp: UInt64?
        if hasTramp {
            switch r.u8() % 3 {
            case 0: sigtramp = (mainStart &+ mainLen) & mask
            case 1: sigtramp = sites.first.map { (mainStart &+ UInt64($0.offset)) & mask } ?? mainStart
            default: sigtramp = r.u64() & mask
            }
        }

        // Addresses worth calling from, grown by every submission decoded (never by results).
        // Room for the region's bounds and sites and, per submission, its bounds and up to 11
        // pinned sites ±1 (`decodeCall` sets at most 11 pins): no regrowth.
        var interesting: [UInt64] = []
        interesting.reserveCapacity(3 + sites.count + 6 * (3 + 3 * 11))
        interesting.append(mainStart)
        interesting.append((mainStart &+ mainLen) & mask)
        interesting.append((mainStart &+ mainLen &- 1) & mask)
        for s in sites { interesting.append((mainStart &+ UInt64(s.offset)) & mask) }
        // Room for the fixed codes and, per submission, up to 11 pinned numbers: no regrowth.
        var codes: [Int64] = []
        codes.reserveCapacity(5 + 6 * 11)
        codes.append(contentsOf: fixedCodes)
        let pinSite = sites.first { $0.sysno == Sysno.pinsyscalls }.map { (mainStart &+ UInt64($0.offset)) & mask }

        var steps: [Step] = []
        let nsteps = 1 + r.below(6)
        steps.reserveCapacity(nsteps)
        for _ in 0..<nsteps {
            let kind = r.u8()
            if kind % 4 != 3 {
                // A submission.
                let addr: UInt64
                switch r.u8() % 8 {
                case 0, 1, 2: addr = pinSite ?? mainStart
                case 3: addr = (mainStart &+ UInt64(r.u16()) % max(mainLen, 1)) & mask
                case 4: addr = r.u64() & mask
                case 5: addr = sigtramp ?? mainStart
                default: addr = r.pick(interesting)
                }
                let t = r.u8()
                let threads = t >= 240 ? Int(t % 4) : 1
                let near = r.pick(interesting)
                let call = decodeCall(&r, arch: arch, near: near)
                steps.append(Step(addr: addr, sysno: Int64(Sysno.pinsyscalls), request: .pinsyscalls(call, threads: threads)))
                noteSubmission(call, mask: mask, interesting: &interesting, codes: &codes)
            } else {
                // A probe: any system call from a derived address.
                let addr = r.pick(interesting)
                let any = Int64(r.u16() % 400)
                // One of codes + [0, -1, 331, 2^32, Int64.min, any], without building that array.
                let k = Int(r.u8()) % (codes.count + 6)
                let sysno: Int64
                switch k - codes.count {
                case ..<0: sysno = codes[k]
                case 0: sysno = 0
                case 1: sysno = -1
                case 2: sysno = 331
                case 3: sysno = Int64(UInt32.max) + 1
                case 4: sysno = Int64.min
                default: sysno = any
                }
                steps.append(Step(addr: addr, sysno: sysno, request: .plain))
            }
        }
        return Input(
            arch: arch, policy: policy, isLdso: isLdso, sites: noMain ? nil : sites, mainStart: mainStart, mainLen: mainLen,
            delta: delta, sigtramp: sigtramp, once: once, steps: steps)
    }

    /// The codes every probe step may draw, before a submission adds the numbers it pins.
    static let fixedCodes: [Int64] = [1, 86, 103, 158, 330]

    /// One pinsyscalls submission with boundary-heavy base, len, npins and pins (R-PIN-3..8).
    /// `near` is an address worth overlapping (a table's region, an earlier submission).
    /// A submission's bounds and sites (each ±1) join the addresses later steps pick from, its
    /// pinned numbers the codes: the decoder and the encoder (`FuzzPinsyscalls+Encode`) share it.
    static func noteSubmission(_ call: PinsyscallsCall, mask: UInt64, interesting: inout [UInt64], codes: inout [Int64]) {
        let base = call.base & mask
        interesting.append(base)
        interesting.append((base &+ (call.len & mask)) & mask)
        interesting.append((base &+ (call.len & mask) &- 1) & mask)
        for (i, v) in call.pins.enumerated() where v != 0 {
            let site = (base &+ UInt64(v)) & mask
            interesting.append(site)
            interesting.append((site &+ 1) & mask)
            interesting.append((site &- 1) & mask)
            codes.append(Int64(i))
        }
    }

    static func decodeCall(_ r: inout FuzzReader, arch: Arch, near: UInt64) -> PinsyscallsCall {
        let mask = arch.addressMask
        let page = arch.pageSize
        let base: UInt64
        switch r.u8() % 10 {
        case 0: base = near
        case 1: base = arch.vmMinAddress
        case 2, 3: base = (arch.vmMinAddress + page * UInt64(r.u16())) & mask
        case 4: base = 0
        case 5: base = mask
        case 6: base = arch.vmMaxUserAddress - page
        case 7: base = arch.vmMaxUserAddress
        case 8: base = arch.vmMinAddress - 1
        default: base = r.u64()  // beyond 2^32 on ILP32: reduced by the core (D-ADDRMASK)
        }
        let b = base & mask
        let len: UInt64
        switch r.u8() % 10 {
        case 0: len = 0
        case 1, 2, 3: len = UInt64(r.u16())
        case 4: len = UInt64(r.u32())
        case 5: len = ((mask &- b) &+ 1) & mask  // base + len wraps to exactly 0 (R-PIN-3)
        case 6: len = mask &- b  // base + len == SIZE_MAX
        case 7: len = (arch.vmMaxUserAddress &- b) & mask  // up to the map maximum (R-PIN-4)
        case 8: len = (arch.vmMaxUserAddress &- b &+ 1) & mask
        default: len = r.u64()
        }
        let l = len & mask
        let npins: Int64
        switch r.u8() % 12 {
        case 0: npins = -1
        case 1: npins = Int64(Int32.min)
        case 2: npins = 0
        case 3: npins = 1
        case 4: npins = 87
        case 5: npins = 159
        case 6: npins = 330
        case 7: npins = 331
        case 8: npins = 332
        case 9: npins = Int64(Int32.max)
        case 11: npins = (1 << 32) + Int64(r.u16() % 340)  // a C int: 2^32 + k is k (R-PIN-5)
        default: npins = Int64(r.u16() % 340)
        }
        let full = Int(max(0, min(npins, 340)))
        let count: Int
        switch r.u8() % 8 {
        case 5: count = max(0, full - 1)  // the copy faults (R-PIN-7)
        case 6: count = 0
        case 7: count = full + 2
        default: count = full
        }
        var pins = [UInt32](repeating: 0, count: count)
        let l32 = UInt32(truncatingIfNeeded: l)
        for _ in 0..<Int(r.u8() % 12) where count > 0 {
            let i = Int(r.u16()) % count
            switch r.u8() % 8 {
            case 0: pins[i] = multipleSitesPin
            case 1: pins[i] = l32  // == len: accepted, never matches (R-PIN-8)
            case 2: pins[i] = l32 &+ 1  // > len: ERANGE
            case 3: pins[i] = 0
            case 4: pins[i] = r.u32()
            default: pins[i] = l == 0 ? 0 : UInt32(truncatingIfNeeded: UInt64(r.u32()) % min(l, 0xFFFF_FFFF))
            }
        }
        return PinsyscallsCall(base: base, len: len, pins: pins, npins: npins)
    }
}
