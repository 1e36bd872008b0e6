/// A modelled process: its two pin tables, the pinsyscalls once-flag, kbind state, trampoline and
/// writable memory. Built by `ProcessModel.exec`, advanced one system call at a time.
public struct ProcessState: Sendable {
    public var arch: Arch
    public var config: KernelConfig
    /// ps_pin: the static program's or ld.so's table (R-PT-13).
    public var main: PinRegion?
    /// ps_libcpin: only ever from pinsyscalls (R-PIN-9).
    public var libc: PinRegion?
    public var pinsyscallsUsed: Bool
    public var kbind: KbindState
    /// The trap instruction's address inside the signal trampoline, if the process has one.
    public var sigtramp: UInt64?
    public var mappings: [MemoryMapping]
    /// The signal that killed the process; every later step is "dead".
    public var killedBy: KillSignal?
    /// The pin check this process gets (D-STRICT); `.openbsd` is the kernel's.
    public var policy: PinPolicy
    /// What the region-granular policies trust besides the pin regions (D-MSYSCALL, D-LIBSYS).
    public var trusted = TrustedText()

    public init(
        arch: Arch, config: KernelConfig = .openbsd, main: PinRegion? = nil, libc: PinRegion? = nil,
        pinsyscallsUsed: Bool = false, kbind: KbindState = KbindState(), sigtramp: UInt64? = nil,
        mappings: [MemoryMapping] = [], policy: PinPolicy = .openbsd
    ) {
        self.policy = policy
        self.arch = arch
        self.config = config
        self.main = main
        self.libc = libc
        self.pinsyscallsUsed = pinsyscallsUsed
        self.kbind = kbind
        self.sigtramp = sigtramp
        self.mappings = mappings
    }
}

/// What a system call asks for beyond the pin check.
public enum SyscallRequest: Hashable, Sendable {
    /// A call whose own effect is not modelled.
    case plain
    case pinsyscalls(PinsyscallsCall, threads: Int)
    /// kbind with `param` nil for a NULL pointer.
    case kbind(param: [UInt8]?, psize: UInt64, cookie: UInt64)

    /// The call the kernel runs when the MD handler's code is `code` (D-DISPATCH): sysent[code],
    /// so pinsyscalls or kbind arguments are that call's only under SYS_pinsyscalls or SYS_kbind;
    /// under any other number the step is a plain call whose own effect is not modelled.
    public func dispatched(code: Int64) -> SyscallRequest {
        switch self {
        case .pinsyscalls where code != Int64(Sysno.pinsyscalls), .kbind where code != Int64(Sysno.kbind): .plain
        default: self
        }
    }
}

public enum StepResult: Hashable, Sendable {
    /// The process was already dead.
    case dead
    case decided(Verdict, writes: [KbindWrite])

    public var verdict: Verdict? {
        if case .decided(let v, _) = self { return v }
        return nil
    }
}

/// The result of execve(2) on a program (and its interpreter).
public struct ExecOutcome: Sendable {
    public var verdict: Verdict
    /// Why, for a person.
    public var detail: String?
    public var plan: ExecPlan?
    public var interp: InterpLoad?
}

public enum ProcessModel {
    /// execve: main loader, exec commit (R-PT-15), then ld.so (R-PT-12). `interpreter` nil for a
    /// dynamic program means the PT_INTERP path does not exist (ENOENT, R-ELF-18). Under the
    /// strict policy the installed table also gets its exact site set, from the segment's entries
    /// (offsets count from the image's load base).
    public static func exec(
        program: [UInt8], base: UInt64 = 0, interpreter: [UInt8]?, interpreterBase: UInt64 = 0,
        arch: Arch, sigtramp: UInt64? = nil, mappings: [MemoryMapping] = [],
        config: KernelConfig = .openbsd, policy: PinPolicy = .openbsd
    ) -> (ExecOutcome, ProcessState?) {
        let plan: ExecPlan
        switch ExecLoaders.loadMain(program, arch: arch, base: base, config: config) {
        case .failure(let r):
            // R-ELF-26: before the point of no return; execve returns the errno.
            return (ExecOutcome(verdict: r.verdict, detail: r.detail), nil)
        case .success(let p): plan = p
        }
        // R-PT-15: fresh tables, kbind reset; R-PT-16: once-flag for static programs.
        var state = ProcessState(
            arch: arch, config: config, main: plan.region,
            pinsyscallsUsed: plan.pinsyscallsOnce && config.staticProgramsStartPinned,
            sigtramp: sigtramp.map { $0 & arch.addressMask }, mappings: mappings, policy: policy)
        if policy == .strict, let region = plan.region, let table = plan.pinTable {
            // R-PT-11: offsets are image-relative, counted from exe_base (0 for ET_EXEC).
            state.main = region.withStrictSites(recorded: table.entries, origin: plan.loadBase, mask: arch.addressMask)
        }
        if plan.kbindDisabled { state.kbind.pc = Kbind.bogoPC(arch) }
        var outcome = ExecOutcome(verdict: .ok, plan: plan)
        if plan.hasInterp {
            guard let interpreter else {
                // R-ELF-18/25: the lookup fails after the point of no return.
                outcome.verdict = .killed(.SIGABRT, .ENOENT, "R-ELF-25")
                outcome.detail = "interpreter not found"
                return (outcome, nil)
            }
            switch ExecLoaders.loadInterpreter(interpreter, arch: arch, pos: interpreterBase, config: config) {
            case .failure(let r):
                // R-ELF-25: "execve: cannot load"; exit with SIGABRT, inner errno and rule kept (the
                // loader itself reports a short interpreter header under R-ELF-25).
                outcome.verdict = .killed(.SIGABRT, r.errno, r.rule)
                outcome.detail = r.detail
                return (outcome, nil)
            case .success(let l):
                state.main = l.region
                state.trusted.mainIsRuntimeLinker = true
                if policy == .strict, let region = l.region {
                    // R-PT-12: ld.so's offsets count from its load base.
                    state.main = region.withStrictSites(
                        recorded: l.pinTable.entries, origin: interpreterBase & arch.addressMask, mask: arch.addressMask)
                }
                outcome.interp = l
            }
        }
        return (outcome, state)
    }
}

extension ProcessState {
    /// One system call `sysno` made from the trap instruction at `addr` (§7 then §6 / §8).
    /// `sysno` is what the step puts in the trap register; the kernel judges the MD handler's
    /// `code`, its per-arch narrowing (D-SYSNO-WIDTH).
    public mutating func syscall(addr rawAddr: UInt64, sysno register: Int64, _ request: SyscallRequest) -> StepResult {
        if killedBy != nil { return .dead }
        let sysno = arch.syscallCode(register)
        let addr = rawAddr & arch.addressMask
        // R-PC-1: out-of-range numbers get ENOSYS from the MD handler, no pin check, no signal.
        let inRange = sysno > 0 && sysno < Int64(config.maxSyscall)
        if !inRange && arch.outOfRangeSkipsPinCheck {
            return .decided(.fail(.ENOSYS, "R-PC-1"), writes: [])
        }
        // Decision (D-RANGE): i386/armv7 hand a negative code to pin_check, which indexes the
        // table with it (undefined behaviour). Modelled like a number past every table's npins:
        // the "no pin" kill in a region, EPERM at the trampoline, ENOSYS elsewhere.
        let code = sysno < 0 || sysno > Int64(UInt32.max) ? config.maxSyscall : UInt32(sysno)
        let pin = PinCheck.check(
            libc: libc, main: main, sigtramp: sigtramp, addr: addr, code: code,
            mask: arch.addressMask, policy: policy, trusted: trusted)
        if let s = pin.signal {
            killedBy = s
            return .decided(pin, writes: [])
        }
        // R-PC-1 where pin_check ran on an out-of-range number and passed: sys_nosys.
        if !inRange { return .decided(.fail(.ENOSYS, "R-PC-1"), writes: []) }
        switch request.dispatched(code: sysno) {
        case .plain:
            return .decided(.ok, writes: [])
        case .pinsyscalls(let call, let threads):
            let (v, region) = Pinsyscalls.call(
                call, threads: threads, onceFlag: &pinsyscallsUsed, arch: arch, config: config, policy: policy)
            if let region { libc = region }
            return .decided(v, writes: [])
        case .kbind(let param, let psize, let cookie):
            let (v, writes) = Kbind.call(
                state: &kbind, addr: addr, param: param, psize: psize, cookie: cookie, mappings: mappings,
                arch: arch, config: config)
            if let s = v.signal { killedBy = s }
            return .decided(v, writes: writes)
        }
    }
}
