import SysPinCore
import SysPinTesting

// Shared vocabulary for the rule tests. Expectations in the tests are computed by hand from
// SPEC.md; these helpers only turn core results into comparable `Verdict` values.

let R = ProgramFlags.r
let RX = ProgramFlags.r | ProgramFlags.x
let RW = ProgramFlags.r | ProgramFlags.w
let RWX = ProgramFlags.r | ProgramFlags.w | ProgramFlags.x

func site(_ offset: UInt32, _ sysno: UInt32) -> SyscallSite { SyscallSite(offset: offset, sysno: sysno) }

/// The main loader's verdict (R-ELF-1..17): .ok or the errno and rule it returned.
func mainVerdict(
    _ bytes: [UInt8], _ arch: Arch, base: UInt64 = 0, openForWrite: Bool = false,
    config: KernelConfig = .openbsd
) -> Verdict {
    switch ExecLoaders.loadMain(bytes, arch: arch, base: base, openForWrite: openForWrite, config: config) {
    case .success: return .ok
    case .failure(let r): return r.verdict
    }
}

/// The main loader's plan; nil (and a recorded issue by the caller) when it rejected the image.
func mainPlan(_ bytes: [UInt8], _ arch: Arch, base: UInt64 = 0, config: KernelConfig = .openbsd) -> ExecPlan? {
    if case .success(let p) = ExecLoaders.loadMain(bytes, arch: arch, base: base, config: config) { return p }
    return nil
}

/// The interpreter loader's own verdict (before R-ELF-25 turns it into a kill).
func interpVerdict(_ bytes: [UInt8], _ arch: Arch, pos: UInt64 = 0, config: KernelConfig = .openbsd) -> Verdict {
    switch ExecLoaders.loadInterpreter(bytes, arch: arch, pos: pos, config: config) {
    case .success: return .ok
    case .failure(let r): return r.verdict
    }
}

func interpLoad(_ bytes: [UInt8], _ arch: Arch, pos: UInt64 = 0) -> InterpLoad? {
    if case .success(let l) = ExecLoaders.loadInterpreter(bytes, arch: arch, pos: pos) { return l }
    return nil
}

/// pin_check over explicit tables (§7.2).
func pinCheck(
    libc: PinRegion? = nil, main: PinRegion? = nil, sigtramp: UInt64? = nil, addr: UInt64, code: UInt32,
    arch: Arch = .amd64
) -> Verdict {
    PinCheck.check(libc: libc, main: main, sigtramp: sigtramp, addr: addr, code: code, mask: arch.addressMask)
}

extension StepResult {
    var writes: [KbindWrite]? {
        if case .decided(_, let w) = self { return w }
        return nil
    }
}

extension ElfBuilder {
    /// Inserts `segment` before the builder's own segments.
    func prepending(_ segment: Segment) -> ElfBuilder {
        var b = self
        b.segments.insert(segment, at: 0)
        return b
    }

    func appending(_ segment: Segment) -> ElfBuilder {
        var b = self
        b.segments.append(segment)
        return b
    }
}

/// A program header of `type` occupying no file bytes.
func raw(
    _ type: SegmentType, flags: UInt32 = R, offset: UInt64 = 0, vaddr: UInt64 = 0, filesz: UInt64 = 0,
    memsz: UInt64 = 0, align: UInt64 = 0
) -> ElfBuilder.Segment {
    .raw(ProgramHeader(type: type, flags: flags, offset: offset, vaddr: vaddr, filesz: filesz, memsz: memsz, align: align))
}

/// A load address for ET_DYN images that fits every arch's address space and page size.
let dynBase: UInt64 = 0x2000_0000

extension KbindWrite {
    /// An expected piece, for comparing with what kbind stored.
    init(address: UInt64, bytes: [UInt8]) {
        self = bytes.withUnsafeBytes { KbindWrite(address: address, bytes: $0) }
    }
}
