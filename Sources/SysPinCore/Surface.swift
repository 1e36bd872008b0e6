/// The attack surface of a process under each pin-check policy (`syspin surface`): for every
/// system-call number, the set of trap-instruction addresses from which the check would accept it,
/// and how many of those addresses hold a trap instruction an attacker who controls the program
/// counter could jump to ("gadgets"). docs/decisions.md D-SURFACE.

/// A trap instruction as it sits in memory, and the addresses at which the CPU can start it.
public struct TrapPattern: Hashable, Sendable {
    /// What the assembler is given (`clang --target=<arch>-unknown-openbsd`).
    public var assembly: String
    /// The encoding in the arch's byte order, as the assembler emits it (checked by
    /// TrapEncodingTests against the real assembler).
    public var bytes: [UInt8]
    /// The CPU can start an instruction at any address that is a multiple of this: 1 on
    /// amd64/i386 (so a `0f 05` or `cd 80` inside another instruction counts), 2 on riscv64 (RVC
    /// makes every 2-byte boundary an instruction boundary), 4 elsewhere.
    public var alignment: UInt64

    public init(assembly: String, bytes: [UInt8], alignment: UInt64) {
        self.assembly = assembly
        self.bytes = bytes
        self.alignment = alignment
    }
}

extension Arch {
    /// The trap libc's stubs use (lib/libc/arch/*/SYS.h; ci/seeds/<arch>.S), D-SURFACE.
    public var trap: TrapPattern {
        switch name {
        case "amd64": return TrapPattern(assembly: "syscall", bytes: [0x0F, 0x05], alignment: 1)
        case "i386": return TrapPattern(assembly: "int $0x80", bytes: [0xCD, 0x80], alignment: 1)
        case "arm64": return TrapPattern(assembly: "svc #0", bytes: [0x01, 0x00, 0x00, 0xD4], alignment: 4)
        case "armv7": return TrapPattern(assembly: "svc #0", bytes: [0x00, 0x00, 0x00, 0xEF], alignment: 4)
        case "riscv64": return TrapPattern(assembly: "ecall", bytes: [0x73, 0x00, 0x00, 0x00], alignment: 2)
        case "powerpc64", "powerpc": return TrapPattern(assembly: "sc", bytes: [0x44, 0x00, 0x00, 0x02], alignment: 4)
        case "sparc64": return TrapPattern(assembly: "t 0", bytes: [0x91, 0xD0, 0x20, 0x00], alignment: 4)
        case "mips64": return TrapPattern(assembly: "syscall", bytes: [0x00, 0x00, 0x00, 0x0C], alignment: 4)
        case "mips64el": return TrapPattern(assembly: "syscall", bytes: [0x0C, 0x00, 0x00, 0x00], alignment: 4)
        default: return TrapPattern(assembly: "?", bytes: [], alignment: 1)
        }
    }
}

/// One executable PT_LOAD of a loaded image and the gadgets in it.
public struct ExecutableRegion: Hashable, Sendable {
    /// "program", "ld.so", "libc" or "libsys".
    public var image: String
    public var span: TextSpan
    /// Addresses where the trap pattern starts at a position the CPU can execute, ascending.
    public var gadgets: [UInt64]
}

public enum GadgetScan {
    /// Every text PT_LOAD of `image` loaded at `loadBase` (0 for ET_EXEC), with its gadgets. Memory
    /// past p_filesz (or past the end of the file) is zero; every trap pattern has a non-zero
    /// byte, so only positions below p_filesz can start one.
    public static func scan(_ image: ElfImage, loadBase: UInt64, arch: Arch, name: String) -> [ExecutableRegion] {
        let pattern = arch.trap
        let mask = arch.addressMask
        let n = UInt64(pattern.bytes.count)
        return image.textLoads.map { ph in
            let start = (loadBase &+ ph.vaddr) & mask
            let span = TextSpan(start: start, end: (start &+ ph.memsz) & mask)
            var gadgets: [UInt64] = []
            let fileCount = UInt64(image.bytes.count)
            func byte(_ i: UInt64) -> UInt8 {
                guard i < ph.filesz, ph.offset <= fileCount, i < fileCount - ph.offset else { return 0 }
                return image.bytes[Int(ph.offset + i)]
            }
            let positions = min(ph.filesz, ph.memsz, fileCount)
            var i: UInt64 = 0
            while n > 0 && i < positions && n <= ph.memsz - i {
                let addr = (start &+ i) & mask
                if addr % pattern.alignment == 0 && (0..<n).allSatisfy({ byte(i + $0) == pattern.bytes[Int($0)] }) {
                    gadgets.append(addr)
                }
                i += 1
            }
            return ExecutableRegion(image: name, span: span, gadgets: gadgets)
        }
    }
}

/// The addresses from which one system-call number is accepted under one policy: whole spans
/// (a marker slot, or a region-granular policy) and single sites outside them.
public struct Reach: Hashable, Sendable {
    /// Sorted, disjoint, non-empty.
    public var spans: [TextSpan]
    /// Sorted, distinct, outside every span.
    public var sites: [UInt64]
    /// How many gadget addresses lie in `spans` or `sites`.
    public var gadgets: Int

    public static let none = Reach(spans: [], sites: [], gadgets: 0)

    public var isReachable: Bool { !spans.isEmpty || !sites.isEmpty }
    /// Bytes in the spans.
    public var spanBytes: UInt64 { spans.reduce(0) { $0 &+ $1.count } }
    /// Every accepted address: the span bytes plus the sites.
    public var addressCount: UInt64 { spanBytes &+ UInt64(sites.count) }

    /// Normalises `spans` (union) and `sites` (sorted, deduplicated, outside the spans) and
    /// counts the gadgets among them (`gadgets` sorted ascending).
    init(spans raw: [TextSpan], sites rawSites: [UInt64], gadgets sortedGadgets: [UInt64]) {
        var merged: [TextSpan] = []
        for s in raw.filter({ $0.count > 0 }).sorted() {
            if let last = merged.last, s.start <= last.end {
                merged[merged.count - 1].end = max(last.end, s.end)
            } else {
                merged.append(s)
            }
        }
        spans = merged
        var uniq: [UInt64] = []
        for a in rawSites.sorted() where uniq.last != a && !merged.contains(where: { $0.contains(a) }) { uniq.append(a) }
        sites = uniq
        var g = 0
        for s in merged { g += Self.lowerBound(sortedGadgets, s.end) - Self.lowerBound(sortedGadgets, s.start) }
        for a in uniq {
            let i = Self.lowerBound(sortedGadgets, a)
            if i < sortedGadgets.count && sortedGadgets[i] == a { g += 1 }
        }
        gadgets = g
    }

    init(spans: [TextSpan], sites: [UInt64], gadgets: Int) {
        self.spans = spans
        self.sites = sites
        self.gadgets = gadgets
    }

    /// The first index whose value is ≥ `v`.
    static func lowerBound(_ a: [UInt64], _ v: UInt64) -> Int {
        var lo = 0, hi = a.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if a[mid] < v { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}

/// One policy's surface: `reach[n]` for every number n in [0, SYS_MAXSYSCALL) (0 is never
/// reachable: R-PC-1 / R-PT-4).
public struct PolicySurface: Sendable {
    public var policy: PinPolicy
    public var reach: [Reach]
    /// The headline: Σ over numbers of the gadgets that accept it, i.e. the (system call,
    /// usable gadget) pairs.
    public var pairs: Int { reach.reduce(0) { $0 + $1.gadgets } }
}

/// A region a policy may trust, for the report.
public struct NamedSpan: Hashable, Sendable {
    public var name: String
    public var span: TextSpan
}

/// Where `SurfaceAnalysis` loads each image: fixed, distinct bases that fit every arch's user
/// space (a multiple of 1 MiB, so any p_align up to that keeps them aligned, D-PIE-BASE). An
/// ET_EXEC program is where its p_vaddr says.
public enum SurfaceLayout {
    public static let programBase: UInt64 = 0x2000_0000
    public static let ldsoBase: UInt64 = 0x4000_0000
    public static let libcBase: UInt64 = 0x5000_0000
    public static let libsysBase: UInt64 = 0x6000_0000
}

/// The images of one analysed process.
public struct SurfaceImages: Sendable {
    public var program: [UInt8]
    public var ldso: [UInt8]?
    public var libc: [UInt8]?
    public var libsys: [UInt8]?

    public init(program: [UInt8], ldso: [UInt8]? = nil, libc: [UInt8]? = nil, libsys: [UInt8]? = nil) {
        self.program = program
        self.ldso = ldso
        self.libc = libc
        self.libsys = libsys
    }
}

public struct Surface: Sendable {
    public var arch: Arch
    /// execve's verdict for the program (and ld.so); when it is not ok nothing is reachable.
    public var exec: Verdict
    public var execDetail: String?
    /// The regions the policies judge by: the program's or ld.so's pin region, libc's registered
    /// region, libsys's text (those the process has).
    public var trustRegions: [NamedSpan]
    public var executable: [ExecutableRegion]
    /// Every gadget, ascending.
    public var gadgets: [UInt64]
    public var policies: [PolicySurface]
    /// Why an image given took no part (libc of a static program, a table ld.so refuses, ...).
    public var notes: [String]

    public func policy(_ p: PinPolicy) -> PolicySurface? { policies.first { $0.policy == p } }
}

public enum SurfaceAnalysis {
    /// Execs the program (with ld.so), registers libc's table as ld.so would (§9, §6) and places
    /// libsys, once per policy, then derives every number's reach from the installed tables.
    public static func analyse(_ images: SurfaceImages, arch: Arch, config: KernelConfig = .openbsd) -> Surface {
        var notes: [String] = []
        func note(_ s: String) { if !notes.contains(s) { notes.append(s) } }
        let started = PinPolicy.allCases.map { ($0, process(images, arch: arch, config: config, policy: $0, note: note)) }
        let first = started[0].1
        var executable: [ExecutableRegion] = []
        if let plan = first.outcome.plan, first.state != nil {
            let programBase = plan.image.header.type == .dyn ? SurfaceLayout.programBase : 0
            executable += GadgetScan.scan(plan.image, loadBase: programBase, arch: arch, name: "program")
            if let l = first.outcome.interp {
                executable += GadgetScan.scan(l.image, loadBase: SurfaceLayout.ldsoBase, arch: arch, name: "ld.so")
            }
            let mapped: [(String, [UInt8]?, UInt64)] = [
                ("libc", plan.hasInterp ? images.libc : nil, SurfaceLayout.libcBase),
                ("libsys", images.libsys, SurfaceLayout.libsysBase),
            ]
            for (name, bytes, base) in mapped {
                guard let bytes, case .success(let image) = ExecRules.readImage(bytes, arch: arch, loader: .interpreter) else { continue }
                executable += GadgetScan.scan(image, loadBase: base, arch: arch, name: name)
            }
        }
        let gadgets = Array(Set(executable.flatMap(\.gadgets))).sorted()
        let policies = started.map { policy, p in
            PolicySurface(
                policy: policy,
                reach: p.state.map { s in reaches(s, policy: policy, gadgets: gadgets, config: config) }
                    ?? Array(repeating: .none, count: Int(config.maxSyscall)))
        }
        var trust: [NamedSpan] = []
        if let s = first.state {
            if let m = s.main { trust.append(NamedSpan(name: s.trusted.mainIsRuntimeLinker ? "ld.so" : "program", span: m.span)) }
            if let l = s.libc { trust.append(NamedSpan(name: "libc", span: l.span)) }
            if let t = s.trusted.libsys { trust.append(NamedSpan(name: "libsys", span: t)) }
        }
        return Surface(
            arch: arch, exec: first.outcome.verdict, execDetail: first.outcome.detail, trustRegions: trust,
            executable: executable, gadgets: gadgets, policies: policies, notes: notes)
    }

    /// The process `analyse` judges under `policy`: the program exec'd at `SurfaceLayout`'s bases
    /// with ld.so, libc registered by ld.so's submission, libsys's text trusted. `note` hears why
    /// an image took no part.
    public static func process(
        _ images: SurfaceImages, arch: Arch, config: KernelConfig = .openbsd, policy: PinPolicy,
        note: (String) -> Void = { _ in }
    ) -> (outcome: ExecOutcome, state: ProcessState?) {
        let (outcome, started) = ProcessModel.exec(
            program: images.program, base: SurfaceLayout.programBase, interpreter: images.ldso,
            interpreterBase: SurfaceLayout.ldsoBase, arch: arch, config: config, policy: policy)
        guard var state = started, let plan = outcome.plan else { return (outcome, nil) }
        if let libc = images.libc {
            registerLibc(libc, plan: plan, state: &state, arch: arch, config: config, policy: policy, note: note)
        }
        if let libsys = images.libsys {
            switch ExecRules.readImage(libsys, arch: arch, loader: .interpreter) {
            case .failure(let r): note("libsys: not loaded: \(r)")
            case .success(let image):
                state.trusted.libsys = image.textSpan(base: SurfaceLayout.libsysBase, mask: arch.addressMask)
                if state.trusted.libsys == nil { note("libsys: no executable PT_LOAD") }
            }
        }
        return (outcome, state)
    }

    /// ld.so's from_libc submission (§9), made once from ld.so's pinned site.
    static func registerLibc(
        _ libc: [UInt8], plan: ExecPlan, state: inout ProcessState, arch: Arch, config: KernelConfig, policy: PinPolicy,
        note: (String) -> Void
    ) {
        guard plan.hasInterp else {
            note("libc: not loaded: a static program has no ld.so to load and register it")
            return
        }
        switch ExecRules.readImage(libc, arch: arch, loader: .interpreter) {
        case .failure(let r):
            note("libc: not loaded: \(r)")
        case .success(let image):
            guard let call = LdsoPin.submission(libc: image, base: SurfaceLayout.libcBase, arch: arch, config: config, policy: policy)
            else {
                note("libc: ld.so makes no pinsyscalls submission (R-LD-4): libc's system calls have no region")
                return
            }
            let (v, region) = Pinsyscalls.call(
                call, threads: 1, onceFlag: &state.pinsyscallsUsed, arch: arch, config: config, policy: policy)
            if let region { state.libc = region } else { note("libc: pinsyscalls refused: \(v)") }
        }
    }

    /// Every number's reach in `state` under `policy`.
    public static func reaches(_ state: ProcessState, policy: PinPolicy, gadgets: [UInt64], config: KernelConfig) -> [Reach] {
        let mask = state.arch.addressMask
        let libcSites = state.libc.map { strictSites($0, mask: mask) } ?? [:]
        let mainSites = state.main.map { strictSites($0, mask: mask) } ?? [:]
        return (0..<Int(config.maxSyscall)).map { n -> Reach in
            guard n > 0 else { return .none }
            var spans: [TextSpan] = []
            var sites: [UInt64] = []
            switch policy {
            case .msyscall:
                spans = [state.libc?.span, state.main?.span].compactMap { $0 }
            case .libsys:
                spans = [state.trusted.libsys, state.trusted.mainIsRuntimeLinker ? state.main?.span : nil].compactMap { $0 }
            case .openbsd, .strict:
                // R-PC-4: libc's region decides for its addresses; the main region for the rest.
                let libcSpan = state.libc?.span
                if let l = state.libc {
                    let (s, p) = regionReach(l, n, policy: policy, strictSites: libcSites, mask: mask)
                    spans += s
                    sites += p
                }
                if let m = state.main {
                    let (s, p) = regionReach(m, n, policy: policy, strictSites: mainSites, mask: mask)
                    spans += s.flatMap { subtract(libcSpan, from: $0) }
                    sites += p.filter { libcSpan?.contains($0) != true }
                }
            }
            return Reach(spans: spans, sites: sites, gadgets: gadgets)
        }
    }

    /// What `region` accepts for `n` once it holds the address (§7.2 / D-STRICT).
    static func regionReach(
        _ region: PinRegion, _ n: Int, policy: PinPolicy, strictSites: [UInt32: [UInt64]], mask: UInt64
    ) -> ([TextSpan], [UInt64]) {
        let v = n < region.pins.count ? region.pins[n] : 0
        if policy == .strict && region.exactSites != nil {
            return ([], (strictSites[UInt32(n)] ?? []).filter { region.span.contains($0) })
        }
        if v == 0 { return ([], []) }
        if v == multipleSitesPin {
            // R-PC-8 under openbsd; under strict a marker slot with no recorded site accepts nothing.
            return policy == .openbsd ? ([region.span], []) : ([], [])
        }
        let site = region.site(of: v, mask: mask)
        return ([], region.span.contains(site) ? [site] : [])
    }

    /// The strict set's sites as addresses, by number.
    static func strictSites(_ region: PinRegion, mask: UInt64) -> [UInt32: [UInt64]] {
        var out: [UInt32: [UInt64]] = [:]
        for s in region.exactSites?.sites ?? [] { out[s.sysno, default: []].append((region.start &+ s.rel) & mask) }
        return out
    }

    /// `span` minus `hole` (zero, one or two pieces).
    static func subtract(_ hole: TextSpan?, from span: TextSpan) -> [TextSpan] {
        guard let h = hole, h.count > 0, h.start < span.end, span.start < h.end else { return [span] }
        return [TextSpan(start: span.start, end: h.start), TextSpan(start: h.end, end: span.end)].filter { $0.count > 0 }
    }
}
