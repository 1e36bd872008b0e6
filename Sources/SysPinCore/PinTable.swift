/// One record of a PT_OPENBSD_SYSCALLS segment: the trap instruction's image-relative offset and
/// the system-call number it makes (§2.1: u32 offset at +0, u32 sysno at +4, image byte order).
public struct SyscallSite: Hashable, Sendable {
    public var offset: UInt32
    public var sysno: UInt32
    public init(offset: UInt32, sysno: UInt32) {
        self.offset = offset
        self.sysno = sysno
    }
    public static let byteSize: UInt64 = 8
}

/// The pin value meaning "permitted from any address in the region" (R-PT-7, R-PC-8).
public let multipleSitesPin: UInt32 = 0xFFFF_FFFF

/// The result of reading a pin table segment (R-PT-1..8).
public enum PinTableParse: Hashable, Sendable {
    /// The kernel silently drops the table; `rule` says why, `entries` what could be read.
    case discarded(rule: RuleID, entries: [SyscallSite])
    /// A built table: `pins[sysno]` is 0, `multipleSitesPin`, or an offset (not yet rebased).
    case table(entries: [SyscallSite], pins: [UInt32])

    public var entries: [SyscallSite] {
        switch self {
        case .discarded(_, let e), .table(let e, _): return e
        }
    }

    public var pins: [UInt32]? {
        if case .table(_, let p) = self { return p }
        return nil
    }
}

public enum PinTableReader {
    /// Decodes as many whole entries as the bytes hold (never more than `limit` bytes' worth).
    public static func entries(_ bytes: [UInt8], endian: Endian) -> [SyscallSite] {
        let v = ByteView(bytes, endian: endian)
        let n = bytes.count / 8
        var out: [SyscallSite] = []
        out.reserveCapacity(n)
        for i in 0..<n {
            let o = UInt64(i) * 8
            out.append(SyscallSite(offset: v.u32(o)!, sysno: v.u32(o + 4)!))
        }
        return out
    }

    /// The whole entries of the `length` bytes at `offset` that lie inside `view` (a prefix when
    /// the segment runs past the end), decoded in place: the same result as `entries` over
    /// `ElfImage.bytesAvailable`, without the copy.
    public static func entries(in view: ByteView, offset: UInt64, length: UInt64) -> [SyscallSite] {
        guard offset < view.count else { return [] }
        let n = min(length, view.count - offset) / 8
        var out: [SyscallSite] = []
        out.reserveCapacity(Int(n))
        func u32(_ at: UInt64) -> UInt32 {
            UInt32(truncatingIfNeeded: ByteView.decode(view.bytes, at: Int(at), width: 4, endian: view.endian))
        }
        for i in 0..<n {
            let o = offset + i * 8
            out.append(SyscallSite(offset: u32(o), sysno: u32(o + 4)))
        }
        return out
    }

    /// elf_read_pintable: validate and build the pins array.
    /// - Parameters:
    ///   - filesz: the segment's p_filesz, compared in full width (R-ELF-29) before any read.
    ///   - available: the bytes of the segment that lie inside the file (may be fewer than filesz).
    ///   - len: the region length offsets are bounded by (R-PT-4).
    public static func parse(
        filesz: UInt64, available: [UInt8], endian: Endian, isLdso: Bool, len: UInt64,
        config: KernelConfig = .openbsd
    ) -> PinTableParse {
        // Only decode what the kernel could have read; the cap keeps the work bounded.
        let entries = Self.entries(
            in: ByteView(available, endian: endian), offset: 0, length: min(filesz, config.maxPinTableBytes + 8))
        if let rule = readRule(filesz: filesz, available: UInt64(available.count), config: config) {
            return .discarded(rule: rule, entries: entries)
        }
        return build(entries: entries, isLdso: isLdso, len: len, config: config)
    }

    /// R-PT-1..3, decided on the header's p_filesz before any byte is read: the rule that discards
    /// a segment of `filesz` bytes of which `available` lie inside the file, nil when it can be read.
    static func readRule(filesz: UInt64, available: UInt64, config: KernelConfig) -> RuleID? {
        if filesz > config.maxPinTableBytes { return "R-PT-1" }
        if filesz % 8 != 0 { return "R-PT-2" }
        if available < filesz { return "R-PT-3" }
        return nil
    }

    /// R-PT-4..8 over already-decoded entries (also used by ld.so's conversion, R-LD-3).
    public static func build(
        entries: [SyscallSite], isLdso: Bool, len: UInt64, config: KernelConfig = .openbsd
    ) -> PinTableParse {
        guard let maxSysno = maxSysno(entries, isLdso: isLdso, len: len, config: config) else {
            return .discarded(rule: "R-PT-4", entries: entries)
        }
        return .table(entries: entries, pins: pins(entries, maxSysno: maxSysno, isLdso: isLdso, config: config))
    }

    /// R-PT-4..6: the highest number the pins array needs a slot for, nil when an entry is out of
    /// range (R-PT-4 discards the table).
    static func maxSysno<Entries: Collection<SyscallSite>>(
        _ entries: Entries, isLdso: Bool, len: UInt64, config: KernelConfig
    ) -> UInt32? {
        var maxSysno: UInt32 = 0
        for e in entries {
            // R-PT-4: sysno is unsigned, so the kernel's "<= 0" is "== 0". offset == len is accepted.
            if e.sysno == 0 || e.sysno >= config.maxSyscall || UInt64(e.offset) > len {
                return nil
            }
            maxSysno = max(maxSysno, e.sysno)
        }
        // R-PT-6 (an empty table still has one slot, R-PT-5).
        if isLdso { maxSysno = max(maxSysno, Sysno.kbind) }
        return maxSysno
    }

    /// R-PT-7/8: the pins array of entries that passed `maxSysno` (one allocation).
    static func pins<Entries: Collection<SyscallSite>>(
        _ entries: Entries, maxSysno: UInt32, isLdso: Bool, config: KernelConfig
    ) -> [UInt32] {
        var pins = zeroedPins(count: Int(maxSysno) + 1)
        pins.withUnsafeMutableBufferPointer { pins in
            // R-PT-7: a second entry for a slot that is already non-zero makes it the marker.
            for e in entries {
                precondition(Int(e.sysno) < pins.count)
                pins[Int(e.sysno)] = pins[Int(e.sysno)] != 0 ? multipleSitesPin : e.offset
            }
            // R-PT-8: ld.so's kbind slot is always the wildcard.
            precondition(!isLdso || Int(Sysno.kbind) < pins.count)
            if isLdso { pins[Int(Sysno.kbind)] = multipleSitesPin }
        }
        return pins
    }

    /// `count` zero slots in one allocation. Reserving first keeps the allocation specialised in
    /// this module; `Array(repeating:count:)` goes through the stdlib's generic path, which looks
    /// the array's storage type up at run time on every call.
    @inline(__always)
    static func zeroedPins(count: Int) -> [UInt32] {
        var pins: [UInt32] = []
        pins.reserveCapacity(count)
        if count <= zeros.count {
            // One copy, from a buffer: appending the ArraySlice goes through its generic copy.
            zeros.withUnsafeBufferPointer { pins.append(contentsOf: UnsafeBufferPointer(rebasing: $0[..<count])) }
        } else {
            pins.append(contentsOf: repeatElement(0, count: count))
        }
        return pins
    }

    /// Enough zero slots for every table of SYS_MAXSYSCALL (331) numbers.
    static let zeros = [UInt32](repeating: 0, count: 512)

    /// elf_read_pintable and elf_adjustpins as the loaders run them (R-PT-1..9), reading the
    /// segment in place: R-PT-1..3 on p_filesz before any read, R-PT-4..8 over the {offset, sysno}
    /// records decoded straight from the image, and one allocation, the pins array, rebased in
    /// place into the region [start + delta, start + len). The entries and the unrebased pins are
    /// not materialised: `PinTableRead.parse` produces them on demand, with the same result as
    /// `parse` over the segment's bytes.
    static func read(
        _ bytes: [UInt8], at segment: ProgramHeader, endian: Endian, isLdso: Bool, len: UInt64,
        start: UInt64, delta: UInt64, mask: UInt64, config: KernelConfig
    ) -> (table: PinTableRead, region: PinRegion?) {
        func table(_ rule: RuleID?) -> PinTableRead {
            PinTableRead(
                bytes: bytes, offset: segment.offset, filesz: segment.filesz, endian: endian, isLdso: isLdso, len: len,
                config: config, discardedBy: rule)
        }
        let count = UInt64(bytes.count)
        let available = segment.offset < count ? min(segment.filesz, count - segment.offset) : 0
        if let rule = readRule(filesz: segment.filesz, available: available, config: config) {
            return (table(rule), nil)
        }
        // The whole segment lies inside the file and is a whole number of records (checked above).
        let n = Int(segment.filesz / SyscallSite.byteSize)
        func validate<Records: Collection<SyscallSite>>(_ records: Records) -> [UInt32]? {
            guard let maxSysno = maxSysno(records, isLdso: isLdso, len: len, config: config) else { return nil }
            return Self.pins(records, maxSysno: maxSysno, isLdso: isLdso, config: config)
        }
        // One loop per byte order, so the byte swap is not decided per record.
        let pins: [UInt32]? = bytes.withUnsafeBytes { raw in
            let at = n == 0 ? 0 : Int(segment.offset)
            return endian == .little
                ? validate(PinRecords<LittleEndianOrder>(raw: raw, start: at, count: n))
                : validate(PinRecords<BigEndianOrder>(raw: raw, start: at, count: n))
        }
        guard let pins else { return (table("R-PT-4"), nil) }
        return (table(nil), PinRegion.adjusted(pins: pins, start: start, len: len, delta: delta, mask: mask))
    }
}

/// The {offset, sysno} records of a pin table segment that lies inside `bytes`, decoded in place
/// on each access (no copy of the segment, no entries array).
struct PinRecords<Order: ByteOrder>: RandomAccessCollection {
    /// The image's bytes, borrowed for the read.
    let raw: UnsafeRawBufferPointer
    /// Byte offset of the first record; checked here that `count` records fit.
    let start: Int
    let count: Int

    init(raw: UnsafeRawBufferPointer, start: Int, count: Int) {
        precondition(count == 0 || (start >= 0 && start <= raw.count && count <= (raw.count - start) / 8))
        self.raw = raw
        self.start = start
        self.count = count
    }

    var startIndex: Int { 0 }
    var endIndex: Int { count }

    @inline(__always)
    subscript(i: Int) -> SyscallSite {
        precondition(i >= 0 && i < count)
        let x = raw.loadUnaligned(fromByteOffset: start + i * 8, as: (UInt32, UInt32).self)
        return SyscallSite(offset: Order.decode(x.0), sysno: Order.decode(x.1))
    }
}

/// A pin table as a loader read it: where the segment lies in the image and what elf_read_pintable
/// decided. `parse` materialises the entries (and, for a built table, the unrebased pins) on
/// demand; the loader's own work stops at the region.
public struct PinTableRead: Sendable {
    let bytes: [UInt8]
    let offset: UInt64
    let filesz: UInt64
    let endian: Endian
    let isLdso: Bool
    let len: UInt64
    let config: KernelConfig
    /// The rule that discarded the table (R-PT-1..4), nil when it was built.
    public internal(set) var discardedBy: RuleID?

    /// What `PinTableReader.parse` returns for the segment's bytes: the entries the kernel could
    /// have read (up to the R-PT-1 cap plus one record) and the verdict `read` reached.
    public var parse: PinTableParse {
        let entries = PinTableReader.entries(
            in: ByteView(bytes, endian: endian), offset: offset, length: min(filesz, config.maxPinTableBytes + 8))
        if let rule = discardedBy { return .discarded(rule: rule, entries: entries) }
        return PinTableReader.build(entries: entries, isLdso: isLdso, len: len, config: config)
    }
}

/// A pinned region as the kernel keeps it (ps_pin / ps_libcpin): [start, end) and the pins array,
/// values relative to `start`. The check path (`PinCheck`) reads it with one index and one compare.
public struct PinRegion: Hashable, Sendable {
    public var start: UInt64
    public var end: UInt64
    public var pins: [UInt32]
    /// The strict policy's exact (sysno, site) set; nil under the openbsd policy, which never
    /// reads it (`PinRegion.strictSites`, D-STRICT).
    public var exactSites: ExactSiteSet?

    public init(start: UInt64, end: UInt64, pins: [UInt32], exactSites: ExactSiteSet? = nil) {
        self.start = start
        self.end = end
        self.pins = pins
        self.exactSites = exactSites
    }

    /// Inlinable: the pin check reads it through `PinStorage` on every call, and a caller in
    /// another module (the benchmarks, the fuzzers, the scenario runner) otherwise calls a getter.
    @inlinable public var npins: Int { pins.count }

    /// elf_adjustpins (R-PT-9): `delta` is a u_int, so the caller's pointer-width difference is
    /// truncated to 32 bits before anything else. Stored offsets are rebased by it with u32
    /// wrap-around; the region start moves up by it and the length shrinks by it (pointer width,
    /// wrapping, with the 32-bit delta zero-extended).
    /// `pins` is consumed: a caller that hands over its only reference (the loaders) has it
    /// rebased in place, without a copy.
    public static func adjusted(
        pins: consuming [UInt32], start: UInt64, len: UInt64, delta: UInt64, mask: UInt64
    ) -> PinRegion {
        let d32 = UInt32(truncatingIfNeeded: delta)
        var out = consume pins
        out.withUnsafeMutableBufferPointer { out in
            // Every slot is written (unchanged when it is 0 or the marker), so the loop has no
            // branch and is vectorised.
            for i in out.indices {
                let v = out[i]
                out[i] = v != 0 && v != multipleSitesPin ? v &- d32 : v
            }
        }
        let newStart = (start &+ UInt64(d32)) & mask
        let newLen = (len &- UInt64(d32)) & mask
        return PinRegion(start: newStart, end: (newStart &+ newLen) & mask, pins: out)
    }

    /// The address a precise pin `v` allows (R-PC-2 step "region.start + v", R-ARCH-2 widths).
    @inlinable
    public func site(of v: UInt32, mask: UInt64) -> UInt64 { (start &+ UInt64(v)) & mask }
}
