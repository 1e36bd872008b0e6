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
        let readable = Array(available.prefix(Int(min(filesz, config.maxPinTableBytes + 8))))
        let entries = Self.entries(readable, endian: endian)
        if filesz > config.maxPinTableBytes { return .discarded(rule: "R-PT-1", entries: entries) }
        if filesz % 8 != 0 { return .discarded(rule: "R-PT-2", entries: entries) }
        if UInt64(available.count) < filesz { return .discarded(rule: "R-PT-3", entries: entries) }
        return build(entries: entries, isLdso: isLdso, len: len, config: config)
    }

    /// R-PT-4..8 over already-decoded entries (also used by ld.so's conversion, R-LD-3).
    public static func build(
        entries: [SyscallSite], isLdso: Bool, len: UInt64, config: KernelConfig = .openbsd
    ) -> PinTableParse {
        var maxSysno: UInt32 = 0
        for e in entries {
            // R-PT-4: sysno is unsigned, so the kernel's "<= 0" is "== 0". offset == len is accepted.
            if e.sysno == 0 || e.sysno >= config.maxSyscall || UInt64(e.offset) > len {
                return .discarded(rule: "R-PT-4", entries: entries)
            }
            maxSysno = max(maxSysno, e.sysno)
        }
        // R-PT-6 (an empty table still has one slot, R-PT-5).
        if isLdso { maxSysno = max(maxSysno, Sysno.kbind) }
        var pins = [UInt32](repeating: 0, count: Int(maxSysno) + 1)
        // R-PT-7: a second entry for a slot that is already non-zero makes it the marker.
        for e in entries {
            pins[Int(e.sysno)] = pins[Int(e.sysno)] != 0 ? multipleSitesPin : e.offset
        }
        // R-PT-8: ld.so's kbind slot is always the wildcard.
        if isLdso { pins[Int(Sysno.kbind)] = multipleSitesPin }
        return .table(entries: entries, pins: pins)
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

    public var npins: Int { pins.count }

    /// elf_adjustpins (R-PT-9): `delta` is a u_int, so the caller's pointer-width difference is
    /// truncated to 32 bits before anything else. Stored offsets are rebased by it with u32
    /// wrap-around; the region start moves up by it and the length shrinks by it (pointer width,
    /// wrapping, with the 32-bit delta zero-extended).
    public static func adjusted(
        pins: [UInt32], start: UInt64, len: UInt64, delta: UInt64, mask: UInt64
    ) -> PinRegion {
        let d32 = UInt32(truncatingIfNeeded: delta)
        var out = pins
        for i in out.indices where out[i] != 0 && out[i] != multipleSitesPin {
            out[i] = out[i] &- d32
        }
        let newStart = (start &+ UInt64(d32)) & mask
        let newLen = (len &- UInt64(d32)) & mask
        return PinRegion(start: newStart, end: (newStart &+ newLen) & mask, pins: out)
    }

    /// The address a precise pin `v` allows (R-PC-2 step "region.start + v", R-ARCH-2 widths).
    @inlinable
    public func site(of v: UInt32, mask: UInt64) -> UInt64 { (start &+ UInt64(v)) & mask }
}
