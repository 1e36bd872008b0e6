import PropertyBased
import SysPinCore
import SysPinTesting

/// Which loader path a generated table goes through.
public enum ImageKind: String, CaseIterable, Sendable, CustomStringConvertible {
    /// A static ET_EXEC: table read at exec with load base 0 (R-PT-11).
    case staticExec
    /// A static PIE at a load base (R-PT-11).
    case staticPIE
    /// ld.so's own table, read by the interpreter loader (R-PT-12; kbind is always the marker).
    case ldso
    /// libc.so's table, submitted by ld.so with pinsyscalls (§9, §6), next to the fixture ld.so.
    case libc

    public var description: String { rawValue }
}

/// Where an image is loaded: a low page, or just under the arch's top of user memory.
public enum BaseChoice: Hashable, Sendable {
    case low(UInt64)
    /// `pages` granules of 16 KiB below VM_MAXUSER_ADDRESS, rounded down.
    case high(pages: UInt64)
}

/// The signal trampoline's trap address, relative to what the case has.
public enum SigtrampChoice: Hashable, Sendable {
    case none
    /// Outside every region (0x7000_0100).
    case outside
    /// Inside the generated region, `rel` past its start (R-PC-5: the region decides).
    case inside(rel: UInt64)
}

/// The ld.so every dynamic case uses when it does not generate its own: loaded at 0x6000_0000,
/// text one 16 KiB granule in, with pinsyscalls, three kbind sites, exit, and getpid twice
/// (a marker slot), all relative to its load base.
public enum LdsoFixture {
    public static let base: UInt64 = 0x6000_0000
    public static let textVaddr: UInt64 = 0x4000
    public static let textSize: UInt64 = 0x4000
    public static let pinsyscallsOffset: UInt32 = 0x4010
    public static let kbindOffsets: [UInt32] = [0x4020, 0x4040, 0x4060]
    public static let entries: [SyscallSite] =
        [SyscallSite(offset: pinsyscallsOffset, sysno: Sysno.pinsyscalls)]
        + kbindOffsets.map { SyscallSite(offset: $0, sysno: Sysno.kbind) }
        + [SyscallSite(offset: 0x4080, sysno: Sysno.exit), SyscallSite(offset: 0x40A0, sysno: 20),
           SyscallSite(offset: 0x40C0, sysno: 20)]

    public static func image(_ arch: Arch) -> [UInt8] {
        ElfBuilder.ldso(arch: arch, textVaddr: textVaddr, textMemsz: textSize, sites: entries).build()
    }

    public static func address(_ offset: UInt32) -> UInt64 { base + UInt64(offset) }
    public static var pinsyscallsSite: UInt64 { address(pinsyscallsOffset) }
    public static var regionStart: UInt64 { base + textVaddr }
    public static var regionEnd: UInt64 { base + textVaddr + textSize }
}

/// A dynamic program (static-PIE layout plus PT_INTERP) for cases that need ld.so; its own
/// table, if any, is ignored by the kernel (R-ELF-16).
public enum ProgramFixture {
    public static let base: UInt64 = 0x0100_0000
    public static func image(_ arch: Arch) -> [UInt8] { ElfBuilder.dynamicExec(arch: arch).build() }
}

/// A pin table as a linker would record it, the image that carries it, where it is loaded, and
/// the trampoline. Offsets are image-relative (absolute addresses for ET_EXEC, R-PT-11/12).
public struct PinTableSpec: Sendable, CustomStringConvertible {
    public var arch: Arch
    public var kind: ImageKind
    public var baseChoice: BaseChoice
    /// The text PT_LOAD's p_vaddr (a multiple of 16 KiB, so page-aligned on every arch).
    public var textVaddr: UInt64
    /// The text PT_LOAD's p_memsz.
    public var textSize: UInt64
    public var entries: [SyscallSite]
    public var sigtrampChoice: SigtrampChoice
    /// Whether entries may break R-PT-4 or lie outside the text (at its first byte, below it, at
    /// or past its end).
    public var wild: Bool

    public init(
        arch: Arch, kind: ImageKind, baseChoice: BaseChoice, textVaddr: UInt64, textSize: UInt64,
        entries: [SyscallSite], sigtrampChoice: SigtrampChoice = .none, wild: Bool = false
    ) {
        self.arch = arch
        self.kind = kind
        self.baseChoice = baseChoice
        self.textVaddr = textVaddr
        self.textSize = textSize
        self.entries = entries
        self.sigtrampChoice = sigtrampChoice
        self.wild = wild
    }

    public var mask: UInt64 { arch.addressMask }

    /// The load base offsets count from (0 for ET_EXEC).
    public var origin: UInt64 {
        switch baseChoice {
        case _ where kind == .staticExec: return 0
        case .low(let b): return b & mask
        case .high(let pages):
            let top = arch.vmMaxUserAddress & ~UInt64(0x3FFF)
            return (top - pages * 0x4000) & mask
        }
    }

    /// The region the table covers once installed, computed from the layout alone:
    /// [origin + p_vaddr, origin + p_vaddr + p_memsz) (text is page-aligned in every case).
    public var regionStart: UInt64 { (origin &+ textVaddr) & mask }
    public var regionEnd: UInt64 { (origin &+ textVaddr &+ textSize) & mask }

    public var sigtramp: UInt64? {
        switch sigtrampChoice {
        case .none: return nil
        case .outside: return 0x7000_0100
        case .inside(let rel): return (regionStart &+ rel % max(textSize, 1)) & mask
        }
    }

    /// The address of an entry's trap instruction.
    public func address(of e: SyscallSite) -> UInt64 { (origin &+ UInt64(e.offset)) & mask }

    /// True when R-PT-4 accepts every entry (sysno in [1, SYS_MAXSYSCALL), offset ≤ len).
    public var satisfiesRPT4: Bool {
        let len = textVaddr + textSize
        return entries.allSatisfy { $0.sysno != 0 && $0.sysno < KernelConfig.openbsd.maxSyscall && UInt64($0.offset) <= len }
    }

    /// The image carrying the table, built by `ElfBuilder`.
    public func image() -> [UInt8] {
        let text = (vaddr: textVaddr, memsz: textSize)
        switch kind {
        case .staticExec: return ElfBuilder.staticExec(arch: arch, text: text, sites: entries).build()
        case .staticPIE: return ElfBuilder.staticPIE(arch: arch, text: text, sites: entries).build()
        case .ldso: return ElfBuilder.ldso(arch: arch, textVaddr: textVaddr, textMemsz: textSize, sites: entries).build()
        case .libc:
            return ElfBuilder.sharedLibrary(arch: arch, textVaddr: textVaddr, textMemsz: textSize, sites: entries).build()
        }
    }

    /// The same table and layout on another arch.
    public func on(_ other: Arch) -> PinTableSpec {
        var s = self
        s.arch = other
        return s
    }

    public var description: String {
        var s = "\(arch) \(kind)"
        if kind != .staticExec { s += " base 0x\(hex(origin))" }
        s += " text [0x\(hex(regionStart)), 0x\(hex(regionEnd)))"
        if wild { s += " wild" }
        s += " entries[\(entries.count)]:"
        s += entries.isEmpty ? " none" : " " + entries.map { "\($0.sysno)@0x\(hex(address(of: $0)))" }.joined(separator: " ")
        if let t = sigtramp { s += " sigtramp 0x\(hex(t))" }
        return s
    }
}

/// A process started from a `PinTableSpec`, and the tables an oracle can judge it by.
public struct StartedProcess: Sendable {
    public var state: ProcessState?
    public var exec: ExecOutcome
    /// The pinsyscalls verdict of the libc case (nil for other kinds, or when ld.so skipped it).
    public var libcSubmission: Verdict?
}

/// A table as the oracle sees it: its region and every (sysno, address) the linker recorded.
public struct RecordedTable: Sendable {
    public var name: String
    public var start: UInt64
    public var end: UInt64
    public var sites: Set<SiteKey>

    public func covers(_ addr: UInt64) -> Bool { start <= addr && addr < end }
}

public struct SiteKey: Hashable, Sendable {
    public var sysno: UInt32
    public var addr: UInt64
    public init(sysno: UInt32, addr: UInt64) {
        self.sysno = sysno
        self.addr = addr
    }
}

extension PinTableSpec {
    /// execve of the case (and, for libc, ld.so's from_libc submission from its pinned site; under
    /// the libsys policy the library is also the process's libsys).
    public func start(policy: PinPolicy) -> StartedProcess {
        let img = image()
        switch kind {
        case .staticExec, .staticPIE:
            let (o, s) = ProcessModel.exec(
                program: img, base: origin, interpreter: nil, arch: arch, sigtramp: sigtramp, policy: policy)
            return StartedProcess(state: s, exec: o)
        case .ldso:
            let (o, s) = ProcessModel.exec(
                program: ProgramFixture.image(arch), base: ProgramFixture.base, interpreter: img,
                interpreterBase: origin, arch: arch, sigtramp: sigtramp, policy: policy)
            return StartedProcess(state: s, exec: o)
        case .libc:
            let (o, started) = ProcessModel.exec(
                program: ProgramFixture.image(arch), base: ProgramFixture.base, interpreter: LdsoFixture.image(arch),
                interpreterBase: LdsoFixture.base, arch: arch, sigtramp: sigtramp, policy: policy)
            guard var s = started else { return StartedProcess(state: nil, exec: o) }
            guard case .success(let libc) = ExecRules.readImage(img, arch: arch, loader: .interpreter) else {
                return StartedProcess(state: s, exec: o)
            }
            // Under libsys (D-LIBSYS) the generated library is the one that carries the stubs.
            if policy == .libsys { s.trusted.libsys = libc.textSpan(base: origin, mask: mask) }
            guard let call = LdsoPin.submission(libc: libc, base: origin, arch: arch, policy: policy) else {
                return StartedProcess(state: s, exec: o)
            }
            let v = s.syscall(addr: LdsoFixture.pinsyscallsSite, sysno: Int64(Sysno.pinsyscalls), .pinsyscalls(call, threads: 1))
            return StartedProcess(state: s, exec: o, libcSubmission: v.verdict)
        }
    }

    /// The recorded tables in pin_check's precedence order (libc first, R-PC-4), keeping only
    /// those the process has installed.
    public func recordedTables(in state: ProcessState) -> [RecordedTable] {
        let mine = RecordedTable(
            name: kind == .libc ? "libc" : kind == .ldso ? "ld.so" : "program", start: regionStart, end: regionEnd,
            sites: Set(entries.map { SiteKey(sysno: $0.sysno, addr: address(of: $0)) }))
        switch kind {
        case .staticExec, .staticPIE, .ldso:
            return state.main != nil ? [mine] : []
        case .libc:
            var out: [RecordedTable] = []
            if state.libc != nil { out.append(mine) }
            if state.main != nil {
                out.append(
                    RecordedTable(
                        name: "ld.so", start: LdsoFixture.regionStart, end: LdsoFixture.regionEnd,
                        sites: Set(LdsoFixture.entries.map { SiteKey(sysno: $0.sysno, addr: LdsoFixture.address($0.offset)) })))
            }
            return out
        }
    }
}

/// Generators of pin tables, images and processes.
public enum PinTableGen {
    /// A table for any arch, class and byte order, of 0 to SYS_MAXSYSCALL entries with frequent
    /// duplicate system calls, in an image of one of `kinds`.
    ///
    /// Tame tables (`wild` false) hold what a linker emits: valid numbers, and sites strictly inside
    /// the text, never on its first byte, which the kernel's encoding cannot pin (offset 0 and
    /// offset == delta both read as "no pin", R-PT-7 B, R-PT-9 D). With `allowWild`, a quarter of
    /// the tables also get entries on that first byte, below or past the text, or with sysno 0 or
    /// ≥ SYS_MAXSYSCALL (which discard the table, R-PT-4).
    public static func spec(
        kinds: [ImageKind] = ImageKind.allCases, archs: [Arch] = Arch.all, allowWild: Bool = false,
        maxEntries: Int = Int(KernelConfig.openbsd.maxSyscall)
    ) -> Generator<PinTableSpec, Shrink.None<PinTableSpec>> {
        Generator { rng in
            let arch = Draw.pick(archs, &rng)
            let kind = Draw.pick(kinds, &rng)
            let granule: UInt64 = 0x4000
            let textVaddr: UInt64
            switch kind {
            case .staticExec: textVaddr = granule * Draw.u64(16...1024, &rng)
            case .staticPIE: textVaddr = granule * Draw.u64(0...8, &rng)
            case .ldso, .libc: textVaddr = granule * Draw.u64(1...8, &rng)
            }
            let pages = Draw.u64(1...6, &rng)
            let textSize = pages * granule - (Draw.chance(30, &rng) ? Draw.u64(1...0x3F0, &rng) : 0)
            let baseChoice: BaseChoice =
                Draw.chance(25, &rng)
                ? .high(pages: Draw.u64(16...64, &rng))
                : .low(0x0200_0000 + granule * Draw.u64(0...0x3800, &rng))
            let wild = allowWild && Draw.chance(25, &rng)
            let maxSys = KernelConfig.openbsd.maxSyscall
            let buckets = [0...4, 5...24, 25...100, 101...Int(maxSys)].compactMap { r -> ClosedRange<Int>? in
                r.lowerBound <= maxEntries ? r.lowerBound...min(r.upperBound, maxEntries) : nil
            }
            let count = Draw.int(buckets[Draw.weighted(Array([35, 35, 15, 15].prefix(buckets.count)), &rng)], &rng)
            let pool = (0..<Draw.int(1...6, &rng)).map { _ in Draw.u32(1...(maxSys - 1), &rng) }
            let special: [UInt32] = [Sysno.kbind, Sysno.sigreturn, Sysno.pinsyscalls, Sysno.exit]
            var entries: [SyscallSite] = []
            for _ in 0..<count {
                var sysno: UInt32
                switch Draw.weighted([60, 30, 10], &rng) {
                case 0: sysno = Draw.pick(pool, &rng)
                case 1: sysno = Draw.u32(1...(maxSys - 1), &rng)
                default: sysno = Draw.pick(special, &rng)
                }
                var offset = UInt32(textVaddr + 1 + Draw.u64(0...(textSize - 2), &rng))
                if !entries.isEmpty && Draw.chance(8, &rng) {
                    // The same record twice (R-PT-7 A).
                    entries.append(Draw.pick(entries, &rng))
                    continue
                }
                if wild && Draw.chance(10, &rng) {
                    let len = textVaddr + textSize
                    switch Draw.int(0...6, &rng) {
                    case 0: offset = UInt32(textVaddr)
                    case 1: offset = UInt32(Draw.u64(0...max(textVaddr, 1) - 1, &rng))
                    case 2: offset = UInt32(len)
                    case 3: offset = UInt32(len + Draw.u64(1...0x1000, &rng))
                    case 4: sysno = 0
                    case 5: sysno = maxSys + Draw.u32(0...100, &rng)
                    default: offset = UInt32(textVaddr) &- 1  // becomes the marker when rebased (R-PT-9 E)
                    }
                }
                entries.append(SyscallSite(offset: offset, sysno: sysno))
            }
            let sigtramp: SigtrampChoice
            switch Draw.weighted([40, 45, 15], &rng) {
            case 0: sigtramp = .none
            case 1: sigtramp = .outside
            default: sigtramp = .inside(rel: Draw.u64(0...(textSize - 1), &rng))
            }
            return PinTableSpec(
                arch: arch, kind: kind, baseChoice: baseChoice, textVaddr: textVaddr, textSize: textSize,
                entries: entries, sigtrampChoice: sigtramp, wild: wild)
        }
    }
}
