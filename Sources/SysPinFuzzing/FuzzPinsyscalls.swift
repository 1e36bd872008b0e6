import SysPinCore
import SysPinTesting

/// FuzzPinsyscalls: bytes → a process (arch, a main table built from a few sites, once-flag,
/// trampoline) and a sequence of pinsyscalls(2) submissions and probing system calls, run through
/// `ProcessState.syscall`. Each step is checked against `StepOracle` (naive pin check, the naive
/// R-PIN-1..8 below); the whole run is repeated for INV-DETERMINISM.
///
/// Invariants: INV-NAIVE-AGREE (pin_check of each call, and the tables after a success through
/// `PinInvariants.differential`), INV-PIN-ORDER (errno and rule equal the naive R-PIN order),
/// INV-PIN-ONCE (at most one success, never with the flag set: I-3), INV-PIN-UNCHANGED (a
/// rejection leaves both tables alone; the flag changes only per R-PIN-1/2), INV-PIN-INSTALL
/// (R-PIN-9 verbatim), INV-DEAD, INV-DETERMINISM.
public enum FuzzPinsyscalls {
    struct Step {
        var addr: UInt64
        var sysno: Int64
        var request: SyscallRequest
    }

    struct Input {
        var arch: Arch
        var main: PinRegion?
        var naiveMain: NaiveTable?
        var sigtramp: UInt64?
        var once: Bool
        var steps: [Step]
    }

    public static func run(_ bytes: [UInt8]) throws(InvariantViolation) {
        let input = decode(bytes)
        try require(
            (input.main == nil) == (input.naiveMain == nil), "INV-NAIVE-AGREE",
            "\(input.arch.name): core \(input.main == nil ? "discarded" : "built") the main table, naive \(input.naiveMain == nil ? "discards" : "builds") it")
        let first = try execute(input)
        let second = try execute(input)
        try require(first == second, "INV-DETERMINISM", "\(input.arch.name): two runs of the same input differ")
    }

    static func execute(_ input: Input) throws(InvariantViolation) -> ProcessTrace {
        var state = ProcessState(arch: input.arch, main: input.main, pinsyscallsUsed: input.once, sigtramp: input.sigtramp)
        var oracle = StepOracle(arch: input.arch, main: input.naiveMain, sigtramp: input.sigtramp, once: input.once, mappings: [])
        var trace = ProcessTrace()
        for s in input.steps {
            trace.results.append(try oracle.step(&state, addr: s.addr, sysno: s.sysno, s.request))
        }
        trace.final = ProcessSnapshot(state)
        return trace
    }

    // MARK: The naive rule

    /// R-PIN-1..8 restated from SPEC §6, in order: the errno and rule of a rejected submission,
    /// nil for success. `onceSet` is the flag before the call.
    static func naiveErrno(
        _ c: PinsyscallsCall, threads: Int, onceSet: Bool, arch: Arch, config: KernelConfig = .openbsd
    ) -> (errno: OpenBSDErrno, rule: RuleID)? {
        if threads > 1 { return (.EPERM, "R-PIN-1") }
        if onceSet { return (.EPERM, "R-PIN-2") }
        // size_t and pointers are pointer-width (D-ADDRMASK: ILP32 values reduce modulo 2^32).
        let sizeMax: UInt64 = arch.pointerBytes == 4 ? 0xFFFF_FFFF : .max
        let base = c.base & sizeMax, len = c.len & sizeMax
        let (end, overflow) = base.addingReportingOverflow(len)
        if overflow || end > sizeMax { return (.EINVAL, "R-PIN-3") }
        if base < arch.vmMinAddress || end > arch.vmMaxUserAddress { return (.EINVAL, "R-PIN-4") }
        if c.npins < 1 || c.npins > Int64(config.maxSyscall) { return (.E2BIG, "R-PIN-5") }
        if Int64(c.pins.count) < c.npins { return (.EFAULT, "R-PIN-7") }
        var i: Int64 = 0
        while i < c.npins {
            let v = c.pins[Int(i)]
            if v != 0 && v != 0xFFFF_FFFF && UInt64(v) > len { return (.ERANGE, "R-PIN-8") }
            i += 1
        }
        return nil
    }

    // MARK: Decoding

    static func decode(_ bytes: [UInt8]) -> Input {
        var r = FuzzReader(bytes)
        let arch = r.arch()
        let mask = arch.addressMask
        let page = arch.pageSize
        let flags = r.u8()
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
        for _ in 0..<Int(r.u8() % 7) {
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
        var main: PinRegion?
        var naiveMain: NaiveTable?
        if !noMain {
            // Naive validity (R-PT-4): every record in range; the core builds the table.
            let valid = sites.allSatisfy { $0.sysno >= 1 && $0.sysno < 331 && UInt64($0.offset) <= mainLen }
            if case .table(_, let pins) = PinTableReader.build(entries: sites, isLdso: isLdso, len: mainLen) {
                main = PinRegion.adjusted(pins: pins, start: mainStart, len: mainLen, delta: delta, mask: mask)
            }
            if valid {
                naiveMain = NaiveTable(
                    sites: sites, loadBase: mainStart, delta: delta, start: (mainStart &+ delta) & mask,
                    end: (mainStart &+ mainLen) & mask, isLdso: isLdso)
            }
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
        var interesting: [UInt64] = [mainStart, (mainStart &+ mainLen) & mask, (mainStart &+ mainLen &- 1) & mask]
        for s in sites { interesting.append((mainStart &+ UInt64(s.offset)) & mask) }
        var codes: [Int64] = [1, 86, 103, 158, 330]
        let pinSite = sites.first { $0.sysno == Sysno.pinsyscalls }.map { (mainStart &+ UInt64($0.offset)) & mask }

        var steps: [Step] = []
        for _ in 0..<(1 + r.below(6)) {
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
                let base = call.base & mask
                interesting += [base, (base &+ (call.len & mask)) & mask, (base &+ (call.len & mask) &- 1) & mask]
                for (i, v) in call.pins.enumerated() where v != 0 {
                    let site = (base &+ UInt64(v)) & mask
                    interesting += [site, (site &+ 1) & mask, (site &- 1) & mask]
                    codes.append(Int64(i))
                }
            } else {
                // A probe: any system call from a derived address.
                let addr = r.pick(interesting)
                let any = Int64(r.u16() % 400)
                let sysno: Int64 = r.pick(codes + [0, -1, 331, Int64(UInt32.max) + 1, Int64.min, any])
                steps.append(Step(addr: addr, sysno: sysno, request: .plain))
            }
        }
        return Input(arch: arch, main: main, naiveMain: naiveMain, sigtramp: sigtramp, once: once, steps: steps)
    }

    /// One pinsyscalls submission with boundary-heavy base, len, npins and pins (R-PIN-3..8).
    /// `near` is an address worth overlapping (a table's region, an earlier submission).
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
