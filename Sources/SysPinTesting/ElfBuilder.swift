import SysPinCore

/// Builds ELF images for any `Arch` from a description, for unit tests, property tests and
/// fuzzer seeds.
///
/// The builder writes what it is told, so it can make deliberately broken images as easily as
/// well-formed ones: every header field can be overridden, program headers are written verbatim
/// unless they carry a payload, and the output can be truncated or extended.
///
/// File layout (all offsets in the arch's word size and byte order, SPEC §2.1):
///
///     [ELF header][program-header table][payloads, in program-header order][trailing]
///
/// - The program-header table is written right after the ELF header (at `ehdrSize`), whatever
///   `phoff` says; `phoff` only overrides the e_phoff *field* (to point it somewhere wrong).
/// - A segment with a payload has its bytes placed after the table, each payload aligned to the
///   word size, and its p_offset/p_filesz filled in from that placement unless overridden.
/// - A segment without a payload is written exactly as its `ProgramHeader` says.
///
/// Program-header order: PT_PHDR (if `includePhdr`), PT_INTERP (if `interp`), `segments` in
/// order, the OpenBSD note (if `openBSDNote`), PT_OPENBSD_SYSCALLS (if `syscalls`). To control the
/// order of the generated segments yourself, leave those properties off and put
/// `Segment.interp(_:)`, `Segment.openBSDNote(endian:)`, `Segment.syscalls(_:endian:)` into
/// `segments` where you want them.
public struct ElfBuilder: Sendable {
    /// e_ident bytes; nil means "what `arch` needs" (R-ELF-2).
    public struct Ident: Hashable, Sendable {
        public var magic: [UInt8]?
        public var elfClass: UInt8?
        public var data: UInt8?
        public var version: UInt8?
        /// EI_OSABI; 0 (System V) unless set. ELFOSABI_OPENBSD is `ElfHeader.osabiOpenBSD`.
        public var osabi: UInt8?

        public init(
            magic: [UInt8]? = nil, elfClass: UInt8? = nil, data: UInt8? = nil, version: UInt8? = nil,
            osabi: UInt8? = nil
        ) {
            self.magic = magic
            self.elfClass = elfClass
            self.data = data
            self.version = version
            self.osabi = osabi
        }
    }

    /// One program header, with optional file contents.
    public struct Segment: Hashable, Sendable {
        /// Written verbatim, except p_offset/p_filesz when `payload` is set.
        public var header: ProgramHeader
        /// Bytes to place in the file for this segment.
        public var payload: [UInt8]?
        /// Overrides the p_offset derived from the payload's placement.
        public var offsetOverride: UInt64?
        /// Overrides the p_filesz derived from the payload's length.
        public var fileszOverride: UInt64?
        /// Map the file from offset 0 (the ELF header, the program headers and every payload), as
        /// a real first PT_LOAD does: p_offset 0, p_filesz = min(p_memsz, file size). Overrides
        /// still apply on top.
        public var mapsFileStart = false

        public init(
            header: ProgramHeader, payload: [UInt8]? = nil, offsetOverride: UInt64? = nil,
            fileszOverride: UInt64? = nil
        ) {
            self.header = header
            self.payload = payload
            self.offsetOverride = offsetOverride
            self.fileszOverride = fileszOverride
        }

        /// A program header written exactly as given.
        public static func raw(_ header: ProgramHeader) -> Segment { Segment(header: header) }

        /// A segment of `type` whose file contents are `payload` (offset and size filled in).
        public static func payload(
            _ type: SegmentType, _ payload: [UInt8], flags: UInt32 = ProgramFlags.r, vaddr: UInt64 = 0,
            memsz: UInt64? = nil, align: UInt64 = 4
        ) -> Segment {
            Segment(
                header: ProgramHeader(
                    type: type, flags: flags, offset: 0, vaddr: vaddr, filesz: UInt64(payload.count),
                    memsz: memsz ?? UInt64(payload.count), align: align),
                payload: payload)
        }

        /// A PT_LOAD. Without a payload it occupies no file bytes (p_offset 0, p_filesz 0): the
        /// model never reads PT_LOAD contents, only checks p_filesz ≤ p_memsz (R-ELF-10).
        /// With a payload, `offset`/`filesz` (when given) override the placement instead.
        public static func load(
            flags: UInt32, vaddr: UInt64, memsz: UInt64, align: UInt64 = 0x1000, filesz: UInt64? = nil,
            offset: UInt64? = nil, payload: [UInt8]? = nil
        ) -> Segment {
            let header = ProgramHeader(
                type: .load, flags: flags, offset: offset ?? 0, vaddr: vaddr, filesz: filesz ?? 0, memsz: memsz,
                align: align)
            guard payload != nil else { return Segment(header: header) }
            return Segment(header: header, payload: payload, offsetOverride: offset, fileszOverride: filesz)
        }

        /// PT_INTERP holding `path` and a terminating NUL (R-ELF-9).
        public static func interp(_ path: String, vaddr: UInt64 = 0) -> Segment {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(path.utf8.count + 1)
            bytes += path.utf8
            bytes.append(0)
            return .payload(.interp, bytes, vaddr: vaddr, align: 1)
        }

        /// PT_NOTE holding one OpenBSD ident note (R-ELF-12).
        public static func openBSDNote(endian: Endian, vaddr: UInt64 = 0) -> Segment {
            .payload(.note, ElfBuilder.openBSDNote(endian: endian), vaddr: vaddr, align: 4)
        }

        /// PT_OPENBSD_SYSCALLS holding `sites` (§2.1).
        public static func syscalls(_ sites: [SyscallSite], endian: Endian) -> Segment {
            .payload(.openbsdSyscalls, ElfBuilder.encode(sites: sites, endian: endian), memsz: 0, align: 4)
        }
    }

    /// What `assemble()` produced: the bytes and where things ended up.
    public struct Layout: Sendable {
        public var bytes: [UInt8]
        /// Where the program-header table was written (not necessarily the e_phoff field).
        public var phdrTableOffset: UInt64
        /// The program headers as written, in table order.
        public var programHeaders: [ProgramHeader]
        /// The index in `programHeaders` of each segment that had a payload, and its byte range.
        public var payloadRanges: [(index: Int, range: Range<Int>)]

        /// The file range of the first program header of `type` that had a payload.
        public func payloadRange(of type: SegmentType) -> Range<Int>? {
            payloadRanges.first { programHeaders[$0.index].type == type }?.range
        }

        /// One past the last byte of the program-header table.
        public var phdrTableEnd: Int { Int(phdrTableOffset) + programHeaders.count * elfClassPhdrSize }
        var elfClassPhdrSize: Int
    }

    public var arch: Arch
    public var type: ElfType
    /// e_machine; nil means `arch.machine`.
    public var machine: UInt16?
    public var ident: Ident
    public var version: UInt32 = 1
    public var entry: UInt64 = 0
    public var flags: UInt32 = 0

    /// Field overrides; nil means "the value matching the layout".
    public var phoff: UInt64?
    public var phnum: UInt16?
    public var phentsize: UInt16?
    public var ehsize: UInt16?
    public var shoff: UInt64 = 0
    public var shentsize: UInt16 = 0
    public var shnum: UInt16 = 0
    public var shstrndx: UInt16 = 0

    /// Add a PT_PHDR covering the program-header table as the first entry (R-ELF-11, R-ELF-13).
    /// Its p_offset/p_filesz/p_memsz describe the table; p_vaddr = p_offset (link base 0).
    public var includePhdr = false
    /// PT_INTERP path (without the NUL), placed after PT_PHDR.
    public var interp: String?
    /// The caller's program headers.
    public var segments: [Segment] = []
    /// Add a PT_NOTE with the OpenBSD ident note after `segments` (on by default, R-ELF-12).
    public var openBSDNote = true
    /// Add a PT_OPENBSD_SYSCALLS holding these records as the last entry.
    public var syscalls: [SyscallSite]?
    /// Bytes appended after everything else.
    public var trailing: [UInt8] = []
    /// Cut the output to this many bytes (never extends it).
    public var truncatedTo: Int?

    public init(arch: Arch, type: ElfType = .exec, entry: UInt64 = 0, ident: Ident = Ident()) {
        self.arch = arch
        self.type = type
        self.entry = entry
        self.ident = ident
    }

    // MARK: - Output

    public func build() -> [UInt8] { assemble().bytes }

    public func assemble() -> Layout {
        let cls = arch.elfClass
        let e = arch.endian
        let ehdrSize = cls.ehdrSize
        let phdrSize = cls.phdrSize
        let wordAlign = cls == .elf64 ? 8 : 4

        var all: [Segment] = []
        all.reserveCapacity(segments.count + 4)
        if includePhdr {
            // Filled in below once the table size is known.
            all.append(.raw(ProgramHeader(type: .phdr, flags: ProgramFlags.r, offset: 0, vaddr: 0, filesz: 0, memsz: 0, align: UInt64(wordAlign))))
        }
        if let interp { all.append(.interp(interp)) }
        all += segments
        if openBSDNote { all.append(.openBSDNote(endian: e)) }
        if let syscalls { all.append(.syscalls(syscalls, endian: e)) }

        let tableOffset = ehdrSize
        let tableSize = all.count * phdrSize
        if includePhdr {
            all[0].header.offset = UInt64(tableOffset)
            all[0].header.vaddr = UInt64(tableOffset)
            all[0].header.filesz = UInt64(tableSize)
            all[0].header.memsz = UInt64(tableSize)
        }

        // Place payloads after the table (their bytes are written below, in this order).
        var cursor = tableOffset + tableSize
        var ranges: [(index: Int, range: Range<Int>)] = []
        ranges.reserveCapacity(all.count)
        for (i, seg) in all.enumerated() {
            guard let p = seg.payload else { continue }
            cursor += (wordAlign - cursor % wordAlign) % wordAlign
            ranges.append((i, cursor..<cursor + p.count))
            cursor += p.count
        }
        // The size of the file as described (before `truncatedTo`).
        let fileSize = UInt64(cursor + trailing.count)

        var headers: [ProgramHeader] = []
        headers.reserveCapacity(all.count)
        var placed = ranges.makeIterator()
        for (i, seg) in all.enumerated() {
            var h = seg.header
            if seg.payload != nil, let r = placed.next(), r.index == i {
                h.offset = UInt64(r.range.lowerBound)
                h.filesz = UInt64(r.range.count)
            }
            if seg.mapsFileStart {
                h.offset = 0
                h.filesz = min(h.memsz, fileSize)
            }
            if let o = seg.offsetOverride { h.offset = o }
            if let f = seg.fileszOverride { h.filesz = f }
            headers.append(h)
        }

        // One buffer, written in place: header, table, payloads, trailing bytes.
        var out = [UInt8](repeating: 0, count: ehdrSize)
        out.reserveCapacity(cursor + trailing.count)
        let magic = ident.magic ?? ElfHeader.magic
        for (i, b) in magic.prefix(4).enumerated() { out[i] = b }
        out[4] = ident.elfClass ?? cls.rawValue
        out[5] = ident.data ?? e.rawValue
        out[6] = ident.version ?? 1
        out[7] = ident.osabi ?? 0
        func put(_ value: UInt64, at offset: Int, width: Int) {
            e.store(value, width: width, into: &out, at: offset)
        }
        let w = cls == .elf64 ? 8 : 4
        put(UInt64(type.rawValue), at: 16, width: 2)
        put(UInt64(machine ?? arch.machine), at: 18, width: 2)
        put(UInt64(version), at: 20, width: 4)
        put(entry, at: 24, width: w)
        put(phoff ?? UInt64(tableOffset), at: 24 + w, width: w)
        put(shoff, at: 24 + 2 * w, width: w)
        let after = 24 + 3 * w
        put(UInt64(flags), at: after, width: 4)
        put(UInt64(ehsize ?? UInt16(ehdrSize)), at: after + 4, width: 2)
        put(UInt64(phentsize ?? UInt16(phdrSize)), at: after + 6, width: 2)
        put(UInt64(phnum ?? UInt16(truncatingIfNeeded: headers.count)), at: after + 8, width: 2)
        put(UInt64(shentsize), at: after + 10, width: 2)
        put(UInt64(shnum), at: after + 12, width: 2)
        put(UInt64(shstrndx), at: after + 14, width: 2)

        for h in headers { Self.append(h, elfClass: cls, endian: e, to: &out) }
        for (i, _) in ranges {
            out.append(contentsOf: repeatElement(0, count: (wordAlign - out.count % wordAlign) % wordAlign))
            out += all[i].payload!
        }
        out += trailing
        if let n = truncatedTo, n < out.count { out.removeSubrange(max(0, n)...) }
        return Layout(
            bytes: out, phdrTableOffset: UInt64(tableOffset), programHeaders: headers, payloadRanges: ranges,
            elfClassPhdrSize: phdrSize)
    }

    // MARK: - Encoders

    /// One program header in the kernel's struct layout for `elfClass` (values are truncated to
    /// 32 bits for ELF32).
    public static func encode(_ h: ProgramHeader, elfClass: ElfClass, endian e: Endian) -> [UInt8] {
        var out: [UInt8] = []
        append(h, elfClass: elfClass, endian: e, to: &out)
        return out
    }

    /// `encode(_:elfClass:endian:)` appended to `out` in place.
    static func append(_ h: ProgramHeader, elfClass: ElfClass, endian e: Endian, to out: inout [UInt8]) {
        if elfClass == .elf64 {
            out.reserveCapacity(out.count + 56)
            e.append(UInt64(h.type.rawValue), width: 4, to: &out)
            e.append(UInt64(h.flags), width: 4, to: &out)
            e.append(h.offset, width: 8, to: &out)
            e.append(h.vaddr, width: 8, to: &out)
            e.append(h.paddr, width: 8, to: &out)
            e.append(h.filesz, width: 8, to: &out)
            e.append(h.memsz, width: 8, to: &out)
            e.append(h.align, width: 8, to: &out)
            return
        }
        out.reserveCapacity(out.count + 32)
        e.append(UInt64(h.type.rawValue), width: 4, to: &out)
        e.append(h.offset, width: 4, to: &out)
        e.append(h.vaddr, width: 4, to: &out)
        e.append(h.paddr, width: 4, to: &out)
        e.append(h.filesz, width: 4, to: &out)
        e.append(h.memsz, width: 4, to: &out)
        e.append(UInt64(h.flags), width: 4, to: &out)
        e.append(h.align, width: 4, to: &out)
    }

    /// PT_OPENBSD_SYSCALLS contents: {u32 offset, u32 sysno} per record (§2.1).
    public static func encode(sites: [SyscallSite], endian e: Endian) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(sites.count * 8)
        for s in sites {
            e.append(UInt64(s.offset), width: 4, to: &out)
            e.append(UInt64(s.sysno), width: 4, to: &out)
        }
        return out
    }

    /// The OpenBSD ident note: namesz 8, descsz 4, type 1, "OpenBSD\0", a zero descriptor. One
    /// array per byte order, built once (every image the fuzzers build carries one).
    public static func openBSDNote(endian e: Endian) -> [UInt8] { e == .little ? noteLittle : noteBig }

    static let noteLittle = makeOpenBSDNote(endian: .little)
    static let noteBig = makeOpenBSDNote(endian: .big)

    static func makeOpenBSDNote(endian e: Endian) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(24)
        for v: UInt64 in [8, 4, 1] { e.append(v, width: 4, to: &out) }
        out += [0x4f, 0x70, 0x65, 0x6e, 0x42, 0x53, 0x44, 0]  // "OpenBSD\0"
        out += [0, 0, 0, 0]
        return out
    }
}

// MARK: - Ready-made images

extension ElfBuilder {
    /// `value` rounded up to a multiple of `page`.
    static func roundUp(_ value: UInt64, _ page: UInt64) -> UInt64 { (value + page - 1) / page * page }

    /// A data PT_LOAD (R+W) one page past the end of the text.
    static func dataSegment(after text: (vaddr: UInt64, memsz: UInt64), arch: Arch) -> Segment {
        let page = arch.pageSize
        return .load(
            flags: ProgramFlags.r | ProgramFlags.w, vaddr: roundUp(text.vaddr + text.memsz, page) + page,
            memsz: page, align: page)
    }

    /// A static ET_EXEC: text PT_LOAD (R+X) at `text.vaddr`, a data PT_LOAD, the OpenBSD note and a
    /// PT_OPENBSD_SYSCALLS of `sites` (absolute virtual addresses, R-PT-11). Entry = text start.
    public static func staticExec(
        arch: Arch, text: (vaddr: UInt64, memsz: UInt64) = (0x40_0000, 0x1000), sites: [SyscallSite]
    ) -> ElfBuilder {
        var b = ElfBuilder(arch: arch, type: .exec, entry: text.vaddr)
        b.segments = [
            .load(flags: ProgramFlags.r | ProgramFlags.x, vaddr: text.vaddr, memsz: text.memsz, align: arch.pageSize),
            dataSegment(after: text, arch: arch),
        ]
        b.syscalls = sites
        return b
    }

    /// A static PIE (ET_DYN, no PT_INTERP): PT_PHDR, a read-only PT_LOAD at vaddr 0 covering
    /// [0, text.vaddr) (omitted when `text.vaddr` is 0, then the text is the base segment), the
    /// text PT_LOAD, a data PT_LOAD, the note, and `sites` (link-time vaddrs, base 0).
    public static func staticPIE(
        arch: Arch, text: (vaddr: UInt64, memsz: UInt64) = (0x1000, 0x1000), sites: [SyscallSite]
    ) -> ElfBuilder {
        var b = ElfBuilder(arch: arch, type: .dyn, entry: text.vaddr)
        b.includePhdr = true
        b.segments = pieLoads(arch: arch, text: text)
        b.syscalls = sites
        return b
    }

    /// A dynamically linked program: PT_INTERP `interp` and, when `pie`, the layout of
    /// `staticPIE` (else of `staticExec`). `sites`, if any, become the program's own
    /// PT_OPENBSD_SYSCALLS, which the kernel ignores (R-ELF-16).
    public static func dynamicExec(
        arch: Arch, interp: String = "/usr/libexec/ld.so", pie: Bool = true,
        text: (vaddr: UInt64, memsz: UInt64)? = nil, sites: [SyscallSite]? = nil
    ) -> ElfBuilder {
        var b: ElfBuilder
        if pie {
            b = staticPIE(arch: arch, text: text ?? (0x1000, 0x1000), sites: [])
        } else {
            b = staticExec(arch: arch, text: text ?? (0x40_0000, 0x1000), sites: [])
            b.includePhdr = true
        }
        b.syscalls = sites
        b.interp = interp
        return b
    }

    /// An ld.so-like interpreter (ET_DYN): a non-executable PT_LOAD at vaddr 0 of `textVaddr` bytes,
    /// the executable PT_LOAD at `textVaddr`, a data PT_LOAD and PT_OPENBSD_SYSCALLS of `sites`
    /// (offsets relative to the load base, R-PT-12). Entry = text start. No OpenBSD note (the
    /// interpreter loader does not look for one).
    public static func ldso(
        arch: Arch, textVaddr: UInt64 = 0x1000, textMemsz: UInt64 = 0x2000, sites: [SyscallSite]
    ) -> ElfBuilder {
        precondition(textVaddr > 0, "ld.so's first PT_LOAD is the non-executable one at vaddr 0")
        var b = ElfBuilder(arch: arch, type: .dyn, entry: textVaddr)
        b.openBSDNote = false
        b.segments = pieLoads(arch: arch, text: (textVaddr, textMemsz))
        b.syscalls = sites
        return b
    }

    /// A libc.so-like shared library (ET_DYN, no entry): read-only PT_LOAD at 0, text at
    /// `textVaddr`, data, the note and PT_OPENBSD_SYSCALLS of `sites` (offsets relative to the
    /// load base, as ld.so reads them, R-LD-3).
    public static func sharedLibrary(
        arch: Arch, textVaddr: UInt64 = 0x1000, textMemsz: UInt64 = 0x4000, sites: [SyscallSite]
    ) -> ElfBuilder {
        var b = ElfBuilder(arch: arch, type: .dyn, entry: 0)
        b.includePhdr = true
        b.segments = pieLoads(arch: arch, text: (textVaddr, textMemsz))
        b.syscalls = sites
        return b
    }

    static func pieLoads(arch: Arch, text: (vaddr: UInt64, memsz: UInt64)) -> [Segment] {
        var loads: [Segment] = []
        loads.reserveCapacity(3)
        if text.vaddr > 0 {
            loads.append(.load(flags: ProgramFlags.r, vaddr: 0, memsz: text.vaddr, align: arch.pageSize))
        }
        loads.append(.load(flags: ProgramFlags.r | ProgramFlags.x, vaddr: text.vaddr, memsz: text.memsz, align: arch.pageSize))
        // The PT_LOAD at vaddr 0 maps the headers (and so covers PT_PHDR), as in a linked image.
        loads[0].mapsFileStart = true
        loads.append(dataSegment(after: text, arch: arch))
        return loads
    }
}

// MARK: - In-place encoding

extension Endian {
    /// `encode(value, width:)` appended to `out`.
    func append(_ value: UInt64, width: Int, to out: inout [UInt8]) {
        let at = out.count
        out.append(contentsOf: repeatElement(0, count: width))
        store(value, width: width, into: &out, at: at)
    }
}
