import SysPinCore
import SysPinTesting

/// FuzzPintable: a 14-byte prefix chooses arch, loader, load base, span length and text delta;
/// the rest is the raw PT_OPENBSD_SYSCALLS segment → pins table and region.
public enum FuzzPintable {
    public static let prefixSize = 14

    struct Input {
        var arch: Arch
        var isLdso: Bool
        var base: UInt64
        var len: UInt64
        var delta: UInt64
        var segment: [UInt8]
    }

    static func decode(_ bytes: [UInt8]) -> Input {
        var r = FuzzReader(bytes)
        let arch = r.arch()
        let isLdso = r.bool()
        let base = (UInt64(r.u32()) << 12) & arch.addressMask  // a page-aligned load base
        let len = UInt64(r.u32())
        let delta = UInt64(r.u32()) % (len + 1)
        return Input(arch: arch, isLdso: isLdso, base: base, len: len, delta: delta, segment: r.rest())
    }

    public static func run(_ bytes: [UInt8]) throws(InvariantViolation) {
        let input = decode(bytes)
        let (arch, isLdso, base, len, delta, segment) = (input.arch, input.isLdso, input.base, input.len, input.delta, input.segment)
        let config = KernelConfig.openbsd

        let parse = PinTableReader.parse(
            filesz: UInt64(segment.count), available: segment, endian: arch.endian, isLdso: isLdso, len: len)
        let again = PinTableReader.parse(
            filesz: UInt64(segment.count), available: segment, endian: arch.endian, isLdso: isLdso, len: len)
        try require(parse == again, "INV-DETERMINISM", "pintable parse differs between two runs")

        // Naive validation: linear scan, rules in SPEC order.
        let entries = parse.entries
        var naiveRule: RuleID?
        if UInt64(segment.count) > config.maxPinTableBytes {
            naiveRule = "R-PT-1"
        } else if segment.count % 8 != 0 {
            naiveRule = "R-PT-2"
        } else if entries.contains(where: { $0.sysno == 0 || $0.sysno >= config.maxSyscall || UInt64($0.offset) > len }) {
            naiveRule = "R-PT-4"
        }
        switch parse {
        case .discarded(let rule, _):
            try require(rule == naiveRule, "INV-PT-VALIDATE", "core discarded by \(rule), naive says \(naiveRule?.rawValue ?? "valid")")
        case .table(_, let pins):
            try require(naiveRule == nil, "INV-PT-VALIDATE", "core built a table, naive discards by \(naiveRule!)")
            try PinInvariants.shape(pins, isLdso: isLdso)
            try require(entries.count == segment.count / 8, "INV-PT-ENTRIES", "\(entries.count) entries from \(segment.count) bytes")
            let region = PinRegion.adjusted(pins: pins, start: base, len: len, delta: delta, mask: arch.addressMask)
            try require(region.end == (base &+ len) & arch.addressMask, "INV-PT-REGION", "region end moved by rebasing (R-PT-9)")
            try PinInvariants.completeness(region: region, entries: entries, delta: delta, isLdso: isLdso, arch: arch)
            let naive = NaiveTable(sites: entries, loadBase: base, delta: delta, start: region.start, end: region.end, isLdso: isLdso)
            try require(naive.slotCount == pins.count, "INV-NAIVE-AGREE", "npins \(pins.count), naive \(naive.slotCount)")
            try PinInvariants.differential(libc: nil, naiveLibc: nil, main: region, naiveMain: naive, sigtramp: nil, arch: arch)
        }
    }
}
