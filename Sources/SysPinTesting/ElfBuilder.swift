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
                header: payloadHeader(type, count: payload.count, flags: flags, vaddr: vaddr, memsz: memsz, align: align),
                payload: payload)
        }

        /// The header `payload(_:_:flags:vaddr:memsz:align:)` gives a payload of `count` bytes.
        static func payloadHeader(
            _ type: SegmentType, count: Int, flags: UInt32 = ProgramFlags.r, vaddr: UInt64 = 0, memsz: UInt64? = nil,
            align: UInt64 = 4
        ) -> ProgramHeader {
            ProgramHeader(
                type: type, flags: flags, offset: 0, vaddr: vaddr, filesz: UInt64(count), memsz: memsz ?? UInt64(count),
                align: align)
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

    public func build() -> [UInt8] {
        var out: [UInt8] = []
        write(into: &out) { _, _, _ in }
        return out
    }

    public func assemble() -> Layout {
        var headers: [ProgramHeader] = []
        var ranges: [(index: Int, range: Range<Int>)] = []
        headers.reserveCapacity(entryCount)
        var bytes: [UInt8] = []
        write(into: &bytes) { i, h, range in
            headers.append(h)
            if let range { ranges.append((i, range)) }
        }
        return Layout(
            bytes: bytes, phdrTableOffset: UInt64(arch.elfClass.ehdrSize), programHeaders: headers, payloadRanges: ranges,
            elfClassPhdrSize: arch.elfClass.phdrSize)
    }

    /// Where a program header's file bytes come from. The generated segments keep their source
    /// (the path, the sites) and are encoded straight into the image, with no array of their own.
    private enum Contents {
        case none
        case bytes([UInt8])
        /// PT_INTERP: the path's UTF-8 and a NUL.
        case path(String)
        /// PT_OPENBSD_SYSCALLS: one record per site.
        case sites([SyscallSite])

        var count: Int? {
            switch self {
            case .none: return nil
            case .bytes(let b): return b.count
            case .path(let p): return p.utf8.count + 1
            case .sites(let s): return s.count * 8
            }
        }

        /// Writes the bytes at `at`, over zeros.
        func write(_ w: FieldWriter, at: Int) {
            switch self {
            case .none: return
            case .bytes(let b): w.copy(b, at: at)
            case .path(let p): w.copy(p.utf8, at: at)
            case .sites(let s): ElfBuilder.store(sites: s, w, at: at)
            }
        }
    }

    /// One program-header table entry before placement.
    private struct Entry {
        var header: ProgramHeader
        var contents: Contents
        var mapsFileStart = false
        var offsetOverride: UInt64?
        var fileszOverride: UInt64?
    }

    /// How many program headers the table has.
    var entryCount: Int {
        (includePhdr ? 1 : 0) + (interp == nil ? 0 : 1) + segments.count + (openBSDNote ? 1 : 0) + (syscalls == nil ? 0 : 1)
    }

    /// The table's entries in order (see the type's comment); PT_PHDR describes a table of
    /// `tableSize` bytes at `tableOffset`.
    private func forEachEntry(tableOffset: Int, tableSize: Int, _ body: (Entry) -> Void) {
        if includePhdr {
            let (o, n) = (UInt64(tableOffset), UInt64(tableSize))
            let align = UInt64(arch.elfClass == .elf64 ? 8 : 4)
            body(Entry(header: ProgramHeader(type: .phdr, flags: ProgramFlags.r, offset: o, vaddr: o, filesz: n, memsz: n, align: align), contents: .none))
        }
        if let interp {
            let contents = Contents.path(interp)
            body(Entry(header: Segment.payloadHeader(.interp, count: contents.count!, align: 1), contents: contents))
        }
        for s in segments {
            body(Entry(
                header: s.header, contents: s.payload.map(Contents.bytes) ?? .none, mapsFileStart: s.mapsFileStart,
                offsetOverride: s.offsetOverride, fileszOverride: s.fileszOverride))
        }
        if openBSDNote {
            let note = Self.openBSDNote(endian: arch.endian)
            body(Entry(header: Segment.payloadHeader(.note, count: note.count, align: 4), contents: .bytes(note)))
        }
        if let syscalls {
            let contents = Contents.sites(syscalls)
            body(Entry(header: Segment.payloadHeader(.openbsdSyscalls, count: contents.count!, memsz: 0, align: 4), contents: contents))
        }
    }

    /// Writes the image into `out` (replacing what it held) in one buffer of the final size, and
    /// calls `record` with each program header as written, its table index and its payload's
    /// byte range.
    func write(into out: inout [UInt8], _ record: (Int, ProgramHeader, Range<Int>?) -> Void) {
        let cls = arch.elfClass
        let e = arch.endian
        let ehdrSize = cls.ehdrSize
        let phdrSize = cls.phdrSize
        let wordAlign = cls == .elf64 ? 8 : 4
        let count = entryCount
        let tableOffset = ehdrSize
        let tableSize = count * phdrSize
        func aligned(_ n: Int) -> Int { n + (wordAlign - n % wordAlign) % wordAlign }

        // Payloads go after the table, each aligned to the word size, in table order.
        var cursor = tableOffset + tableSize
        forEachEntry(tableOffset: tableOffset, tableSize: tableSize) { entry in
            if let n = entry.contents.count { cursor = aligned(cursor) + n }
        }
        // The size of the file as described (before `truncatedTo`).
        let fileSize = cursor + trailing.count

        out.removeAll(keepingCapacity: true)
        out.append(contentsOf: repeatElement(0, count: fileSize))
        out.withUnsafeMutableBytes { bytes in
            let w = FieldWriter(bytes: bytes, endian: e)
            w.copy((ident.magic ?? ElfHeader.magic).prefix(4), at: 0)
            w.put(UInt64(ident.elfClass ?? cls.rawValue), width: 1, at: 4)
            w.put(UInt64(ident.data ?? e.rawValue), width: 1, at: 5)
            w.put(UInt64(ident.version ?? 1), width: 1, at: 6)
            w.put(UInt64(ident.osabi ?? 0), width: 1, at: 7)
            let wide = cls == .elf64 ? 8 : 4
            w.put(UInt64(type.rawValue), width: 2, at: 16)
            w.put(UInt64(machine ?? arch.machine), width: 2, at: 18)
            w.put(UInt64(version), width: 4, at: 20)
            w.put(entry, width: wide, at: 24)
            w.put(phoff ?? UInt64(tableOffset), width: wide, at: 24 + wide)
            w.put(shoff, width: wide, at: 24 + 2 * wide)
            let after = 24 + 3 * wide
            w.put(UInt64(flags), width: 4, at: after)
            w.put(UInt64(ehsize ?? UInt16(ehdrSize)), width: 2, at: after + 4)
            w.put(UInt64(phentsize ?? UInt16(phdrSize)), width: 2, at: after + 6)
            w.put(UInt64(phnum ?? UInt16(truncatingIfNeeded: count)), width: 2, at: after + 8)
            w.put(UInt64(shentsize), width: 2, at: after + 10)
            w.put(UInt64(shnum), width: 2, at: after + 12)
            w.put(UInt64(shstrndx), width: 2, at: after + 14)

            // The table and the payloads, placed again in the same order.
            var index = 0
            cursor = tableOffset + tableSize
            forEachEntry(tableOffset: tableOffset, tableSize: tableSize) { entry in
                var h = entry.header
                var range: Range<Int>?
                if let n = entry.contents.count {
                    let at = aligned(cursor)
                    range = at..<at + n
                    cursor = at + n
                    h.offset = UInt64(at)
                    h.filesz = UInt64(n)
                    entry.contents.write(w, at: at)
                }
                if entry.mapsFileStart {
                    h.offset = 0
                    h.filesz = min(h.memsz, UInt64(fileSize))
                }
                if let o = entry.offsetOverride { h.offset = o }
                if let f = entry.fileszOverride { h.filesz = f }
                Self.store(h, elfClass: cls, w, at: tableOffset + index * phdrSize)
                record(index, h, range)
                index += 1
            }
            w.copy(trailing, at: cursor)
        }
        if let n = truncatedTo, n < out.count { out.removeSubrange(max(0, n)...) }
    }

    // MARK: - Encoders

    /// One program header in the kernel's struct layout for `elfClass` (values are truncated to
    /// 32 bits for ELF32).
    public static func encode(_ h: ProgramHeader, elfClass: ElfClass, endian e: Endian) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: elfClass.phdrSize)
        out.withUnsafeMutableBytes { store(h, elfClass: elfClass, FieldWriter(bytes: $0, endian: e), at: 0) }
        return out
    }

    /// `encode(_:elfClass:endian:)` written at `at`.
    fileprivate static func store(_ h: ProgramHeader, elfClass: ElfClass, _ w: FieldWriter, at: Int) {
        if elfClass == .elf64 {
            w.put(UInt64(h.type.rawValue), width: 4, at: at)
            w.put(UInt64(h.flags), width: 4, at: at + 4)
            w.put(h.offset, width: 8, at: at + 8)
            w.put(h.vaddr, width: 8, at: at + 16)
            w.put(h.paddr, width: 8, at: at + 24)
            w.put(h.filesz, width: 8, at: at + 32)
            w.put(h.memsz, width: 8, at: at + 40)
            w.put(h.align, width: 8, at: at + 48)
            return
        }
        w.put(UInt64(h.type.rawValue), width: 4, at: at)
        w.put(h.offset, width: 4, at: at + 4)
        w.put(h.vaddr, width: 4, at: at + 8)
        w.put(h.paddr, width: 4, at: at + 12)
        w.put(h.filesz, width: 4, at: at + 16)
        w.put(h.memsz, width: 4, at: at + 20)
        w.put(UInt64(h.flags), width: 4, at: at + 24)
        w.put(h.align, width: 4, at: at + 28)
    }

    /// PT_OPENBSD_SYSCALLS contents: {u32 offset, u32 sysno} per record (§2.1).
    public static func encode(sites: [SyscallSite], endian e: Endian) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: sites.count * 8)
        out.withUnsafeMutableBytes { store(sites: sites, FieldWriter(bytes: $0, endian: e), at: 0) }
        return out
    }

    /// `encode(sites:endian:)` written at `at`.
    fileprivate static func store(sites: [SyscallSite], _ w: FieldWriter, at: Int) {
        for (i, s) in sites.enumerated() {
            w.put(UInt64(s.offset), width: 4, at: at + 8 * i)
            w.put(UInt64(s.sysno), width: 4, at: at + 8 * i + 4)
        }
    }

    /// The OpenBSD ident note: namesz 8, descsz 4, type 1, "OpenBSD\0", a zero descriptor. One
    /// array per byte order, built once (every image the fuzzers build carries one).
    public static func openBSDNote(endian e: Endian) -> [UInt8] { e == .little ? noteLittle : noteBig }

    static let noteLittle = makeOpenBSDNote(endian: .little)
    static let noteBig = makeOpenBSDNote(endian: .big)

    static func makeOpenBSDNote(endian e: Endian) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 12)
        out.withUnsafeMutableBytes { bytes in
            for (i, v) in [8, 4, 1].enumerated() { FieldWriter(bytes: bytes, endian: e).put(UInt64(v), width: 4, at: 4 * i) }
        }
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
