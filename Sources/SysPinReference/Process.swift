/// User memory kbind may write (CONTRACT `mappings`).
public struct RefMapping: Equatable, Sendable {
    public var start: UInt64
    public var end: UInt64
    public var writable: Bool
    public init(start: UInt64, end: UInt64, writable: Bool) {
        self.start = start
        self.end = end
        self.writable = writable
    }
}

/// Bytes one kbind page piece stored.
public struct RefWrite: Equatable, Sendable {
    public var address: UInt64
    /// The bytes, as the slice of the parameter buffer they were copied from (no copy of them is
    /// made; equality compares the bytes, not their positions).
    public var piece: ArraySlice<UInt8>
    public var bytes: [UInt8] { Array(piece) }
    public init(address: UInt64, bytes: [UInt8]) {
        self.address = address
        self.piece = bytes[...]
    }
    public init(address: UInt64, piece: ArraySlice<UInt8>) {
        self.address = address
        self.piece = piece
    }
}

/// A pinsyscalls(2) submission (§6). `sites` are the strict policy's recorded sites relative to
/// `base`, present only for ld.so's conversion of libc's table (D-STRICT).
public struct RefSubmission: Equatable, Sendable {
    public var base: UInt64
    public var len: UInt64
    public var pins: [UInt32]
    public var npins: Int64
    public var sites: [RefEntry]
    public init(base: UInt64, len: UInt64, pins: [UInt32], npins: Int64, sites: [RefEntry] = []) {
        self.base = base
        self.len = len
        self.pins = pins
        self.npins = npins
        self.sites = sites
    }
}

/// What a step asks of the kernel beyond the pin check.
public enum RefRequest: Equatable, Sendable {
    case plain
    case pinsyscalls(RefSubmission, threads: Int)
    /// `"from_libc": true`: ld.so builds the submission from the process's libc image (§9).
    case fromLibc(threads: Int)
    /// `param` nil is a NULL pointer.
    case kbind(param: [UInt8]?, psize: UInt64, cookie: UInt64)
}

/// One step's outcome (CONTRACT `run` lines).
public struct RefStepResult: Equatable, Sendable {
    /// The process was already dead.
    public var dead: Bool
    /// ld.so declined to make the from_libc submission (R-LD-4, D-LDPIN).
    public var skipped: Bool
    public var verdict: RefVerdict
    public var writes: [RefWrite]

    public init(dead: Bool, skipped: Bool, verdict: RefVerdict, writes: [RefWrite]) {
        self.dead = dead
        self.skipped = skipped
        self.verdict = verdict
        self.writes = writes
    }

    public static let deadStep = RefStepResult(dead: true, skipped: false, verdict: .ok, writes: [])
    public static func decided(_ v: RefVerdict, _ writes: [RefWrite] = []) -> RefStepResult {
        RefStepResult(dead: false, skipped: false, verdict: v, writes: writes)
    }
}

/// sys_pinsyscalls after its pin check: R-PIN-1..9 in order.
public enum RefPinsyscalls {
    /// Returns the verdict and, on success, the libc table. `once` is read-and-set (R-PIN-2).
    public static func call(
        _ c: RefSubmission, threads: Int, once: inout Bool, arch: RefArch
    ) -> (RefVerdict, RefTable?) {
        // R-PIN-1: the flag is not consumed.
        if threads > 1 { return (.fail(RefErrno.EPERM, "R-PIN-1"), nil) }
        // R-PIN-2: a failed call from here on still burns the single use.
        let was = once
        once = true
        if was { return (.fail(RefErrno.EPERM, "R-PIN-2"), nil) }
        // Pointer-width arguments (D-ADDRMASK).
        let base = c.base & arch.mask
        let len = c.len & arch.mask
        // R-PIN-3: base > SIZE_MAX − len.
        if base > arch.mask - len { return (.fail(RefErrno.EINVAL, "R-PIN-3"), nil) }
        // R-PIN-4
        if base < arch.vmMin || base + len > arch.vmMaxUser { return (.fail(RefErrno.EINVAL, "R-PIN-4"), nil) }
        // R-PIN-5 (corrected): npins is a C int.
        let npins = Int32(truncatingIfNeeded: c.npins)
        if npins < 1 || UInt32(npins) > RefConst.maxSyscall { return (.fail(RefErrno.E2BIG, "R-PIN-5"), nil) }
        // R-PIN-7: the copy of npins × 4 bytes.
        if c.pins.count < Int(npins) { return (.fail(RefErrno.EFAULT, "R-PIN-7"), nil) }
        let pins = Array(c.pins[0..<Int(npins)])
        // R-PIN-8
        for v in pins where v != 0 && v != RefConst.marker && UInt64(v) > len {
            return (.fail(RefErrno.ERANGE, "R-PIN-8"), nil)
        }
        // R-PIN-9: verbatim, no rebasing.
        let sites = RefPins.strictSites(pins: pins, start: base, recorded: c.sites, origin: base, arch: arch)
        return (.ok, RefTable(start: base, end: (base + len) & arch.mask, pins: pins, sites: sites))
    }

    /// §9 / D-LDPIN: ld.so's submission for libc loaded at `base`, nil when ld.so skips it
    /// (R-LD-4). The libc image must pass the interpreter loader's header checks (ET_DYN). The
    /// text span is over executable, non-writable PT_LOADs: start = min of p_vaddr truncated to
    /// p_align, end = max of p_vaddr + p_memsz; an empty span is a skip. The table is validated
    /// as the kernel's (R-PT-1..7, isLdso false, len = end) and rebased by start (R-PT-9).
    public static func ldsoSubmission(libc: [UInt8], base: UInt64, arch: RefArch) -> RefSubmission? {
        guard case .success(let img) = RefElf.readImage(libc, arch: arch, loader: .interpreter) else { return nil }
        var seg: RefPhdr?
        for p in img.phdrs where p.type == RefConst.PT_OPENBSD_SYSCALLS { seg = p }
        guard let seg else { return nil }
        var textStart = UInt64.max
        var textEnd: UInt64 = 0
        for p in img.phdrs where p.isText {
            textStart = min(textStart, RefBytes.trunc(p.vaddr, p.align))
            textEnd = max(textEnd, p.vaddr &+ p.memsz)
        }
        if textStart >= textEnd { return nil }
        let parse = RefPins.parse(
            filesz: seg.filesz, available: RefPins.available(libc, seg.offset, seg.filesz), bigEndian: arch.bigEndian,
            isLdso: false, len: textEnd)
        guard let pins = parse.pins else { return nil }
        let r = RefPins.rebase(pins, start: base & arch.mask, len: textEnd, delta: textStart, arch: arch)
        var sites: [RefEntry] = []
        for e in parse.entries where UInt64(e.offset) >= textStart {
            sites.append(RefEntry(offset: UInt32(UInt64(e.offset) - textStart), sysno: e.sysno))
        }
        return RefSubmission(
            base: r.start, len: (r.end &- r.start) & arch.mask, pins: r.pins, npins: Int64(r.pins.count), sites: sites)
    }
}

/// sys_kbind after its pin check (§8).
public enum RefKbind {
    public struct Block: Equatable, Sendable {
        public var addr: UInt64
        public var data: [UInt8]
        public init(addr: UInt64, data: [UInt8]) {
            self.addr = addr
            self.data = data
        }
    }

    /// R-KB-5..9: the blocks, or the rejection.
    public static func parse(_ param: [UInt8], psize: UInt64, arch: RefArch) -> Result<[Block], RefFailure> {
        let n: Int
        switch validate(param, psize: psize, arch: arch) {
        case .failure(let f): return .failure(f)
        case .success(let count): n = count
        }
        var blocks: [Block] = []
        blocks.reserveCapacity(n)
        for i in 0..<n {
            let b = block(i, of: n, in: param, arch: arch)
            blocks.append(Block(addr: b.addr, data: Array(param[b.data])))
        }
        return .success(blocks)
    }

    /// R-KB-5..8: how many blocks (at most KBIND_BLOCK_MAX) an accepted buffer holds, or the
    /// rejection. `block` reads them.
    public static func validate(_ param: [UInt8], psize: UInt64, arch: RefArch) -> Result<Int, RefFailure> {
        let h = arch.kbindHeader
        // psize is a size_t: 32 bits on ILP32.
        let psize = psize & arch.mask
        // R-KB-5
        if psize < h || psize > arch.kbindParamMax { return .failure(RefFailure(RefErrno.EINVAL, "R-KB-5")) }
        // R-KB-6
        if UInt64(param.count) < psize { return .failure(RefFailure(RefErrno.EFAULT, "R-KB-6")) }
        let w = arch.pointerBytes
        // R-KB-7: accounting by total length; header #i at i × H.
        var s = psize
        var n: UInt64 = 0  // headers accepted so far
        while s > 0 && n < UInt64(RefConst.kbindBlockMax) {
            if s < h { return .failure(RefFailure(RefErrno.EINVAL, "R-KB-7")) }
            s -= h
            let (addr, size) = header(param, n * h, w, arch)
            if addr == 0 || size == 0 || size > RefConst.kbindDataMax || addr >= arch.vmMaxUser
                || addr + size - 1 >= arch.vmMaxUser || s < size
            {
                return .failure(RefFailure(RefErrno.EINVAL, "R-KB-7"))
            }
            s -= size
            n += 1
        }
        // R-KB-8
        if s > 0 { return .failure(RefFailure(RefErrno.EINVAL, "R-KB-8")) }
        return .success(Int(n))
    }

    /// R-KB-9: block `i` of a buffer `validate` accepted with `count` blocks: its address and
    /// where its data lies in `param`. The data follows the last header, in block order (the
    /// headers are read again, rather than kept in a list).
    public static func block(_ i: Int, of count: Int, in param: [UInt8], arch: RefArch) -> (addr: UInt64, data: Range<Int>) {
        let h = arch.kbindHeader
        let w = arch.pointerBytes
        var at = UInt64(count) * h
        for j in 0..<i { at += header(param, UInt64(j) * h, w, arch).size }
        let (addr, size) = header(param, UInt64(i) * h, w, arch)
        return (addr, Int(at)..<Int(at + size))
    }

    /// The `struct __kbind` {addr, size} at `at` (inside the first psize bytes).
    static func header(_ param: [UInt8], _ at: UInt64, _ w: Int, _ arch: RefArch) -> (addr: UInt64, size: UInt64) {
        (RefBytes.uint(param, at, w, bigEndian: arch.bigEndian)!, RefBytes.uint(param, at + UInt64(w), w, bigEndian: arch.bigEndian)!)
    }

    /// R-KB-11/12: the `count` blocks of `param` in order, split at page boundaries; per piece
    /// EINVAL if a byte is in no mapping, else EFAULT if a byte is in a mapping with
    /// "writable": false (CONTRACT mappings, D-KBIND-FAULT); earlier pieces stay written.
    public static func write(_ param: [UInt8], blocks count: Int, mappings: [RefMapping], arch: RefArch) -> (RefVerdict, [RefWrite]) {
        var writes: [RefWrite] = []
        for bi in 0..<count {
            let b = block(bi, of: count, in: param, arch: arch)
            var i: UInt64 = 0
            let n = UInt64(b.data.count)
            while i < n {
                let a = b.addr + i
                let pageEnd = (a / arch.pageSize + 1) * arch.pageSize
                let k = min(n - i, pageEnd - a)
                // uvm_map_extract: a page below the map's minimum (VM_MIN_ADDRESS) is EINVAL, and so
                // is one on the map's hole entry (sparc64).
                let page = a / arch.pageSize * arch.pageSize
                var unmapped = page < arch.vmMin || (page >= arch.holeFirst && page < arch.holeEnd)
                var readOnly = false
                for x in a..<(a + k) {
                    var inAny = false
                    var inReadOnly = false
                    for m in mappings where m.start <= x && x < m.end {
                        inAny = true
                        if !m.writable { inReadOnly = true }
                    }
                    if !inAny { unmapped = true }
                    if inReadOnly { readOnly = true }
                }
                if unmapped { return (.fail(RefErrno.EINVAL, "R-KB-12"), writes) }
                if readOnly { return (.fail(RefErrno.EFAULT, "R-KB-12"), writes) }
                let from = b.data.lowerBound + Int(i)
                writes.append(RefWrite(address: a, piece: param[from..<from + Int(k)]))
                i += k
            }
        }
        return (.ok, writes)
    }

    /// The whole call: binding (R-KB-1..4) with the raw pc, then validation and writes.
    /// `pc`/`cookie` are the process's kbind state (pc 0 unbound, all-ones = BOGO_PC disabled).
    public static func call(
        pc kpc: inout UInt64, cookie kcookie: inout UInt64, trapAddr: UInt64, param: [UInt8]?, psize: UInt64,
        cookie: UInt64, mappings: [RefMapping], arch: RefArch
    ) -> (RefVerdict, [RefWrite]) {
        let bogo = arch.mask
        // CONTRACT: the step address is the trap instruction; the kernel's pc is that + D.
        let pc = (trapAddr &+ arch.trapDistance) & arch.mask
        guard let param else {
            // R-KB-1
            if kpc == 0 {
                kpc = bogo
                return (.ok, [])
            }
            if kpc == bogo { return (.ok, []) }
            return (.killed(RefSignal.SIGILL, nil, "R-KB-1"), [])
        }
        if kpc == 0 {
            // R-KB-2: bound before validation.
            kpc = pc
            kcookie = cookie
        } else if pc != kpc || pc == bogo || cookie != kcookie {
            // R-KB-3 / R-KB-4
            return (.killed(RefSignal.SIGILL, nil, "R-KB-3"), [])
        }
        switch validate(param, psize: psize, arch: arch) {
        case .failure(let f): return (f.verdict, [])
        case .success(let count): return write(param, blocks: count, mappings: mappings, arch: arch)
        }
    }
}

/// A modelled process (§5.6, §6, §7, §8).
public struct RefProcess: Equatable, Sendable {
    public var arch: RefArch
    public var policy: RefPolicy
    /// ps_pin and ps_libcpin.
    public var main: RefTable?
    public var libc: RefTable?
    /// The pinsyscalls once-flag (R-PIN-2).
    public var once: Bool
    /// kbind's raw pc (0, BOGO_PC or bound) and cookie.
    public var kbindPC: UInt64
    public var kbindCookie: UInt64
    /// The trampoline's trap instruction address.
    public var sigtramp: UInt64?
    public var mappings: [RefMapping]
    /// libc.so and its load base, the source of `fromLibc` submissions.
    public var libcImage: [UInt8]?
    public var libcBase: UInt64
    /// libsys's text (D-LIBSYS), fixed at exec; nil when the process has no libsys.
    public var libsysText: RefSpan?
    /// True when `main` is ld.so's region (a dynamic program), false when it is the program's.
    public var mainIsLdso: Bool
    public var killedBy: Int32?

    public init(
        arch: RefArch, policy: RefPolicy, main: RefTable? = nil, libc: RefTable? = nil, once: Bool = false,
        kbindPC: UInt64 = 0, kbindCookie: UInt64 = 0, sigtramp: UInt64? = nil, mappings: [RefMapping] = [],
        libcImage: [UInt8]? = nil, libcBase: UInt64 = 0, libsysText: RefSpan? = nil, mainIsLdso: Bool = false
    ) {
        self.arch = arch
        self.policy = policy
        self.main = main
        self.libc = libc
        self.once = once
        self.kbindPC = kbindPC
        self.kbindCookie = kbindCookie
        self.sigtramp = sigtramp.map { $0 & arch.mask }
        self.mappings = mappings
        self.libcImage = libcImage
        self.libcBase = libcBase
        self.libsysText = libsysText
        self.mainIsLdso = mainIsLdso
        self.killedBy = nil
    }

    /// execve: the main loader (errors returned, R-ELF-26), the commit (R-PT-15, R-PT-16,
    /// R-KB-14), then ld.so (failures kill with SIGABRT, R-ELF-25). `staticStartsPinned` is
    /// R-PT-16's documented behaviour (true) or exec_elf.c 1.194's (false). `libsys` at
    /// `libsysBase` gives the process its libsys text (D-LIBSYS; only the libsys policy reads it).
    public static func exec(
        program: [UInt8], base: UInt64 = 0, interpreter: [UInt8]?, interpreterBase: UInt64 = 0,
        libc: [UInt8]? = nil, libcBase: UInt64 = 0, libsys: [UInt8]? = nil, libsysBase: UInt64 = 0,
        arch: RefArch, sigtramp: UInt64? = nil,
        mappings: [RefMapping] = [], policy: RefPolicy = .openbsd, staticStartsPinned: Bool = true
    ) -> (RefVerdict, RefProcess?) {
        let plan: RefMainLoad
        switch RefElf.loadMain(program, arch: arch, base: base) {
        case .failure(let f): return (f.verdict, nil)
        case .success(let p): plan = p
        }
        var p = RefProcess(
            arch: arch, policy: policy, main: plan.pin?.table, once: !plan.hasInterp && staticStartsPinned,
            sigtramp: sigtramp, mappings: mappings, libcImage: libc, libcBase: libcBase,
            libsysText: libsys.flatMap { RefRegionPolicies.libsysText($0, base: libsysBase, arch: arch) })
        // R-KB-14 / R-PT-15 (a): ELF args without an interpreter (static PIE) disable kbind.
        if !plan.hasInterp && plan.image.type == RefConst.ET_DYN { p.kbindPC = arch.mask }
        if plan.hasInterp {
            guard let interpreter else {
                // R-ELF-18 → R-ELF-25 (D-INTERP-MISSING).
                return (.killed(RefSignal.SIGABRT, RefErrno.ENOENT, "R-ELF-25"), nil)
            }
            switch RefElf.loadInterpreter(interpreter, arch: arch, pos: interpreterBase) {
            case .failure(let f):
                // R-ELF-25: the inner errno kept; a short header is reported as R-ELF-25 itself.
                let rule = f.verdict.rule == "R-ELF-1" ? "R-ELF-25" : f.verdict.rule!
                return (.killed(RefSignal.SIGABRT, f.verdict.errno, rule), nil)
            case .success(let l):
                p.main = l.pin.table
                p.mainIsLdso = true
            }
        }
        return (.ok, p)
    }

    /// One system call from the trap instruction at `addr`.
    public mutating func step(addr rawAddr: UInt64, sysno register: Int64, _ request: RefRequest) -> RefStepResult {
        if killedBy != nil { return .deadStep }
        // The MD handler's `code`: its own width of the trap register, sparc64's flag cleared.
        let sysno = arch.kernelCode(register)
        var req = request
        if case .fromLibc(let threads) = request {
            // R-LD-4: ld.so makes no call at all when it rejects libc's table.
            guard let image = libcImage, let sub = RefPinsyscalls.ldsoSubmission(libc: image, base: libcBase, arch: arch) else {
                return RefStepResult(dead: false, skipped: true, verdict: RefVerdict(errno: nil, signal: nil, rule: "R-LD-4"), writes: [])
            }
            req = .pinsyscalls(sub, threads: threads)
        }
        let a = rawAddr & arch.mask  // D-ADDRMASK
        // R-PC-1
        let inRange = sysno >= 1 && sysno < Int64(RefConst.maxSyscall)
        if !inRange && arch.rangeCheckFirst { return .decided(.fail(RefErrno.ENOSYS, "R-PC-1")) }
        if let kill = RefPinCheck.check(
            libc: libc, main: main, sigtramp: sigtramp, addr: a, code: sysno, policy: policy, arch: arch,
            libsys: libsysText, mainIsLdso: mainIsLdso)
        {
            killedBy = kill.signal
            return .decided(kill)
        }
        // R-PC-1 / D-RANGE: a number pin_check let through reaches sys_nosys.
        if !inRange { return .decided(.fail(RefErrno.ENOSYS, "R-PC-1")) }
        // sys_pinsyscalls and sys_kbind run only for their own numbers; the step's arguments for
        // one of them under another number are another call's registers (D-DISPATCH).
        if sysno != Int64(RefConst.sysPinsyscalls), case .pinsyscalls = req { return .decided(.ok) }
        if sysno != Int64(RefConst.sysKbind), case .kbind = req { return .decided(.ok) }
        switch req {
        case .plain, .fromLibc:
            return .decided(.ok)
        case .pinsyscalls(let sub, let threads):
            let (v, table) = RefPinsyscalls.call(sub, threads: threads, once: &once, arch: arch)
            if let table { libc = table }
            return .decided(v)
        case .kbind(let param, let psize, let cookie):
            let (v, writes) = RefKbind.call(
                pc: &kbindPC, cookie: &kbindCookie, trapAddr: a, param: param, psize: psize, cookie: cookie,
                mappings: mappings, arch: arch)
            if let s = v.signal { killedBy = s }
            return .decided(v, writes)
        }
    }
}
