/// Which pin check a process gets. `openbsd` is the kernel's (§7.2); `strict` closes the
/// multiple-sites hole of R-PC-8 (README "Policies", docs/decisions.md D-STRICT); `msyscall` and
/// `libsys` are region-granular designs, judged by `RegionPolicies` (D-MSYSCALL, D-LIBSYS).
public enum PinPolicy: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// pin_check as OpenBSD runs it: a slot holding the multiple-sites marker accepts any address
    /// in its region.
    case openbsd
    /// A call is allowed only from a (sysno, site) pair the region's table recorded: every precise
    /// pin as the kernel keeps it, and for a slot holding the marker exactly the sites whose entries
    /// produced it. Everything the openbsd policy denies, strict denies too.
    case strict
    /// OpenBSD 6.7–7.3's msyscall(2) era: any number from any address in the program's (or
    /// ld.so's) text region or libc's registered region (D-MSYSCALL).
    case msyscall
    /// A model of FreeBSD's libsys proposal: any number, but only from the text of the scenario's
    /// libsys image or of the runtime linker; never from the program's own text (D-LIBSYS).
    case libsys

    public var description: String { rawValue }
}

/// One allowed call of a strict region: system call `sysno` from the address `start + rel`
/// (pointer-width arithmetic, R-ARCH-2).
public struct ExactSite: Hashable, Sendable, Comparable {
    public var sysno: UInt32
    public var rel: UInt64

    @inlinable
    public init(sysno: UInt32, rel: UInt64) {
        self.sysno = sysno
        self.rel = rel
    }

    public static func < (a: ExactSite, b: ExactSite) -> Bool {
        (a.sysno, a.rel) < (b.sysno, b.rel)
    }
}

/// The strict policy's exact site set: a two-choice cuckoo hash of (sysno, rel) pairs.
///
/// A lookup reads at most two slots (the key's two candidate positions), whatever the number of
/// sites, so the strict check stays O(1) with a bounded probe count (P6). The table has at least
/// twice as many slots as keys; an insertion that cannot settle after a bounded number of
/// evictions rebuilds the whole table with the next seed (and, after a few seeds, twice the size).
/// Seeds come from a fixed sequence, so a table is a pure function of its keys. The lookup is
/// `ExactSiteSlots.contains`, shared with the counting storage of P6.
public struct ExactSiteSet: Hashable, Sendable, ExactSiteSlots {
    /// Slot contents; an empty slot has `sysno == emptySysno` (no pins array is that long, and
    /// `contains` refuses that number: mips64 hands pin_check a code of 0xFFFFFFFF).
    @usableFromInline var slots: [ExactSite]
    @usableFromInline var seed: UInt64
    /// slots.count − 1 (slots.count is a power of two), or 0 for an empty table.
    @usableFromInline var indexMask: Int
    public private(set) var count: Int

    @usableFromInline static let emptySysno = UInt32.max
    static let maxKicks = 96
    static let seedsPerSize = 8

    /// The set of `keys`, which are sorted and deduplicated in place (no other array than the
    /// table is allocated when the caller hands over its only reference).
    public init(_ keys: consuming [ExactSite]) {
        var unique = keys
        unique.removeAll { $0.sysno == Self.emptySysno }
        unique.sort()
        // Duplicates are adjacent once sorted: keep the first of each run.
        var kept = 0
        for i in unique.indices where kept == 0 || unique[kept - 1] != unique[i] {
            unique[kept] = unique[i]
            kept += 1
        }
        unique.removeLast(unique.count - kept)
        count = unique.count
        seed = 0
        guard !unique.isEmpty else {
            slots = []
            indexMask = 0
            return
        }
        var size = 4
        while size < 2 * unique.count + 1 { size <<= 1 }
        var seedState: UInt64 = 0x5EED_5EED_5EED_5EED
        while true {
            for _ in 0..<Self.seedsPerSize {
                let s = splitmix64(&seedState)
                if let table = Self.fill(unique, size: size, seed: s) {
                    slots = table
                    seed = s
                    indexMask = size - 1
                    return
                }
            }
            size <<= 1
        }
    }

    /// The raw table and seed, for implementations of the same lookup elsewhere (the C twin in
    /// Benchmarks): slot i holds a site, or `sysno == UInt32.max` when empty; a key's slots are
    /// `positions` of fmix64(rel × 0x9E3779B97F4A7C15 ^ (sysno + seed)).
    public var slotTable: [ExactSite] { slots }

    @inlinable public var siteCount: Int { count }
    @inlinable public var hashSeed: UInt64 { seed }
    @inlinable public var slotMask: Int { indexMask }

    /// Masked by `slotMask` = slots.count − 1 in every lookup: no bounds check needed.
    @inlinable
    public func slot(_ i: Int) -> ExactSite { slots.withUnsafeBufferPointer { $0[i] } }

    /// All sites, sorted.
    public var sites: [ExactSite] {
        slots.filter { $0.sysno != Self.emptySysno }.sorted()
    }

    /// The key's two candidate slots, distinct whenever the table has two or more slots.
    @inlinable
    static func positions(sysno: UInt32, rel: UInt64, seed: UInt64, mask: Int) -> (Int, Int) {
        var h = rel &* 0x9E37_79B9_7F4A_7C15 ^ (UInt64(sysno) &+ seed)
        // fmix64 (MurmurHash3's finaliser).
        h ^= h >> 33
        h &*= 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h &*= 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        let a = Int(truncatingIfNeeded: h) & mask
        var b = Int(truncatingIfNeeded: h >> 32) & mask
        if b == a { b = a ^ 1 }
        return (a, b)
    }

    /// Cuckoo insertion of every key; nil when some key cannot settle.
    static func fill(_ keys: [ExactSite], size: Int, seed: UInt64) -> [ExactSite]? {
        var table = [ExactSite](repeating: ExactSite(sysno: emptySysno, rel: 0), count: size)
        let mask = size - 1
        for key in keys {
            let (a, b) = positions(sysno: key.sysno, rel: key.rel, seed: seed, mask: mask)
            if table[a].sysno == emptySysno {
                table[a] = key
                continue
            }
            if table[b].sysno == emptySysno {
                table[b] = key
                continue
            }
            // Evict occupants along a path; each evicted key moves to its other slot.
            var k = key
            var pos = a
            var settled = false
            for _ in 0..<maxKicks {
                swap(&k, &table[pos])
                let (c, d) = positions(sysno: k.sysno, rel: k.rel, seed: seed, mask: mask)
                pos = pos == c ? d : c
                if table[pos].sysno == emptySysno {
                    table[pos] = k
                    settled = true
                    break
                }
            }
            if !settled { return nil }
        }
        return table
    }
}

extension PinRegion {
    /// The strict policy's set for this region: every precise pin as the kernel stores it (so
    /// strict never allows what openbsd denies), and, for each slot holding the multiple-sites
    /// marker, the recorded sites of that system call. `recorded` offsets count from `origin`
    /// (the image's load base for a PT_OPENBSD_SYSCALLS table, the submission's base for
    /// pinsyscalls); a site at `origin + offset` is `origin + offset − start` past the start.
    public func strictSites(recorded: [SyscallSite], origin: UInt64, mask: UInt64) -> ExactSiteSet {
        // Counted first: one allocation of the keys' size (not a slot per pin and entry).
        var n = 0
        for v in pins where v != 0 && v != multipleSitesPin { n += 1 }
        for e in recorded where pins.count > Int(e.sysno) && pins[Int(e.sysno)] == multipleSitesPin { n += 1 }
        var keys: [ExactSite] = []
        keys.reserveCapacity(n)
        for (i, v) in pins.enumerated() where v != 0 && v != multipleSitesPin {
            keys.append(ExactSite(sysno: UInt32(i), rel: UInt64(v)))
        }
        for e in recorded where Int(e.sysno) < pins.count && pins[Int(e.sysno)] == multipleSitesPin {
            keys.append(ExactSite(sysno: e.sysno, rel: (origin &+ UInt64(e.offset) &- start) & mask))
        }
        return ExactSiteSet(keys)
    }

    /// This region with its strict site set attached (see `strictSites`).
    public func withStrictSites(recorded: [SyscallSite], origin: UInt64, mask: UInt64) -> PinRegion {
        var r = self
        r.exactSites = strictSites(recorded: recorded, origin: origin, mask: mask)
        return r
    }
}

/// SplitMix64 (Steele, Lea, Flood): the one small seeded generator the model and its tools share
/// (cuckoo seeds here, the property runner's case seeds, the ELF mutator's choices).
@inlinable
public func splitmix64(_ state: inout UInt64) -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}
