/// A pinsyscalls(2) call's arguments (§6). `pins` is what the kernel can copy in: fewer than
/// `npins` values makes the copy fault (R-PIN-7).
public struct PinsyscallsCall: Hashable, Sendable {
    public var base: UInt64
    public var len: UInt64
    public var pins: [UInt32]
    public var npins: Int64
    /// Strict policy only (D-STRICT): the sites behind the marker slots, offsets relative to
    /// `base`. The kernel never sees them (it copies pins[] alone), so a submission without them
    /// gives its marker slots no site at all under strict.
    public var sites: [SyscallSite]?

    public init(base: UInt64, len: UInt64, pins: [UInt32], npins: Int64, sites: [SyscallSite]? = nil) {
        self.base = base
        self.len = len
        self.pins = pins
        self.npins = npins
        self.sites = sites
    }
}

public enum Pinsyscalls {
    /// sys_pinsyscalls, after the pin check passed (R-PIN-10). Returns the verdict and the libc
    /// region to install on success. `onceFlag` is read-and-set here (R-PIN-2).
    public static func call(
        _ c: PinsyscallsCall, threads: Int, onceFlag: inout Bool, arch: Arch,
        config: KernelConfig = .openbsd, policy: PinPolicy = .openbsd
    ) -> (Verdict, PinRegion?) {
        if threads > 1 { return (.fail(.EPERM, "R-PIN-1"), nil) }
        // R-PIN-2: a failed call after this point still burns the single use.
        let wasSet = onceFlag
        onceFlag = true
        if wasSet { return (.fail(.EPERM, "R-PIN-2"), nil) }
        let mask = arch.addressMask
        let base = c.base & mask, len = c.len & mask
        if base > mask - len { return (.fail(.EINVAL, "R-PIN-3"), nil) }
        // R-PIN-4: vm_map_min/vm_map_max of the process map (arch parameters).
        if base < arch.vmMinAddress || base + len > arch.vmMaxUserAddress {
            return (.fail(.EINVAL, "R-PIN-4"), nil)
        }
        // R-PIN-5: npins is a C int: the register's low 32 bits, read as signed.
        let npins = Int(Int32(truncatingIfNeeded: c.npins))
        if npins < 1 || npins > Int(config.maxSyscall) { return (.fail(.E2BIG, "R-PIN-5"), nil) }
        if c.pins.count < npins { return (.fail(.EFAULT, "R-PIN-7"), nil) }
        // The first npins values; the submitted array itself (shared, no copy) when it has no more.
        let pins = c.pins.count == npins ? c.pins : Array(c.pins.prefix(npins))
        for v in pins where v != 0 && v != multipleSitesPin && UInt64(v) > len {
            return (.fail(.ERANGE, "R-PIN-8"), nil)
        }
        // R-PIN-9: installed verbatim, no rebasing.
        let region = PinRegion(start: base, end: base + len, pins: pins)
        if policy == .strict {
            return (.ok, region.withStrictSites(recorded: c.sites ?? [], origin: base, mask: mask))
        }
        return (.ok, region)
    }
}

/// ld.so's conversion of libc.so's PT_OPENBSD_SYSCALLS into a pinsyscalls submission (§9).
public enum LdsoPin {
    /// Builds the submission for libc loaded at `base`, or nil when ld.so would skip it (R-LD-4).
    ///
    /// Decision (R-LD-3, UNVERIFIED): the same validation as the kernel's elf_read_pintable
    /// (size cap, multiple of 8, sysno in [1, SYS_MAXSYSCALL), offset ≤ len, duplicates → marker),
    /// with base/len normalised to libc's executable PT_LOAD span and pins rebased by
    /// text_start − load base, as R-PT-9 does (R-LD-1). Under the strict policy the call also
    /// carries the entries' sites relative to the submitted base (those below it can never be
    /// reached and are left out).
    public static func submission(
        libc image: ElfImage, base: UInt64, arch: Arch, config: KernelConfig = .openbsd,
        policy: PinPolicy = .openbsd
    ) -> PinsyscallsCall? {
        guard let seg = image.phdrs.last(where: { $0.type == .openbsdSyscalls }) else { return nil }
        let mask = arch.addressMask
        var textStart = UInt64.max
        var textEnd: UInt64 = 0
        for ph in image.phdrs where ph.type == .load && ph.isExecutable && !ph.isWritable {
            let start = ExecRules.trunc(ph.vaddr, ph.align)
            textStart = min(textStart, start)
            textEnd = max(textEnd, ph.vaddr &+ ph.memsz)
        }
        guard textStart < textEnd else { return nil }
        let parse = PinTableReader.parse(
            filesz: seg.filesz, available: image.bytesAvailable(offset: seg.offset, length: seg.filesz),
            endian: image.header.endian, isLdso: false, len: textEnd, config: config)
        guard let pins = parse.pins else { return nil }
        let region = PinRegion.adjusted(pins: pins, start: base & mask, len: textEnd, delta: textStart, mask: mask)
        var sites: [SyscallSite]?
        if policy == .strict {
            sites = parse.entries.compactMap { e in
                UInt64(e.offset) >= textStart
                    ? SyscallSite(offset: UInt32(UInt64(e.offset) - textStart), sysno: e.sysno) : nil
            }
        }
        return PinsyscallsCall(
            base: region.start, len: (region.end &- region.start) & mask, pins: region.pins,
            npins: Int64(region.pins.count), sites: sites)
    }
}
