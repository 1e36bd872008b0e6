import SysPinCore
import SysPinReference

/// FuzzPintable: a 14-byte prefix chooses arch, loader, policy (flags bits 1–2, all four; bit 3
/// under strict: the region checked bare, with no site set attached), load base, span length and text
/// delta; the rest is the raw PT_OPENBSD_SYSCALLS segment → pins table and region, compared with
/// the reference's parse (INV-REF-PARSE: discard rule, entries, pins), its rebasing (INV-REF-REGION)
/// and its pin check on probes under the drawn policy (INV-REF-PINCHECK); plus I-1 (INV-NPINS,
/// INV-LDSO-KBIND) and INV-PIN-COMPLETE / INV-PIN-MISSING.
public enum FuzzPintable {
    public static let prefixSize = 14

    struct Input: Equatable {
        var arch: Arch
        var isLdso: Bool
        var policy: PinPolicy
        /// Under strict: check the region as installed without recorded sites (its precise pins
        /// only, `PinCheck` D-STRICT), which the reference sees as a site set built from no entries.
        var bare: Bool
        var base: UInt64
        var len: UInt64
        var delta: UInt64
        var segment: [UInt8]
    }

    static func decode(_ bytes: [UInt8]) -> Input {
        var r = FuzzReader(bytes)
        let arch = r.arch()
        let flags = r.u8()
        let isLdso = flags & 1 == 1
        let policy = FuzzReader.policy(low: flags & 2 != 0, high: flags & 4 != 0)  // bits the layout left unused
        let bare = flags & 8 != 0  // another unused bit
        let base = (UInt64(r.u32()) << 12) & arch.addressMask  // a page-aligned load base
        let len = UInt64(r.u32())
        let delta = UInt64(r.u32()) % (len + 1)
        return Input(arch: arch, isLdso: isLdso, policy: policy, bare: bare, base: base, len: len, delta: delta, segment: r.rest())
    }

    public static func run(_ bytes: [UInt8]) throws(InvariantViolation) {
        let input = decode(bytes)
        let (arch, isLdso, base, len, delta, segment) = (input.arch, input.isLdso, input.base, input.len, input.delta, input.segment)
        let ra = RefArch(arch)
        // Formatted only when an invariant fails.
        func at() -> String {
            "\(arch.name) \(isLdso ? "ld.so" : "static") len 0x\(String(len, radix: 16)) delta 0x\(String(delta, radix: 16))"
        }

        let parse = PinTableReader.parse(
            filesz: UInt64(segment.count), available: segment, endian: arch.endian, isLdso: isLdso, len: len)
        var ref = RefPins.parse(filesz: UInt64(segment.count), available: segment, bigEndian: ra.bigEndian, isLdso: isLdso, len: len)
        var rule: String?
        if case .discarded(let r, _) = parse { rule = r.rawValue }
        try require(rule == ref.discardedBy, "INV-REF-PARSE", "\(at()): core \(rule ?? "built"), reference \(ref.discardedBy ?? "built")")
        try require(RefCompare.sameEntries(parse.entries, ref.entries), "INV-REF-PARSE", "\(at()): entries differ (\(parse.entries.count) vs \(ref.entries.count))")
        try require(RefCompare.samePins(parse.pins, ref.pins), "INV-REF-PARSE", "\(at()): pins differ (npins \(parse.pins?.count ?? 0) vs \(ref.pins?.count ?? 0))")
        // Both pins arrays are taken out of their parses, so each is rebased in place (its only
        // reference) rather than copied.
        guard case .table(let entries, let pins) = consume parse, let refPins = ref.pins else { return }
        ref.pins = nil
        try PinInvariants.shape(pins, isLdso: isLdso)
        let mask = arch.addressMask
        var region = PinRegion.adjusted(pins: consume pins, start: base, len: len, delta: delta, mask: mask)
        let r = RefPins.rebase(consume refPins, start: base, len: len, delta: delta, arch: ra)
        let bare = input.policy == .strict && input.bare
        let sites = RefPins.strictSites(pins: r.pins, start: r.start, recorded: bare ? [] : ref.entries, origin: base, arch: ra)
        // Only the strict policy asks the reference whether a site was recorded: the others
        // get no set of the sites (one allocation and a hash per site saved).
        let refTable = RefTable(start: r.start, end: r.end, pins: r.pins, sites: sites, indexed: input.policy == .strict)
        try RefCompare.tables(region, refTable, "INV-REF-REGION", at())
        try PinInvariants.completeness(region: region, entries: entries, delta: delta, isLdso: isLdso, arch: arch)
        if input.policy == .strict && !bare {
            region = region.withStrictSites(recorded: entries, origin: base, mask: mask)
        }
        try RefProbes.pinCheck(
            libc: nil, refLibc: nil, main: region, refMain: refTable, sigtramp: nil, arch: arch, policy: input.policy,
            trusted: TrustedText(mainIsRuntimeLinker: isLdso), seed: FuzzSeed.of(bytes), at: at())
    }
}
