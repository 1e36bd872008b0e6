import SysPinCore
import SysPinTesting

/// The parts of a `ProcessState` a system call may change, for "nothing else changed" checks.
struct ProcessSnapshot: Equatable {
    var main: PinRegion?
    var libc: PinRegion?
    var once: Bool
    var kbind: KbindState
    var killedBy: KillSignal?

    init(_ s: ProcessState) {
        main = s.main
        libc = s.libc
        once = s.pinsyscallsUsed
        kbind = s.kbind
        killedBy = s.killedBy
    }
}

/// What one run of a process produced, compared between two runs (INV-DETERMINISM).
struct ProcessTrace: Equatable {
    var exec: Verdict?
    var results: [StepResult] = []
    var final: ProcessSnapshot?
}

/// A naive shadow of a modelled process, sharing no decision code with the core: pin checks go
/// through `NaiveModel` (linear scans over raw sites), pinsyscalls through
/// `FuzzPinsyscalls.naiveErrno` (R-PIN-1..8 in order), kbind through `FuzzKbind`'s restatement of
/// R-KB-1..12. `step` runs one system call through `ProcessState.syscall` and checks every
/// observable against the shadow, then advances the shadow.
struct StepOracle {
    let arch: Arch
    let config: KernelConfig
    /// ps_pin as sites (nil: no table).
    var main: NaiveTable?
    /// ps_libcpin as sites, from the last successful submission.
    var libc: NaiveTable?
    var sigtramp: UInt64?
    /// The pinsyscalls once-flag (R-PIN-2).
    var once: Bool
    /// kbind's bound pc (0 unbound, BOGO_PC disabled) and cookie (§8.1).
    var kbindPC: UInt64 = 0
    var kbindCookie: UInt64 = 0
    var mappings: [MemoryMapping]
    var killed = false
    var pinsyscallsSuccesses = 0
    var stepIndex = 0

    init(
        arch: Arch, config: KernelConfig = .openbsd, main: NaiveTable?, sigtramp: UInt64?, once: Bool,
        kbindPC: UInt64 = 0, kbindCookie: UInt64 = 0, mappings: [MemoryMapping]
    ) {
        self.arch = arch
        self.config = config
        self.main = main
        self.sigtramp = sigtramp
        self.once = once
        self.kbindPC = kbindPC
        self.kbindCookie = kbindCookie
        self.mappings = mappings
    }

    /// Pointer-width all-ones (R-ARCH-2), also BOGO_PC (D-BOGO).
    var mask: UInt64 { arch.pointerBytes == 4 ? 0xFFFF_FFFF : .max }
    var bogoPC: UInt64 { mask }

    enum PinOutcome: Equatable {
        /// pin_check kills the process (SIGABRT) with this errno (R-PC-6).
        case kill(OpenBSDErrno)
        /// ENOSYS from the MD handler or sys_nosys, no signal (R-PC-1, D-RANGE).
        case nosys
        /// The call reaches its own handler.
        case pass
    }

    /// R-PC-1 / D-RANGE around §7.2, with §7.2 itself decided by `NaiveModel`.
    func pinOutcome(addr: UInt64, sysno: Int64) -> PinOutcome {
        let a = addr & mask
        let inRange = sysno >= 1 && sysno < Int64(config.maxSyscall)
        if !inRange && arch.outOfRangeSkipsPinCheck { return .nosys }
        // A number that does not fit the table's index type is past every table (D-RANGE).
        let code: UInt32 = sysno >= 0 && sysno <= Int64(UInt32.max) ? UInt32(sysno) : config.maxSyscall
        switch NaiveModel.decide(libc: libc, main: main, sigtramp: sigtramp.map { $0 & mask }, addr: a, code: code, mask: mask) {
        case .kill(let e): return .kill(e)
        case .allow: return inRange ? .pass : .nosys
        }
    }

    func where_(_ addr: UInt64, _ sysno: Int64) -> String {
        "\(arch.name) step \(stepIndex) sysno \(sysno) at 0x\(String(addr & mask, radix: 16))"
    }

    /// One system call through the core, checked against the shadow.
    mutating func step(
        _ state: inout ProcessState, addr: UInt64, sysno: Int64, _ request: SyscallRequest
    ) throws(InvariantViolation) -> StepResult {
        defer { stepIndex += 1 }
        let before = ProcessSnapshot(state)
        let result = state.syscall(addr: addr, sysno: sysno, request)
        let after = ProcessSnapshot(state)
        let at = where_(addr, sysno)
        if killed {
            try require(result == .dead, "INV-DEAD", "\(at): a killed process made a system call: \(result)")
            try require(after == before, "INV-DEAD", "\(at): state changed after the kill")
            return result
        }
        guard case .decided(let v, let writes) = result else {
            throw InvariantViolation("INV-DEAD", "\(at): dead although never killed")
        }
        switch pinOutcome(addr: addr, sysno: sysno) {
        case .kill(let e):
            try require(
                v.signal == .SIGABRT && v.errno == e && writes.isEmpty, "INV-NAIVE-AGREE",
                "\(at): core \(v), naive pin_check kills with \(e.name)")
            var expected = before
            expected.killedBy = .SIGABRT
            try require(after == expected, "INV-DEAD", "\(at): a pin_check kill changed more than the kill flag")
            killed = true
            return result
        case .nosys:
            try require(
                v == .fail(.ENOSYS, "R-PC-1") && writes.isEmpty, "INV-NAIVE-AGREE",
                "\(at): core \(v), naive says ENOSYS without signal (R-PC-1)")
            try require(after == before, "INV-NAIVE-AGREE", "\(at): an unimplemented number changed the state")
            return result
        case .pass:
            break
        }
        switch request {
        case .plain:
            try require(v.isOK && writes.isEmpty, "INV-NAIVE-AGREE", "\(at): core \(v), naive pin_check allows")
            try require(after == before, "INV-NAIVE-AGREE", "\(at): a plain system call changed the state")
        case .pinsyscalls(let call, let threads):
            try checkPinsyscalls(call, threads: threads, verdict: v, writes: writes, before: before, after: after, state: state, at: at)
        case .kbind(let param, let psize, let cookie):
            var tablesBefore = before, tablesAfter = after
            tablesBefore.kbind = KbindState()
            tablesAfter.kbind = KbindState()
            tablesBefore.killedBy = nil
            tablesAfter.killedBy = nil
            try require(tablesAfter == tablesBefore, "INV-KBIND-BIND", "\(at): kbind changed the pin tables or once-flag")
            try checkKbind(
                addr: addr, param: param, psize: psize, cookie: cookie, verdict: v, writes: writes,
                before: before.kbind, after: after.kbind, at: at)
            try require(
                (after.killedBy != nil) == (v.signal != nil) && (v.signal == nil || after.killedBy == v.signal), "INV-DEAD",
                "\(at): kbind verdict \(v) but the process is marked \(after.killedBy?.name ?? "alive")")
        }
        return result
    }

    // MARK: pinsyscalls

    mutating func checkPinsyscalls(
        _ call: PinsyscallsCall, threads: Int, verdict v: Verdict, writes: [KbindWrite], before: ProcessSnapshot,
        after: ProcessSnapshot, state: ProcessState, at: String
    ) throws(InvariantViolation) {
        let expected = FuzzPinsyscalls.naiveErrno(call, threads: threads, onceSet: once, arch: arch, config: config)
        try require(
            v.signal == nil && v.errno == expected?.errno && v.rule == expected?.rule && writes.isEmpty, "INV-PIN-ORDER",
            "\(at): pinsyscalls(base 0x\(String(call.base, radix: 16)), len 0x\(String(call.len, radix: 16)), npins \(call.npins), \(call.pins.count) pins, threads \(threads), once \(once)): core \(v), naive \(expected.map { "\($0.errno.name) [\($0.rule)]" } ?? "ok")"
        )
        // R-PIN-1 leaves the flag alone; from R-PIN-2 on it is set whatever happens next.
        let onceAfter = threads > 1 ? once : true
        try require(after.once == onceAfter, "INV-PIN-UNCHANGED", "\(at): once-flag \(before.once) → \(after.once), expected \(onceAfter)")
        try require(after.main == before.main && after.kbind == before.kbind && after.killedBy == nil, "INV-PIN-UNCHANGED", "\(at): pinsyscalls changed ps_pin or kbind state")
        once = onceAfter
        if v.isOK {
            pinsyscallsSuccesses += 1
            try require(pinsyscallsSuccesses <= 1, "INV-PIN-ONCE", "\(at): a second successful pinsyscalls (I-3)")
            try require(!before.once, "INV-PIN-ONCE", "\(at): pinsyscalls succeeded with the once-flag already set")
            let base = call.base & mask, len = call.len & mask
            let pins = Array(call.pins.prefix(Int(call.npins)))
            try require(
                after.libc == PinRegion(start: base, end: (base &+ len) & mask, pins: pins), "INV-PIN-INSTALL",
                "\(at): installed libc region differs from the submission (R-PIN-9)")
            libc = NaiveModel.submittedTable(pins: pins, base: base, len: len)
            let codes = pins.indices.filter { pins[$0] != 0 }.map { UInt32($0) }
            try PinInvariants.differential(
                libc: state.libc, naiveLibc: libc, main: state.main, naiveMain: main, sigtramp: sigtramp.map { $0 & mask },
                arch: arch, extraCodes: Array(codes.prefix(64)), config: config)
        } else {
            try require(after.libc == before.libc, "INV-PIN-UNCHANGED", "\(at): rejected pinsyscalls (\(v)) changed ps_libcpin")
        }
    }

    // MARK: kbind

    /// The shadow's expectation for a kbind call that passed the pin check (R-KB-1..13), and the
    /// shadow's new binding.
    mutating func expectKbind(
        addr: UInt64, param: [UInt8]?, psize: UInt64, cookie: UInt64
    ) -> (verdict: Verdict, writes: [KbindWrite], validation: FuzzKbind.NaiveParse?) {
        // CONTRACT: addr is the trap instruction; the kernel's raw pc is addr + D.
        let pc = ((addr & mask) &+ arch.trapDistance) & mask
        guard let param else {
            if kbindPC == 0 {
                kbindPC = bogoPC
                return (.ok, [], nil)
            }
            if kbindPC == bogoPC { return (.ok, [], nil) }
            return (.killed(.SIGILL, nil, "R-KB-1"), [], nil)
        }
        if kbindPC == 0 {
            kbindPC = pc
            kbindCookie = cookie
        } else if pc != kbindPC || pc == bogoPC || cookie != kbindCookie {
            return (.killed(.SIGILL, nil, "R-KB-3"), [], nil)
        }
        let parse = FuzzKbind.naiveParse(param, psize: psize, arch: arch)
        switch parse {
        case .invalid(let e, let rule):
            return (.fail(e, rule), [], parse)
        case .blocks(let blocks):
            let (writes, fault) = FuzzKbind.naiveWrites(blocks, mappings: mappings, arch: arch)
            return (fault.map { .fail($0, "R-KB-12") } ?? .ok, writes, parse)
        }
    }

    /// Checks one kbind call's verdict, writes and binding against the shadow.
    mutating func checkKbind(
        addr: UInt64, param: [UInt8]?, psize: UInt64, cookie: UInt64, verdict v: Verdict, writes: [KbindWrite],
        before: KbindState, after: KbindState, at: String
    ) throws(InvariantViolation) {
        if let param {
            try FuzzKbind.compareParse(param, psize: psize, arch: arch, at: at)
        }
        let (expected, expectedWrites, validation) = expectKbind(addr: addr, param: param, psize: psize, cookie: cookie)
        if expected.signal == .SIGILL {
            try require(v == expected, "INV-KBIND-BIND", "\(at): core \(v), naive \(expected) (bound pc 0x\(String(before.pc, radix: 16)))")
            try require(writes.isEmpty, "INV-KBIND-NOWRITE", "\(at): SIGILL with \(writes.count) writes (I-6)")
            try require(after == before, "INV-KBIND-BIND", "\(at): a SIGILL kill changed the binding")
            killed = true
            return
        }
        try require(v.signal == nil, "INV-KBIND-BIND", "\(at): core \(v), naive \(expected)")
        try require(
            after == KbindState(pc: kbindPC, cookie: kbindCookie), "INV-KBIND-BIND",
            "\(at): binding pc 0x\(String(after.pc, radix: 16)) cookie \(after.cookie), naive pc 0x\(String(kbindPC, radix: 16)) cookie \(kbindCookie)")
        if case .invalid = validation {
            try require(v == expected, "INV-KBIND-VALIDATE", "\(at): core \(v), naive validation \(expected)")
            try require(writes.isEmpty, "INV-KBIND-NOWRITE", "\(at): \(v) with \(writes.count) writes (I-6)")
            return
        }
        // Structural checks on what the core wrote, then equality with the naive writes.
        for w in writes {
            let page = arch.pageSize
            try require(
                !w.bytes.isEmpty && w.address / page == (w.address + UInt64(w.bytes.count) - 1) / page, "INV-KBIND-WRITES",
                "\(at): piece at 0x\(String(w.address, radix: 16)) (\(w.bytes.count) bytes) crosses a page")
            for p in w.address..<w.address + UInt64(w.bytes.count) {
                try require(
                    mappings.contains { $0.writable && $0.start <= p && p < $0.end }, "INV-KBIND-WRITES",
                    "\(at): wrote 0x\(String(p, radix: 16)) outside every writable mapping")
            }
        }
        try require(
            v.isOK || writes.isEmpty || v.rule == "R-KB-12", "INV-KBIND-WRITES",
            "\(at): partial writes with \(v) (I-7: only R-KB-12 may leave them)")
        try require(
            v == expected && writes == expectedWrites, "INV-KBIND-WRITES",
            "\(at): core \(v) with \(writes.map { "0x\(String($0.address, radix: 16))+\($0.bytes.count)" }), naive \(expected) with \(expectedWrites.map { "0x\(String($0.address, radix: 16))+\($0.bytes.count)" })"
        )
    }
}

extension FuzzReader {
    /// One of `xs`, chosen by one byte.
    mutating func pick<T>(_ xs: [T]) -> T { xs[Int(u8()) % xs.count] }
}
