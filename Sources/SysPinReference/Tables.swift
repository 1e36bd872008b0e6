/// One PT_OPENBSD_SYSCALLS record: {offset u32, sysno u32} in the image's byte order (§2.1).
public struct RefEntry: Equatable, Sendable {
    public var offset: UInt32
    public var sysno: UInt32
    public init(offset: UInt32, sysno: UInt32) {
        self.offset = offset
        self.sysno = sysno
    }
}

/// One allowed (sysno, address − region start) pair of the strict policy (D-STRICT).
public struct RefSite: Hashable, Sendable {
    public var sysno: UInt32
    public var rel: UInt64
    public init(sysno: UInt32, rel: UInt64) {
        self.sysno = sysno
        self.rel = rel
    }
}

/// An installed table (ps_pin or ps_libcpin): region [start, end), pins relative to start, and the
/// strict policy's recorded sites.
public struct RefTable: Equatable, Sendable {
    public var start: UInt64
    public var end: UInt64
    public var pins: [UInt32]
    /// The recorded sites, in order.
    public var sites: [RefSite] { didSet { siteSet = Self.index(sites) } }
    /// The same sites as a set when there are more than `scanLimit`: D-STRICT asks only whether a
    /// (code, rel) pair was recorded, and a membership test keeps the pin check's cost flat in the
    /// table's size (a scan of every site per check made a fuzz input with a full table cost
    /// (sites)² comparisons). A few sites are scanned: building a set of them cost more (an
    /// allocation and a hash per site) than the scans it saves.
    public private(set) var siteSet: Set<RefSite>?
    public static let scanLimit = 16

    public init(start: UInt64, end: UInt64, pins: [UInt32], sites: [RefSite]) {
        self.init(start: start, end: end, pins: pins, sites: sites, indexed: true)
    }

    /// `indexed` false: no set is built now, for a table whose sites only the strict policy asks
    /// about (`records` then scans them); a later change of `sites` builds it as usual.
    public init(start: UInt64, end: UInt64, pins: [UInt32], sites: [RefSite], indexed: Bool) {
        self.start = start
        self.end = end
        self.pins = pins
        self.sites = sites
        self.siteSet = indexed ? Self.index(sites) : nil
    }

    /// Equal bounds, pins and sites (the set is derived from the sites).
    public static func == (a: RefTable, b: RefTable) -> Bool {
        a.start == b.start && a.end == b.end && a.pins == b.pins && a.sites == b.sites
    }

    static func index(_ sites: [RefSite]) -> Set<RefSite>? { sites.count > scanLimit ? Set(sites) : nil }

    /// D-STRICT: the pair was recorded.
    public func records(_ site: RefSite) -> Bool {
        if let siteSet { return siteSet.contains(site) }
        return sites.contains(site)
    }
}

/// The result of elf_read_pintable (R-PT-1..8).
public struct RefParse: Equatable, Sendable {
    /// CONTRACT `entries`: whole pairs in the first min(p_filesz, 5304) readable bytes.
    public var entries: [RefEntry]
    /// The rule that discarded the table, nil when it was built.
    public var discardedBy: String?
    /// pins before rebasing; nil when discarded.
    public var pins: [UInt32]?
}

/// A table as an exec loader read it: the parse, the text span, and the installed table.
public struct RefPinLoad: Equatable, Sendable {
    public var parse: RefParse
    /// The image's load base (exe_base, or ld.so's pos) offsets count from.
    public var origin: UInt64
    /// len passed to the parse and the rebasing delta before truncation (R-PT-11/12).
    public var len: UInt64
    public var delta: UInt64
    /// nil when the parse discarded the table.
    public var table: RefTable?
}

public enum RefPins {
    /// Whole entries in the first `limit` bytes of `bytes` (all of them when nil).
    static func entries(_ bytes: [UInt8], limit: UInt64? = nil, bigEndian: Bool) -> [RefEntry] {
        let n = min(UInt64(bytes.count), limit ?? UInt64(bytes.count))
        var out: [RefEntry] = []
        out.reserveCapacity(Int(n / 8))  // one allocation, not one per doubling
        var o: UInt64 = 0
        while o + 8 <= n {
            out.append(
                RefEntry(
                    offset: UInt32(RefBytes.uint(bytes, o, 4, bigEndian: bigEndian)!),
                    sysno: UInt32(RefBytes.uint(bytes, o + 4, 4, bigEndian: bigEndian)!)))
            o += 8
        }
        return out
    }

    /// The part of [offset, offset + n) inside the file (a prefix, or empty).
    static func available(_ b: [UInt8], _ offset: UInt64, _ n: UInt64) -> [UInt8] {
        if offset >= UInt64(b.count) { return [] }
        let k = min(n, UInt64(b.count) - offset)
        return Array(b[Int(offset)..<Int(offset + k)])
    }

    /// elf_read_pintable: `filesz` is p_filesz (full width), `available` the bytes of the segment
    /// inside the file.
    public static func parse(filesz: UInt64, available: [UInt8], bigEndian: Bool, isLdso: Bool, len: UInt64) -> RefParse {
        // The readable prefix, read in place (no copy of it).
        let es = entries(available, limit: min(filesz, RefConst.entriesBytes), bigEndian: bigEndian)
        // R-PT-1
        if filesz > RefConst.maxTableBytes { return RefParse(entries: es, discardedBy: "R-PT-1", pins: nil) }
        // R-PT-2
        if filesz % 8 != 0 { return RefParse(entries: es, discardedBy: "R-PT-2", pins: nil) }
        // R-PT-3
        if UInt64(available.count) < filesz { return RefParse(entries: es, discardedBy: "R-PT-3", pins: nil) }
        return build(es, isLdso: isLdso, len: len)
    }

    /// R-PT-4..8 over decoded entries (also ld.so's validation of libc's table, D-LDPIN).
    public static func build(_ es: [RefEntry], isLdso: Bool, len: UInt64) -> RefParse {
        // R-PT-4, in file order.
        for e in es {
            if e.sysno == 0 || e.sysno >= RefConst.maxSyscall || UInt64(e.offset) > len {
                return RefParse(entries: es, discardedBy: "R-PT-4", pins: nil)
            }
        }
        // R-PT-6 (R-PT-5: an empty table still has npins 1).
        var top: UInt32 = 0
        for e in es where e.sysno > top { top = e.sysno }
        if isLdso && top < RefConst.sysKbind { top = RefConst.sysKbind }
        var pins = [UInt32](repeating: 0, count: Int(top) + 1)
        // R-PT-7
        for e in es {
            if pins[Int(e.sysno)] != 0 {
                pins[Int(e.sysno)] = RefConst.marker
            } else {
                pins[Int(e.sysno)] = e.offset
            }
        }
        // R-PT-8
        if isLdso { pins[Int(RefConst.sysKbind)] = RefConst.marker }
        return RefParse(entries: es, discardedBy: nil, pins: pins)
    }

    /// R-PT-9 (corrected): delta truncated to 32 bits first; pins rebased mod 2^32; start + delta32
    /// and len − delta32 in pointer width. Returns (pins, start, end).
    /// `pins` is consumed: a caller handing over its only reference has it rebased in place.
    public static func rebase(
        _ pins: consuming [UInt32], start: UInt64, len: UInt64, delta: UInt64, arch: RefArch
    ) -> (pins: [UInt32], start: UInt64, end: UInt64) {
        let d32 = UInt32(truncatingIfNeeded: delta)
        var out = pins
        for i in 0..<out.count where out[i] != 0 && out[i] != RefConst.marker {
            out[i] = out[i] &- d32
        }
        let s = (start &+ UInt64(d32)) & arch.mask
        let l = (len &- UInt64(d32)) & arch.mask
        return (out, s, (s &+ l) & arch.mask)
    }

    /// D-STRICT: every precise pin as stored, plus, for each marker slot, the recorded sites of
    /// that number (`recorded` offsets count from `origin`).
    public static func strictSites(pins: [UInt32], start: UInt64, recorded: [RefEntry], origin: UInt64, arch: RefArch) -> [RefSite] {
        func isMarked(_ e: RefEntry) -> Bool { Int(e.sysno) < pins.count && pins[Int(e.sysno)] == RefConst.marker }
        // Counted first, so the array is allocated once.
        var n = 0
        for v in pins where v != 0 && v != RefConst.marker { n += 1 }
        for e in recorded where isMarked(e) { n += 1 }
        var out: [RefSite] = []
        out.reserveCapacity(n)
        for (i, v) in pins.enumerated() where v != 0 && v != RefConst.marker {
            out.append(RefSite(sysno: UInt32(i), rel: UInt64(v)))
        }
        for e in recorded where isMarked(e) {
            out.append(RefSite(sysno: e.sysno, rel: (origin &+ UInt64(e.offset) &- start) & arch.mask))
        }
        return out
    }

    /// Parse, rebase and install, for either exec loader.
    static func load(_ img: RefImage, segment p: RefPhdr, isLdso: Bool, origin: UInt64, len: UInt64, delta: UInt64) -> RefPinLoad {
        let parse = parse(
            filesz: p.filesz, available: available(img.bytes, p.offset, p.filesz), bigEndian: img.arch.bigEndian,
            isLdso: isLdso, len: len)
        var table: RefTable?
        if let pins = parse.pins {
            let r = rebase(pins, start: origin, len: len, delta: delta, arch: img.arch)
            let sites = strictSites(pins: r.pins, start: r.start, recorded: parse.entries, origin: origin, arch: img.arch)
            table = RefTable(start: r.start, end: r.end, pins: r.pins, sites: sites)
        }
        return RefPinLoad(parse: parse, origin: origin, len: len, delta: delta, table: table)
    }

    /// R-PT-11: the static program's text span, in table order, with the kernel's update rule
    /// (which can shrink the span). No text PT_LOAD: T0 = T1 = 0 (D-NOTEXT).
    static func staticTable(_ img: RefImage, segment: RefPhdr, exeBase: UInt64) -> RefPinLoad {
        let mask = img.arch.mask
        var t0: UInt64 = 0
        var tsize: UInt64 = 0
        var seen = false
        for p in img.phdrs where p.isText {
            let addr = (RefBytes.trunc(p.vaddr, p.align) &+ exeBase) & mask
            let size = (p.memsz &+ (p.vaddr &- RefBytes.trunc(p.vaddr, p.align))) & mask
            if !seen || tsize == mask {  // ep_tsize == ELF_NO_ADDR marks "no text yet"
                t0 = addr
                tsize = size
                seen = true
            } else if addr < t0 {
                tsize = (tsize &+ t0 &- addr) & mask  // grows down, keeps the old end
                t0 = addr
            } else {
                tsize = (addr &+ size &- t0) & mask  // end := addr + size, even when smaller
            }
        }
        let t1 = seen ? (t0 &+ tsize) & mask : 0
        let len = (t1 &- exeBase) & mask
        let delta = (t0 &- exeBase) & mask
        return load(img, segment: segment, isLdso: false, origin: exeBase, len: len, delta: delta)
    }

    /// R-PT-12: ld.so's span. The first PT_LOAD sits at the absolute pos, later ones at
    /// p_vaddr − first p_vaddr (each truncated to its p_align); min/max over executable,
    /// non-writable PT_LOADs; text_start starts all-ones, text_end 0. len = text_end,
    /// delta = text_start, origin = pos. The absolute-first-segment quirk is kept.
    static func ldsoTable(_ img: RefImage, segment: RefPhdr, pos: UInt64) -> RefPinLoad {
        let mask = img.arch.mask
        var textStart = mask
        var textEnd: UInt64 = 0
        var firstVaddr: UInt64?
        for p in img.phdrs where p.type == RefConst.PT_LOAD {
            var uaddr: UInt64
            if let fv = firstVaddr {
                uaddr = (p.vaddr &- fv) & mask
            } else {
                firstVaddr = p.vaddr
                uaddr = pos & mask
            }
            if uaddr == mask { uaddr = p.vaddr & mask }  // ELF_NO_ADDR: "no address", use p_vaddr
            uaddr = RefBytes.trunc(uaddr, p.align)
            let size = (p.memsz &+ (p.vaddr &- RefBytes.trunc(p.vaddr, p.align))) & mask
            if p.isText {
                if uaddr < textStart { textStart = uaddr }
                let end = (uaddr &+ size) & mask
                if end > textEnd { textEnd = end }
            }
        }
        return load(img, segment: segment, isLdso: true, origin: pos & mask, len: textEnd, delta: textStart)
    }
}

/// §7: the pin check.
public enum RefPinCheck {
    /// pins[code], 0 past the end (and for a code that is no index: negative).
    static func pin(_ t: RefTable, _ code: Int64) -> UInt32 {
        code >= 0 && code < Int64(t.pins.count) ? t.pins[Int(code)] : 0
    }

    /// §7.2 with `a` the trap instruction's address (pc − D) and the trampoline's trap address.
    /// nil allows; otherwise the kill (SIGABRT) with its errno and rule.
    /// `libsys` (libsys's text) and `mainIsLdso` (the main table is ld.so's, not the program's)
    /// matter only to the region policies, `RefRegionPolicies`.
    public static func check(
        libc: RefTable?, main: RefTable?, sigtramp: UInt64?, addr a: UInt64, code: Int64, policy: RefPolicy,
        arch: RefArch, libsys: RefSpan? = nil, mainIsLdso: Bool = false
    ) -> RefVerdict? {
        if policy == .msyscall || policy == .libsys {
            return RefRegionPolicies.check(
                libc: libc, main: main, libsys: libsys, mainIsLdso: mainIsLdso, sigtramp: sigtramp, addr: a, code: code,
                policy: policy)
        }
        // R-PC-4: libc first, then main (R-PC-3: half-open).
        var region: RefTable?
        if let l = libc, l.start <= a && a < l.end {
            region = l
        } else if let m = main, m.start <= a && a < m.end {
            region = m
        }
        guard let r = region else {
            // R-PC-5: the trampoline, judged on the (unadjusted) pc, equivalently its trap address.
            if let t = sigtramp, t == a {
                return code == Int64(RefConst.sysSigreturn) ? nil : .killed(RefSignal.SIGABRT, RefErrno.EPERM, "R-PC-5")
            }
            return .killed(RefSignal.SIGABRT, RefErrno.ENOSYS, "R-PC-7")
        }
        let rel = (a &- r.start) & arch.mask
        if policy == .strict {
            // D-STRICT: exactly the recorded (code, rel) pairs.
            if code >= 0 && code <= Int64(UInt32.max) && r.records(RefSite(sysno: UInt32(code), rel: rel)) { return nil }
            return .killed(RefSignal.SIGABRT, RefErrno.ENOSYS, "D-STRICT")
        }
        let v = pin(r, code)
        if v == 0 { return .killed(RefSignal.SIGABRT, RefErrno.ENOSYS, "R-PC-7") }
        if (r.start &+ UInt64(v)) & arch.mask == a { return nil }
        if v == RefConst.marker { return nil }  // R-PC-8
        return .killed(RefSignal.SIGABRT, RefErrno.ENOSYS, "R-PT-10")
    }
}
