#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import SysPinCore
import SysPinReference

// Adapters from the core's types to the reference model's plain values, and the lockstep runner
// every process-level target uses. The reference (SysPinReference) shares no code with the core:
// only raw bytes, plain numbers and these conversions cross between them.

extension RefArch {
    /// The reference's row for a core arch (same canonical name).
    init(_ a: Arch) {
        // The rows of `Arch.all`, looked up once: a target asks for every input.
        // The machine number first (one load, no copy of an `Arch`): only the rows it matches
        // (mips64 and mips64el share one) have their names compared.
        let rows = RefArch.coreRows
        let i = Arch.all.withUnsafeBufferPointer { all in
            all.indices.first { all[$0].machine == a.machine && all[$0].name == a.name }
        }
        if let i {
            self = rows[i]
            return
        }
        self = RefArch.named(a.name)!
    }

    /// `RefArch.named` of every `Arch.all` entry's name, in that order.
    private static let coreRows: [RefArch] = Arch.all.map { RefArch.named($0.name)! }
}

extension RefVerdict {
    init(_ v: Verdict) {
        self.init(errno: v.errno?.rawValue, signal: v.signal?.rawValue, rule: v.rule?.rawValue)
    }

    /// The core's verdict is this one: `RefVerdict(v) == self`, without building the rule's text
    /// (one comparison of its bytes instead).
    func matches(_ v: Verdict) -> Bool {
        errno == v.errno?.rawValue && signal == v.signal?.rawValue && Self.sameRule(rule, v.rule)
    }

    /// The reference's rule text is the core's rule id.
    static func sameRule(_ r: String?, _ c: RuleID?) -> Bool {
        guard var r, let c else { return r == nil && c == nil }
        // A rule id is a few bytes: compared in a loop, not through memcmp (which the sanitizer
        // intercepts and range-checks on every call).
        return c.staticString.withUTF8Buffer { p in
            r.withUTF8 { q in
                guard p.count == q.count else { return false }
                for i in 0..<p.count where p[i] != q[i] { return false }
                return true
            }
        }
    }
}

extension RefPolicy {
    init(_ p: PinPolicy) {
        switch p {
        case .openbsd: self = .openbsd
        case .strict: self = .strict
        case .msyscall: self = .msyscall
        case .libsys: self = .libsys
        }
    }
    /// The core's policies the reference models, so the ones a target may compare: all of them.
    static let comparable: [PinPolicy] = [.openbsd, .strict, .msyscall, .libsys]
}

extension RefSpan {
    init(_ t: TextSpan) { self.init(start: t.start, end: t.end) }
}

extension RefEntry {
    init(_ s: SyscallSite) { self.init(offset: s.offset, sysno: s.sysno) }
}

extension RefStepResult {
    /// The core's result is this one: `RefStepResult(r) == self` without building the converted
    /// copy.
    func matches(_ r: StepResult) -> Bool {
        switch r {
        case .dead: return self == .deadStep
        case .decided(let v, let writes):
            return !dead && !skipped && verdict.matches(v) && RefCompare.sameWrites(writes, self.writes)
        }
    }

    init(_ r: StepResult) {
        switch r {
        case .dead: self = .deadStep
        case .decided(let v, let writes):
            self = .decided(RefVerdict(v), writes.map { RefWrite(address: $0.address, bytes: $0.bytes) })
        }
    }
}

extension RefPhdr {
    init(_ p: ProgramHeader) {
        self.init(
            type: p.type.rawValue, flags: p.flags, offset: p.offset, vaddr: p.vaddr, paddr: p.paddr, filesz: p.filesz,
            memsz: p.memsz, align: p.align)
    }
}

extension RefMapping {
    init(_ m: MemoryMapping) { self.init(start: m.start, end: m.end, writable: m.writable) }
}

extension FuzzReader {
    /// A policy from two bits (issue 11 item 5): `low` is the bit that chose openbsd/strict before
    /// the region policies existed, so inputs with `high` clear keep their meaning.
    static func policy(low: Bool, high: Bool) -> PinPolicy {
        RefPolicy.comparable[(low ? 1 : 0) + (high ? 2 : 0)]
    }

    /// The preamble of the process targets' inputs (FuzzKbind, FuzzPinsyscalls): an arch byte,
    /// then a flags byte whose bits `low` and `high` draw the policy.
    mutating func processPreamble(policyLow low: UInt8, high: UInt8) -> (arch: Arch, mask: UInt64, page: UInt64, flags: UInt8, policy: PinPolicy) {
        let arch = self.arch()
        let flags = u8()
        return (arch, arch.addressMask, arch.pageSize, flags, Self.policy(low: flags & low != 0, high: flags & high != 0))
    }
}

/// The comparable part of an installed table: bounds and pins (the strict site sets are compared
/// through their decisions, `RefProbes`).
struct PlainTable: Equatable, CustomStringConvertible {
    var start: UInt64
    var end: UInt64
    var pins: [UInt32]

    init(_ r: PinRegion) { (start, end, pins) = (r.start, r.end, r.pins) }
    init(_ t: RefTable) { (start, end, pins) = (t.start, t.end, t.pins) }

    var description: String {
        let set = pins.indices.filter { pins[$0] != 0 }.prefix(8).map { "\($0):0x\(String(pins[$0], radix: 16))" }
        return "[0x\(String(start, radix: 16)), 0x\(String(end, radix: 16))) npins \(pins.count) \(set)"
    }
}

func describe(_ t: PlainTable?) -> String { t.map { $0.description } ?? "none" }

enum RefCompare {
    /// The core's values against the reference's, element by element (no converted copy):
    /// records, program headers.
    static func same<C, R>(_ core: [C], _ ref: [R], _ equal: (C, R) -> Bool) -> Bool {
        guard core.count == ref.count else { return false }
        for i in core.indices where !equal(core[i], ref[i]) { return false }
        return true
    }

    static func sameEntries(_ core: [SyscallSite], _ ref: [RefEntry]) -> Bool {
        same(core, ref) { $0.offset == $1.offset && $0.sysno == $1.sysno }
    }

    /// Two pins arrays are equal (`==`), compared as one block of memory: a table has up to 331
    /// pins, and an element-by-element loop in the fuzz build pays a sanitizer check per element.
    static func samePins(_ a: [UInt32], _ b: [UInt32]) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBytes { x in b.withUnsafeBytes { y in x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 } }
    }

    static func samePins(_ a: [UInt32]?, _ b: [UInt32]?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case (let a?, let b?): return samePins(a, b)
        default: return false
        }
    }

    /// kbind's writes, the bytes compared in place (neither side copies them out).
    static func sameWrites(_ core: [KbindWrite], _ ref: [RefWrite]) -> Bool {
        same(core, ref) { $0.address == $1.address && $0.hasBytes($1.piece) }
    }

    /// A table of the core against the reference's: presence, bounds, every pin (`PlainTable`'s
    /// equality, field by field).
    static func sameTable(_ core: PinRegion?, _ ref: RefTable?) -> Bool {
        switch (core, ref) {
        case (nil, nil): return true
        case (let c?, let r?): return c.start == r.start && c.end == r.end && samePins(c.pins, r.pins)
        default: return false
        }
    }

    static func samePhdrs(_ core: [ProgramHeader], _ ref: [RefPhdr]) -> Bool { same(core, ref) { RefPhdr($0) == $1 } }

    /// A table of the core against the reference's: presence, bounds, every pin.
    static func tables(_ core: PinRegion?, _ ref: RefTable?, _ id: String, _ at: @autoclosure () -> String) throws(InvariantViolation) {
        try require(
            sameTable(core, ref), id,
            "\(at()): core table \(describe(core.map(PlainTable.init))), reference \(describe(ref.map(PlainTable.init)))")
    }

    /// A verdict of the core against the reference's.
    static func verdicts(_ core: Verdict, _ ref: RefVerdict, _ id: String, _ at: @autoclosure () -> String) throws(InvariantViolation) {
        try require(ref.matches(core), id, "\(at()): core \(core), reference \(ref)")
    }

    /// A core rejection/success against the reference's.
    static func results<A, B>(
        _ core: Result<A, ExecRejection>, _ ref: Result<B, RefFailure>, _ id: String, _ at: @autoclosure () -> String
    ) throws(InvariantViolation) {
        let c: RefVerdict, r: RefVerdict
        switch core {
        case .success: c = .ok
        case .failure(let e): c = RefVerdict(e.verdict)
        }
        switch ref {
        case .success: r = .ok
        case .failure(let f): r = f.verdict
        }
        try require(c == r, id, "\(at()): core \(c), reference \(r)")
    }
}

/// A process run through the core (`ProcessState.syscall`) and the reference (`RefProcess.step`)
/// side by side; every step's result, signal, rule and writes, and the state after it, must agree.
struct Lockstep {
    var core: ProcessState
    var ref: RefProcess
    /// Formatted only when an invariant fails.
    let label: Label
    var index = 0
    var pinsyscallsSuccesses = 0
    /// The reference's view of the core state that a step may change: both tables (presence,
    /// bounds, every pin), once-flag, kbind state, kill, libsys text and whose main table it is.
    func sameState() -> Bool {
        RefCompare.sameTable(core.main, ref.main) && RefCompare.sameTable(core.libc, ref.libc)
            && core.pinsyscallsUsed == ref.once && core.kbind.pc == ref.kbindPC && core.kbind.cookie == ref.kbindCookie
            && core.killedBy?.rawValue == ref.killedBy && core.trusted.libsys.map(RefSpan.init) == ref.libsysText
            && core.trusted.mainIsRuntimeLinker == ref.mainIsLdso
    }

    static func stateLine(_ c: ProcessState, _ r: RefProcess) -> String {
        "core main \(describe(c.main.map(PlainTable.init))) libc \(describe(c.libc.map(PlainTable.init))) once \(c.pinsyscallsUsed) kbind 0x\(String(c.kbind.pc, radix: 16))/\(c.kbind.cookie) killed \(c.killedBy?.name ?? "-") libsys \(c.trusted.libsys.map { "\($0)" } ?? "-") ld.so \(c.trusted.mainIsRuntimeLinker); "
            + "reference main \(describe(r.main.map(PlainTable.init))) libc \(describe(r.libc.map(PlainTable.init))) once \(r.once) kbind 0x\(String(r.kbindPC, radix: 16))/\(r.kbindCookie) killed \(r.killedBy.map { "\($0)" } ?? "-") libsys \(r.libsysText.map { "\($0)" } ?? "-") ld.so \(r.mainIsLdso)"
    }

    /// What messages name the run by, formatted only when an invariant fails.
    enum Label {
        /// "<arch> <policy>": a process target's label, kept as values (no closure context to
        /// allocate for every input).
        case archPolicy(Arch, PinPolicy)
        case text(() -> String)

        var text: String {
            switch self {
            case .archPolicy(let arch, let policy): return "\(arch.name) \(policy)"
            case .text(let f): return f()
            }
        }
    }

    init(core: ProcessState, ref: RefProcess, label: @escaping () -> String) throws(InvariantViolation) {
        try self.init(core: core, ref: ref, label: .text(label))
    }

    init(core: ProcessState, ref: RefProcess, label: Label) throws(InvariantViolation) {
        self.core = core
        self.ref = ref
        self.label = label
        try require(sameState(), "INV-REF-STATE", "\(label.text) at the start: \(Self.stateLine(core, ref))")
    }

    /// One step. `request` nil is a from_libc submission the core's ld.so declines (R-LD-4): no
    /// system call is made, as the scenario runner does.
    mutating func step(addr: UInt64, sysno: Int64, _ request: SyscallRequest?, _ refRequest: RefRequest) throws(InvariantViolation) {
        defer { index += 1 }
        let index = self.index, label = self.label
        func at() -> String { "\(label.text) step \(index) sysno \(sysno) at 0x\(String(addr, radix: 16))" }
        guard let request else {
            let got =
                core.killedBy != nil
                ? RefStepResult.deadStep
                : RefStepResult(dead: false, skipped: true, verdict: RefVerdict(errno: nil, signal: nil, rule: "R-LD-4"), writes: [])
            let want = ref.step(addr: addr, sysno: sysno, refRequest)
            try require(got == want, "INV-REF-STEP", "\(at()): core \(Self.show(got)), reference \(Self.show(want))")
            try require(sameState(), "INV-REF-STATE", "\(at()): \(Self.stateLine(core, ref))")
            // No system call was made: no writes, no submission (the facts below hold trivially).
            return
        }
        // The core's result is compared with the reference's as it is (`RefStepResult.matches`),
        // converted only for a message.
        let got = core.syscall(addr: addr, sysno: sysno, request)
        let want = ref.step(addr: addr, sysno: sysno, refRequest)
        try require(want.matches(got), "INV-REF-STEP", "\(at()): core \(Self.show(RefStepResult(got))), reference \(Self.show(want))")
        try require(sameState(), "INV-REF-STATE", "\(at()): \(Self.stateLine(core, ref))")
        guard case .decided(let verdict, let writes) = got else { return }  // dead: no writes, no submission
        // Facts of SPEC that hold whatever the models say (§12 I-3, I-6, I-7).
        try require(
            writes.isEmpty || verdict.isOK || verdict.rule == "R-KB-12", "INV-KBIND-WRITES",
            "\(at()): \(RefVerdict(verdict)) with \(writes.count) writes (I-6, I-7)")
        // Only a call the kernel ran as pinsyscalls counts (D-DISPATCH).
        if case .pinsyscalls = request.dispatched(code: core.arch.syscallCode(sysno)), verdict.isOK {
            pinsyscallsSuccesses += 1
            try require(pinsyscallsSuccesses <= 1, "INV-PIN-ONCE", "\(at()): a second successful pinsyscalls (I-3)")
        }
    }

    static func show(_ r: RefStepResult) -> String {
        if r.dead { return "dead" }
        if r.skipped { return "skipped" }
        let w = r.writes.map { "0x\(String($0.address, radix: 16))+\($0.bytes.count)" }
        return "\(r.verdict)\(w.isEmpty ? "" : " writes \(w)")"
    }
}

/// The pin check of the core against the reference's on probe addresses and codes derived from
/// the tables and the input, not a grid of addresses × codes (which cost (pins)² checks):
/// - the fixed addresses (0, the all-ones address, the trampoline, libsys's bounds ±1, every
///   region's bounds ±1) with each fixed code (1, kbind, sigreturn, pinsyscalls, 330, each npins);
/// - every site, core-recorded (a pinned slot) or reference-recorded (a strict site of a marker
///   slot), with its own code, that code ± 1 and the codes of the sites recorded before and after
///   it; its neighbours ±1 with its own code;
/// - `sampleSize` more pairs (plus one per extra code) drawn by `seed` (from the input:
///   `FuzzSeed.of`): an address row (a fixed address, or a site ±1) with a code of the pool (the
///   fixed codes, `extraCodes`, every site's code).
/// A fault a full grid finds at a site with its own code, with a code the table does not pin
/// there, with a neighbouring number, at a bound or at the trampoline is found here too; the
/// sample keeps the rest of the grid in play. The sites are counted, then kept in one buffer of
/// their size: on the stack for up to `stackSites` of them, else one heap allocation.
enum RefProbes {
    static let sampleSize = 32

    struct Site {
        var addr: UInt64
        var code: UInt32
    }

    /// The sites of up to this many entries live on the stack (1 KiB, the size
    /// `withUnsafeTemporaryAllocation` places there without asking the runtime); more take one
    /// heap buffer of exactly their count.
    static let stackSites = 64

    /// Each decision's verdict, indexed by the decision's raw value: taken from the core's own
    /// `PinDecision.verdict` once a process (the verdict is a function of the decision alone), so
    /// a probe compares the reference's verdict with its decision's row instead of building the
    /// core's verdict again: errno and signal as numbers, the rule as text (a rule id is a small
    /// string, and equal small strings compare in one comparison of their bits).
    static let verdicts: (numbers: [(errno: Int32?, signal: Int32?)], rules: [String?]) = {
        var numbers: [(errno: Int32?, signal: Int32?)] = [], rules: [String?] = []
        while let d = PinDecision(rawValue: UInt8(rules.count)) {
            let v = d.verdict
            numbers.append((v.errno?.rawValue, v.signal?.rawValue))
            rules.append(v.rule?.rawValue)
        }
        return (numbers, rules)
    }()

    static func pinCheck(
        libc: PinRegion?, refLibc: RefTable?, main: PinRegion?, refMain: RefTable?, sigtramp: UInt64?, arch: Arch,
        policy: PinPolicy, trusted: TrustedText = TrustedText(), extraCodes: [UInt32] = [], seed: UInt64,
        at: @autoclosure () -> String
    ) throws(InvariantViolation) {
        try extraCodes.withUnsafeBufferPointer { (extra) throws(InvariantViolation) in
            try pinCheck(
                libc: libc, refLibc: refLibc, main: main, refMain: refMain, sigtramp: sigtramp, arch: arch, policy: policy,
                trusted: trusted, extra: extra, seed: seed, at: at())
        }
    }

    /// `pinCheck` with the extra codes in a buffer (a caller's stack), so no array is built for them.
    static func pinCheck(
        libc: PinRegion?, refLibc: RefTable?, main: PinRegion?, refMain: RefTable?, sigtramp: UInt64?, arch: Arch,
        policy: PinPolicy, trusted: TrustedText, extra extraCodes: UnsafeBufferPointer<UInt32>, seed: UInt64,
        at: @autoclosure () -> String
    ) throws(InvariantViolation) {
        let mask = arch.addressMask
        let ra = RefArch(arch)
        let refPolicy = RefPolicy(policy)
        let refLibsys = trusted.libsys.map(RefSpan.init)
        let (numbers, rules) = Self.verdicts

        /// Both models' answers for one probe: the core's decision (`PinCheck.check` is its verdict)
        /// and the reference's verdict.
        func judge(_ a: UInt64, _ c: UInt32) -> (decision: PinDecision, ref: RefVerdict?) {
            let decision = PinCheck.decide(
                libc: libc, main: main, sigtramp: sigtramp, addr: a, code: c, mask: mask, policy: policy, trusted: trusted)
            let ref = RefPinCheck.check(
                libc: refLibc, main: refMain, sigtramp: sigtramp, addr: a, code: Int64(c), policy: refPolicy, arch: ra,
                libsys: refLibsys, mainIsLdso: trusted.mainIsRuntimeLinker)
            return (decision, ref)
        }

        // One copy of the check and the comparison, called from every probe below (not inlined at
        // each call: libFuzzer handles every executed edge per exec, and ten inlined copies of the
        // pin check were ten sets of edges). It captures no message: a function that captured
        // `at` had the label's context retained and released around each of its calls.
        @inline(never)
        func agrees(_ a: UInt64, _ c: UInt32) -> Bool {
            let (decision, ref) = judge(a, c)
            // The decision's verdict, converted once a process (`verdicts`).
            let i = Int(decision.rawValue), n = numbers[i]
            // nil is the reference's allow, which matches only the core's empty verdict.
            guard let ref else { return n.errno == nil && n.signal == nil && rules[i] == nil }
            return ref.errno == n.errno && ref.signal == n.signal && ref.rule == rules[i]
        }

        func probe(_ a: UInt64, _ c: UInt32) throws(InvariantViolation) {
            guard c >= 1 && c < 331 else { return }
            if !agrees(a, c) { throw mismatch(a, c) }
        }

        /// The INV-REF-PINCHECK violation of a probe that disagreed, both answers taken again for
        /// the message (formatted only when a probe fails).
        @inline(never)
        func mismatch(_ a: UInt64, _ c: UInt32) -> InvariantViolation {
            let (decision, ref) = judge(a, c)
            return InvariantViolation(
                "INV-REF-PINCHECK",
                "\(at()) \(policy) addr 0x\(String(a, radix: 16)) code \(c): core \(decision.verdict), reference \(ref ?? .ok)")
        }

        /// Whether the reference's site (code, addr) is a precise pin of the core's region, which
        /// the core's pins add as a site already.
        func isCorePin(_ r: PinRegion?, _ code: UInt32, _ addr: UInt64) -> Bool {
            guard let r, Int(code) < r.pins.count else { return false }
            let v = r.pins[Int(code)]
            return v != 0 && v != multipleSitesPin && r.site(of: v, mask: mask) == addr
        }
        /// The sites of one core region and its reference table: every pinned slot of the
        /// region, then the reference's sites the region's precise pins do not already give (a
        /// marker slot's recorded sites, or any the core lacks), written from `buffer[from]` on
        /// (nil: only counted). Returns how many there are.
        @inline(never)  // called four times: one copy of its loops' edges
        func sites(_ r: PinRegion?, _ t: RefTable?, into buffer: UnsafeMutableBufferPointer<Site>?, from: Int) -> Int {
            var n = from
            func add(_ s: Site) {
                if let buffer {
                    precondition(n < buffer.count)
                    buffer.initializeElement(at: n, to: s)
                }
                n += 1
            }
            if let r {
                r.pins.withUnsafeBufferPointer { pins in
                    for (code, v) in pins.enumerated() where v != 0 {
                        add(Site(addr: r.site(of: v, mask: mask), code: UInt32(code)))
                    }
                }
            }
            if let t {
                for x in t.sites {
                    let addr = (t.start &+ x.rel) & mask
                    if !isCorePin(r, x.sysno, addr) { add(Site(addr: addr, code: x.sysno)) }
                }
            }
            return n - from
        }

        // The sites, counted first so that they fit one buffer exactly: on the stack when there
        // are few (no allocation), else one heap buffer of their size (not one slot per pin: the
        // sanitizer fills the first 4 KiB of every allocation).
        let count = sites(libc, refLibc, into: nil, from: 0) + sites(main, refMain, into: nil, from: 0)
        if count <= stackSites {
            try withUnsafeTemporaryAllocation(of: Site.self, capacity: stackSites) { (buffer) throws(InvariantViolation) in
                try fill(buffer, count)
            }
        } else {
            let buffer = UnsafeMutableBufferPointer<Site>.allocate(capacity: count)
            defer { buffer.deallocate() }
            try fill(buffer, count)
        }

        func fill(_ buffer: UnsafeMutableBufferPointer<Site>, _ count: Int) throws(InvariantViolation) {
            let n = sites(libc, refLibc, into: buffer, from: 0)
            precondition(n + sites(main, refMain, into: buffer, from: n) == count)
            try withFixed(UnsafeBufferPointer(rebasing: buffer[..<count]))
        }

        func withFixed(_ sites: UnsafeBufferPointer<Site>) throws(InvariantViolation) {
            // The fixed addresses (at most 2 + 1 + 5 + 2 × 4) and codes (at most 5 + 2) on the stack.
            try withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 16) { (addrBuffer) throws(InvariantViolation) in
                try withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 7) { (codeBuffer) throws(InvariantViolation) in
                    var nAddrs = 0, nCodes = 0
                    // The capacities are the counts above exactly; the buffers are unchecked in release.
                    func addAddr(_ a: UInt64) {
                        precondition(nAddrs < addrBuffer.count)
                        addrBuffer[nAddrs] = a
                        nAddrs += 1
                    }
                    func addCode(_ c: UInt32) {
                        precondition(nCodes < codeBuffer.count)
                        codeBuffer[nCodes] = c
                        nCodes += 1
                    }
                    addAddr(0)
                    addAddr(mask)
                    addCode(1)
                    addCode(Sysno.kbind)
                    addCode(Sysno.sigreturn)
                    addCode(Sysno.pinsyscalls)
                    addCode(330)
                    if let t = sigtramp { addAddr(t) }
                    if let s = trusted.libsys {
                        addAddr(s.start & mask)
                        addAddr(s.end & mask)
                        addAddr((s.start &+ 1) & mask)
                        addAddr((s.end &- 1) & mask)
                        addAddr((s.start &- 1) & mask)
                    }
                    func addRegion(_ r: PinRegion?) {
                        guard let r else { return }
                        addAddr(r.start & mask)
                        addAddr(r.end & mask)
                        addAddr((r.start &+ 1) & mask)
                        addAddr((r.end &- 1) & mask)
                        addCode(UInt32(truncatingIfNeeded: r.pins.count))
                    }
                    addRegion(libc)
                    addRegion(main)
                    let fixedAddrs = UnsafeBufferPointer(rebasing: addrBuffer[..<nAddrs])
                    let fixedCodes = UnsafeBufferPointer(rebasing: codeBuffer[..<nCodes])
                    try probeAll(sites: sites, fixedAddrs: fixedAddrs, fixedCodes: fixedCodes)
                }
            }
        }

        func probeAll(
            sites: UnsafeBufferPointer<Site>, fixedAddrs: UnsafeBufferPointer<UInt64>, fixedCodes: UnsafeBufferPointer<UInt32>
        ) throws(InvariantViolation) {
            for a in fixedAddrs {
                for c in fixedCodes { try probe(a, c) }
            }
            for (i, s) in sites.enumerated() {
                let before = sites[i == 0 ? sites.count - 1 : i - 1].code, after = sites[i + 1 == sites.count ? 0 : i + 1].code
                try probe(s.addr, s.code)
                try probe(s.addr, s.code &+ 1)
                try probe(s.addr, s.code &- 1)
                // The neighbouring sites' codes, unless a probe above already asked that (a dense
                // table's neighbours are code ± 1): the checks are pure, so a repeat adds nothing.
                func asked(_ x: UInt32) -> Bool { x == s.code || x == s.code &+ 1 || x == s.code &- 1 }
                if !asked(before) { try probe(s.addr, before) }
                if !asked(after) && after != before { try probe(s.addr, after) }
                try probe((s.addr &+ 1) & mask, s.code)
                try probe((s.addr &- 1) & mask, s.code)
            }
            // The rest of the grid, sampled: a row (a fixed address, or a site ±1) and a code of the
            // pool, deterministic per input (xorshift64).
            let rows = fixedAddrs.count + 3 * sites.count
            let pool = fixedCodes.count + extraCodes.count + sites.count
            var x = seed | 1
            for _ in 0..<(sampleSize + extraCodes.count) {
                x ^= x << 13
                x ^= x >> 7
                x ^= x << 17
                let k = Int(x % UInt64(rows))
                let a =
                    k < fixedAddrs.count
                    ? fixedAddrs[k] : (sites[(k - fixedAddrs.count) / 3].addr &+ UInt64((k - fixedAddrs.count) % 3) &- 1) & mask
                var j = Int((x >> 32) % UInt64(pool))
                let c: UInt32
                if j < fixedCodes.count {
                    c = fixedCodes[j]
                } else {
                    j -= fixedCodes.count
                    c = j < extraCodes.count ? extraCodes[j] : sites[j - extraCodes.count].code
                }
                try probe(a, c)
            }
        }
    }
}

/// A seed from an input's bytes (FNV-1a over its length and at most its first 256 bytes), for
/// the choices a target makes from the whole input rather than from a decoded field.
enum FuzzSeed {
    static func of(_ bytes: [UInt8]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(bytes.count)
        bytes.withUnsafeBufferPointer { p in
            for i in 0..<min(p.count, 256) { h = (h ^ UInt64(p[i])) &* 0x100_0000_01b3 }
        }
        return h
    }
}
