import PropertyBased
import SysPinCore
import SysPinTesting

/// One pinsyscalls(2) step: ld.so's own submission of libc's table, or a raw one.
public struct PinsyscallsStep: Sendable, CustomStringConvertible {
    public enum Source: Sendable {
        /// What ld.so builds from the scenario's libc (`LdsoPin.submission`).
        case fromLibc
        case raw(PinsyscallsCall)
    }
    public var source: Source
    /// The process's thread count (R-PIN-1).
    public var threads: Int
    /// Made from the pinned pinsyscalls site; otherwise from a site not pinned for it (a pin
    /// violation: the process dies before the submission is looked at, R-PIN-10).
    public var fromPinnedSite: Bool

    public var description: String {
        var s: String
        switch source {
        case .fromLibc: s = "pinsyscalls(from_libc)"
        case .raw(let c):
            let shown = c.pins.prefix(6).map { $0 == multipleSitesPin ? "M" : "0x" + hex(UInt64($0)) }
            s = "pinsyscalls(base 0x\(hex(c.base)), len 0x\(hex(c.len)), npins \(c.npins), pins[\(c.pins.count)] \(shown)\(c.pins.count > 6 ? "…" : ""))"
        }
        if threads != 1 { s += " threads \(threads)" }
        if !fromPinnedSite { s += " from an unpinned site" }
        return s
    }
}

/// kbind's memory in every generated process: pages of `arch.pageSize` at 0x3000_0000:
/// [0, 2) writable, [2, 3) unmapped, [3, 4) read-only, [4, 5) writable.
public enum KbindMemory {
    public static let start: UInt64 = 0x3000_0000

    public static func mappings(_ arch: Arch) -> [MemoryMapping] {
        let p = arch.pageSize
        return [
            MemoryMapping(start: start, end: start + 2 * p, writable: true),
            MemoryMapping(start: start + 3 * p, end: start + 4 * p, writable: false),
            MemoryMapping(start: start + 4 * p, end: start + 5 * p, writable: true),
        ]
    }
}

/// One kbind(2) call from one of the fixture ld.so's kbind sites.
public struct KbindStep: Sendable, CustomStringConvertible {
    /// Index into `LdsoFixture.kbindOffsets`.
    public var site: Int
    public var cookie: UInt64
    /// nil for a NULL pointer.
    public var param: [UInt8]?
    public var psize: UInt64
    /// The blocks the buffer was built from (addr, data), for the oracle; empty for NULL.
    public var blocks: [KbindBlockSpec]

    public var address: UInt64 { LdsoFixture.address(LdsoFixture.kbindOffsets[site]) }

    public var description: String {
        guard param != nil else { return "kbind(NULL) from site \(site)" }
        let b = blocks.map { "\($0.data.count)B@0x\(hex($0.addr))" }.joined(separator: ", ")
        return "kbind([\(b)], psize \(psize), cookie 0x\(hex(cookie))) from site \(site)"
    }
}

public struct KbindBlockSpec: Hashable, Sendable {
    public var addr: UInt64
    public var data: [UInt8]
}

/// A whole process: exec, then a sequence of system calls.
public struct ProcessScenario: Sendable, CustomStringConvertible {
    public enum Step: Sendable, CustomStringConvertible {
        case call(PinCall)
        case pinsyscalls(PinsyscallsStep)
        case kbind(KbindStep)

        public var description: String {
            switch self {
            case .call(let c): return "call " + c.description
            case .pinsyscalls(let p): return p.description
            case .kbind(let k): return k.description
            }
        }
    }

    /// `.libc`: a dynamic program with the fixture ld.so, this table being libc's (submitted only
    /// by a from_libc step). `.staticExec`: a static program whose table pins pinsyscalls too.
    public var table: PinTableSpec
    public var steps: [Step]

    public var isStatic: Bool { table.kind == .staticExec }

    /// Where this process's pinsyscalls calls come from.
    public var pinsyscallsSite: UInt64 {
        if isStatic, let e = table.entries.first(where: { $0.sysno == Sysno.pinsyscalls }) { return table.address(of: e) }
        return LdsoFixture.pinsyscallsSite
    }

    /// Where an unpinned pinsyscalls comes from: the exit site (a precise pin for another number).
    public var unpinnedSite: UInt64 {
        isStatic ? (table.regionEnd &- 1) & table.mask : LdsoFixture.address(0x4080)
    }

    public var description: String {
        "\(isStatic ? "static" : "dynamic") \(table); steps: " + steps.map(\.description).joined(separator: "; ")
    }

    /// execve only (libc's table is installed by a from_libc step, not here).
    public func exec(policy: PinPolicy) -> (ExecOutcome, ProcessState?) {
        let arch = table.arch
        if isStatic {
            return ProcessModel.exec(
                program: table.image(), interpreter: nil, arch: arch, sigtramp: table.sigtramp,
                mappings: KbindMemory.mappings(arch), policy: policy)
        }
        return ProcessModel.exec(
            program: ProgramFixture.image(arch), base: ProgramFixture.base, interpreter: LdsoFixture.image(arch),
            interpreterBase: LdsoFixture.base, arch: arch, sigtramp: table.sigtramp,
            mappings: KbindMemory.mappings(arch), policy: policy)
    }

    /// The request a pinsyscalls step makes, or nil when ld.so would skip it (R-LD-4).
    public func request(_ p: PinsyscallsStep, policy: PinPolicy) -> SyscallRequest? {
        switch p.source {
        case .raw(let c): return .pinsyscalls(c, threads: p.threads)
        case .fromLibc:
            guard case .success(let image) = ExecRules.readImage(table.image(), arch: table.arch, loader: .interpreter),
                let c = LdsoPin.submission(libc: image, base: table.origin, arch: table.arch, policy: policy)
            else { return nil }
            return .pinsyscalls(c, threads: p.threads)
        }
    }
}

public enum ProcessGen {
    /// A raw pinsyscalls submission with boundary values of every argument (R-PIN-3..8) around
    /// `near`, a plausible libc text start.
    public static func rawSubmission(arch: Arch, near: UInt64, _ rng: inout DrawSource) -> PinsyscallsCall {
        let mask = arch.addressMask
        let len: UInt64 = Draw.pick([0x4000, 0x8000, 0, 0x1000, mask], &rng)
        let base: UInt64
        switch Draw.weighted([60, 10, 10, 10, 10], &rng) {
        case 0: base = near
        case 1: base = 0  // below the map (R-PIN-4)
        case 2: base = (arch.vmMaxUserAddress &- Draw.u64(0...0x8000, &rng)) & mask  // past the top (R-PIN-4)
        case 3: base = (mask &- Draw.u64(0...0x100, &rng)) & mask  // wraps (R-PIN-3)
        default: base = Draw.u64(0...mask, &rng)
        }
        let maxSys = Int64(KernelConfig.openbsd.maxSyscall)
        let npins: Int64
        switch Draw.weighted([60, 10, 10, 10, 10], &rng) {
        case 0: npins = Int64(Draw.int(1...64, &rng))
        case 1: npins = maxSys
        case 2: npins = 0
        case 3: npins = maxSys + 1
        default: npins = -Int64(Draw.int(1...3, &rng))
        }
        let available = max(0, Int(min(npins, maxSys + 1)) - (Draw.chance(10, &rng) ? 1 : 0))
        var pins: [UInt32] = []
        for _ in 0..<available {
            switch Draw.weighted([55, 25, 10, 5, 5], &rng) {
            case 0: pins.append(0)
            case 1: pins.append(UInt32(truncatingIfNeeded: Draw.u64(1...max(1, min(len, 0xFFFF_FFFE)), &rng)))
            case 2: pins.append(multipleSitesPin)
            case 3: pins.append(UInt32(truncatingIfNeeded: min(len, 0xFFFF_FFFE)))
            default: pins.append(UInt32(truncatingIfNeeded: min(len &+ 1, 0xFFFF_FFFE)))
            }
        }
        return PinsyscallsCall(base: base, len: len, pins: pins, npins: npins)
    }

    public static func pinsyscallsStep(arch: Arch, near: UInt64, _ rng: inout DrawSource) -> PinsyscallsStep {
        let source: PinsyscallsStep.Source =
            Draw.chance(50, &rng) ? .raw(rawSubmission(arch: arch, near: near, &rng)) : .fromLibc
        let threads = Draw.chance(10, &rng) ? Draw.int(2...4, &rng) : 1
        return PinsyscallsStep(source: source, threads: threads, fromPinnedSite: !Draw.chance(5, &rng))
    }

    /// One kbind block placed at a boundary of `KbindMemory`: inside a writable page, across a
    /// page edge, across a mapping edge, in the hole, read-only, or an address R-KB-7 refuses.
    public static func kbindBlock(arch: Arch, size: Int, _ rng: inout DrawSource) -> KbindBlockSpec {
        let p = arch.pageSize
        let m = KbindMemory.start
        let n = UInt64(size)
        let addr: UInt64
        switch Draw.weighted([35, 15, 10, 10, 10, 10, 5, 5], &rng) {
        case 0: addr = m + Draw.u64(0...(2 * p - n), &rng)  // inside the first mapping
        case 1: addr = m + p - Draw.u64(1...max(1, n - 1), &rng)  // across its page edge
        case 2: addr = m + 2 * p - Draw.u64(1...max(1, n - 1), &rng)  // into the hole
        case 3: addr = m + 2 * p + Draw.u64(0...(p - n), &rng)  // in the hole
        case 4: addr = m + 3 * p + Draw.u64(0...(p - n), &rng)  // read-only
        case 5: addr = m + 4 * p - Draw.u64(1...max(1, n - 1), &rng)  // read-only into writable
        case 6: addr = 0  // R-KB-7
        default: addr = arch.vmMaxUserAddress - Draw.u64(0...n, &rng)  // R-KB-7 user limit
        }
        return KbindBlockSpec(addr: addr, data: Draw.bytes(size, &rng))
    }

    /// A kbind call: NULL, one or two blocks (data sizes mostly within KBIND_DATA_MAX), psize
    /// mostly exact, a cookie from a pool of two, from one of ld.so's kbind sites.
    public static func kbindStep(arch: Arch, _ rng: inout DrawSource) -> KbindStep {
        let site = Draw.int(0...(LdsoFixture.kbindOffsets.count - 1), &rng)
        let cookie: UInt64 = Draw.pick([0xC0_0C1E, 0xBAD_C0DE], &rng)
        if Draw.chance(10, &rng) {
            return KbindStep(site: site, cookie: cookie, param: nil, psize: 0, blocks: [])
        }
        let count = Draw.weighted([70, 25, 5], &rng) + 1
        var blocks: [KbindBlockSpec] = []
        var left = Kbind.dataMax
        for _ in 0..<count {
            let size = Draw.chance(5, &rng) ? Draw.int(1...40, &rng) : Draw.int(1...max(1, left), &rng)
            left = max(1, left - size)
            blocks.append(kbindBlock(arch: arch, size: size, &rng))
        }
        let param = KbindParamBuilder.encode(blocks.map { ($0.addr, $0.data) }, arch: arch)
        var psize = UInt64(param.count)
        if Draw.chance(10, &rng) { psize = UInt64(max(0, Int(psize) + Draw.pick([-1, 1, -8, 8], &rng))) }
        var buffer = param
        if Draw.chance(3, &rng) { buffer.removeLast(min(buffer.count, Draw.int(1...4, &rng))) }  // R-KB-6
        return KbindStep(site: site, cookie: cookie, param: buffer, psize: psize, blocks: blocks)
    }

    /// Whole process scenarios: a dynamic program (fixture ld.so, generated libc) or a static one
    /// (its table also pins pinsyscalls), then 1...`maxSteps` steps mixing plain calls,
    /// pinsyscalls submissions and kbind calls.
    public static func scenario(
        maxSteps: Int = 8, weights: (call: Int, pinsyscalls: Int, kbind: Int) = (3, 4, 3), staticPercent: Int = 20
    ) -> Generator<ProcessScenario, Shrink.None<ProcessScenario>> {
        let libcTables = PinTableGen.spec(kinds: [.libc], allowWild: true, maxEntries: 64)
        let staticTables = PinTableGen.spec(kinds: [.staticExec], maxEntries: 16)
        return Generator { rng in
            var table: PinTableSpec
            if Draw.chance(staticPercent, &rng) {
                table = staticTables.run(using: &rng)
                // The static program's own pinsyscalls stub (R-PT-16 makes its call EPERM).
                table.entries.append(SyscallSite(offset: UInt32(table.textVaddr + 8), sysno: Sysno.pinsyscalls))
            } else {
                table = libcTables.run(using: &rng)
            }
            var steps: [ProcessScenario.Step] = []
            for _ in 0..<Draw.int(1...maxSteps, &rng) {
                switch Draw.weighted([weights.call, weights.pinsyscalls, weights.kbind], &rng) {
                case 0: steps.append(.call(CallGen.call(for: table, &rng)))
                case 1: steps.append(.pinsyscalls(pinsyscallsStep(arch: table.arch, near: table.regionStart, &rng)))
                default: steps.append(.kbind(kbindStep(arch: table.arch, &rng)))
                }
            }
            return ProcessScenario(table: table, steps: steps)
        }
    }
}
