import SysPinCore
import SysPinTesting
import Testing

/// R-ELF-8..17 and R-ELF-26: the main loader's two program-header passes (SPEC §4.2, §4.3).
@Suite("R-ELF-8..17, 26 main program headers")
struct ExecProgramHeaderRulesTests {
    static let arch = Arch.amd64

    /// Text [0x400000, 0x401000), data at 0x402000, note, one pin.
    static var valid: ElfBuilder { valid(on: arch) }
    static func valid(on arch: Arch) -> ElfBuilder { .staticExec(arch: arch, sites: [site(0x40_0010, 20)]) }

    static func verdict(_ b: ElfBuilder, arch: Arch = arch, config: KernelConfig = .openbsd) -> Verdict {
        mainVerdict(b.build(), arch, base: b.type == .dyn ? dynBase : 0, config: config)
    }

    // MARK: R-ELF-8

    @Test("R-ELF-8: p_align > 1 must be a power of two (any segment type)",
          arguments: [UInt64(3), 6, 12, 0x1001, 0x8000_0000_0000_0001, UInt64.max])
    func badAlign(align: UInt64) {
        #expect(Self.verdict(Self.valid.prepending(raw(.null, align: align))) == .fail(.EINVAL, "R-ELF-8"))
        #expect(Self.verdict(Self.valid.appending(raw(.dynamic, align: align))) == .fail(.EINVAL, "R-ELF-8"))
    }

    @Test("R-ELF-8: 0, 1 and powers of two are accepted", arguments: [UInt64(0), 1, 2, 8, 0x1000, 1 << 63])
    func goodAlign(align: UInt64) {
        #expect(Self.verdict(Self.valid.prepending(raw(.null, align: align))) == .ok)
    }

    @Test("R-ELF-8: ELF32 p_align is 32 bits wide")
    func badAlign32() {
        let b = ElfBuilder.staticExec(arch: .powerpc, sites: []).prepending(raw(.null, align: 0x8000_0001))
        #expect(Self.verdict(b, arch: .powerpc) == .fail(.EINVAL, "R-ELF-8"))
        let ok = ElfBuilder.staticExec(arch: .powerpc, sites: []).prepending(raw(.null, align: 0x8000_0000))
        #expect(Self.verdict(ok, arch: .powerpc) == .ok)
    }

    @Test("R-ELF-8: a bad p_align on the note or the pin table fails the exec")
    func badAlignOnGeneratedSegments() {
        var b = Self.valid
        b.openBSDNote = false
        var note = ElfBuilder.Segment.openBSDNote(endian: .little)
        note.header.align = 5
        #expect(Self.verdict(b.appending(note)) == .fail(.EINVAL, "R-ELF-8"))
        var pins = ElfBuilder.Segment.syscalls([site(0x40_0010, 20)], endian: .little)
        pins.header.align = 24
        #expect(Self.verdict(Self.valid.appending(pins)) == .fail(.EINVAL, "R-ELF-8"))
    }

    @Test("R-ELF-8 runs per entry before that entry's type checks, in table order")
    func alignOrder() {
        let badLoad = ElfBuilder.Segment.load(flags: RW, vaddr: 0x60_0000, memsz: 0, align: 3)
        #expect(Self.verdict(Self.valid.prepending(badLoad)) == .fail(.EINVAL, "R-ELF-8"))
        // An earlier entry's R-ELF-10 wins over a later entry's R-ELF-8.
        let emptyLoad = ElfBuilder.Segment.load(flags: RW, vaddr: 0x60_0000, memsz: 0)
        let b = Self.valid.prepending(raw(.null, align: 3)).prepending(emptyLoad)
        #expect(Self.verdict(b) == .fail(.EINVAL, "R-ELF-10"))
    }

    // MARK: R-ELF-9

    static func dynamic(_ interp: String?) -> ElfBuilder {
        var b = ElfBuilder.dynamicExec(arch: arch, pie: false)
        b.interp = interp
        return b
    }

    @Test("R-ELF-9: the first PT_INTERP's path is read", arguments: ["a", "/usr/libexec/ld.so"])
    func interpAccepted(path: String) throws {
        let plan = try #require(mainPlan(Self.dynamic(path).build(), Self.arch))
        #expect(plan.interpPath == Array(path.utf8))
        #expect(plan.hasInterp)
    }

    @Test("R-ELF-9: p_filesz must be in [2, MAXPATHLEN]")
    func interpSize() {
        // "" + NUL is 1 byte.
        #expect(Self.verdict(Self.dynamic("")) == .fail(.ENOEXEC, "R-ELF-9"))
        // 1023 characters + NUL = 1024 = MAXPATHLEN: accepted; one more is not.
        #expect(Self.verdict(Self.dynamic(String(repeating: "x", count: 1023))) == .ok)
        #expect(Self.verdict(Self.dynamic(String(repeating: "x", count: 1024))) == .fail(.ENOEXEC, "R-ELF-9"))
    }

    @Test("R-ELF-9: p_filesz is compared in full width before reading")
    func interpHugeSize() {
        var b = Self.dynamic(nil)
        var seg = ElfBuilder.Segment.interp("/usr/libexec/ld.so")
        seg.fileszOverride = 0x1_0000_0010  // would be 16 if narrowed to 32 bits
        b.segments.insert(seg, at: 0)
        #expect(Self.verdict(b) == .fail(.ENOEXEC, "R-ELF-9"))
    }

    @Test("R-ELF-9: MAXPATHLEN is a parameter")
    func interpSizeConfigurable() {
        let config = KernelConfig(maxPathLen: 16)
        #expect(Self.verdict(Self.dynamic(String(repeating: "y", count: 15)), config: config) == .ok)
        #expect(Self.verdict(Self.dynamic(String(repeating: "y", count: 16)), config: config) == .fail(.ENOEXEC, "R-ELF-9"))
    }

    @Test("R-ELF-9: the path must end in NUL")
    func interpNotTerminated() {
        var b = Self.dynamic(nil)
        b.segments.insert(.payload(.interp, Array("/usr/libexec/ld.so".utf8), align: 1), at: 0)
        #expect(Self.verdict(b) == .fail(.ENOEXEC, "R-ELF-9"))
        var nulInside = Self.dynamic(nil)
        nulInside.segments.insert(.payload(.interp, Array("/ld\0so".utf8), align: 1), at: 0)
        #expect(Self.verdict(nulInside) == .fail(.ENOEXEC, "R-ELF-9"))
    }

    @Test("R-ELF-9: a path that cannot be read completely is a short read")
    func interpPastEnd() throws {
        var b = Self.dynamic(nil)
        var seg = ElfBuilder.Segment.interp("/usr/libexec/ld.so")
        seg.offsetOverride = 1 << 20
        b.segments.insert(seg, at: 0)
        #expect(Self.verdict(b) == .fail(.ENOEXEC, "R-ELF-9"))
        // The file cut in the middle of the path (the interpreter's payload is placed first).
        var cut = Self.dynamic("/usr/libexec/ld.so")
        let layout = cut.assemble()
        let range = try #require(layout.payloadRange(of: .interp))
        cut.truncatedTo = range.lowerBound + 3
        #expect(Self.verdict(cut) == .fail(.ENOEXEC, "R-ELF-9"))
    }

    @Test("R-ELF-9: later PT_INTERP entries are ignored")
    func laterInterpIgnored() throws {
        // A second, invalid PT_INTERP (1 byte, no path) changes nothing.
        let b = Self.dynamic("/usr/libexec/ld.so").appending(.payload(.interp, [0x41], align: 1))
        let plan = try #require(mainPlan(b.build(), Self.arch))
        #expect(plan.interpPath == Array("/usr/libexec/ld.so".utf8))
    }

    @Test("R-ELF-9 is checked in table order with R-ELF-10, before R-ELF-12")
    func interpOrder() {
        // A bad interp before a bad PT_LOAD.
        var b = Self.dynamic("")
        b.segments.append(.load(flags: RW, vaddr: 0x60_0000, memsz: 0))
        #expect(Self.verdict(b) == .fail(.ENOEXEC, "R-ELF-9"))
        // A bad interp in an image without the OpenBSD note: pass 1 comes first.
        var c = Self.dynamic("")
        c.openBSDNote = false
        #expect(Self.verdict(c) == .fail(.ENOEXEC, "R-ELF-9"))
    }

    // MARK: R-ELF-10

    @Test("R-ELF-10: PT_LOAD p_filesz > p_memsz or p_memsz == 0")
    func badLoadSizes() {
        let cases: [(filesz: UInt64, memsz: UInt64)] = [(0x11, 0x10), (1, 0), (0, 0), (UInt64.max, UInt64.max - 1)]
        for c in cases {
            let b = Self.valid.appending(.load(flags: RW, vaddr: 0x60_0000, memsz: c.memsz, filesz: c.filesz))
            #expect(Self.verdict(b) == .fail(.EINVAL, "R-ELF-10"), "filesz \(c.filesz) memsz \(c.memsz)")
        }
    }

    @Test("R-ELF-10: p_filesz ≤ p_memsz and p_memsz > 0 is fine")
    func goodLoadSizes() {
        for (f, m): (UInt64, UInt64) in [(0x10, 0x10), (0, 1), (1, 2)] {
            let b = Self.valid.appending(.load(flags: RW, vaddr: 0x60_0000, memsz: m, filesz: f))
            #expect(Self.verdict(b) == .ok)
        }
    }

    @Test("R-ELF-10 applies to PT_LOAD only")
    func sizesOfOtherSegments() {
        #expect(Self.verdict(Self.valid.appending(raw(.dynamic, filesz: 0x20, memsz: 0))) == .ok)
        #expect(Self.verdict(Self.valid.appending(raw(.gnuStack, filesz: 0, memsz: 0))) == .ok)
    }

    // MARK: R-ELF-11, R-ELF-13

    static var pie: ElfBuilder { .staticPIE(arch: arch, text: (0x1000, 0x1000), sites: [site(0x1010, 20)]) }

    @Test("R-ELF-13: a static PIE with PT_PHDR and a first PT_LOAD at 0 is accepted")
    func pieAccepted() {
        #expect(Self.verdict(Self.pie) == .ok)
    }

    @Test("R-ELF-11/13: ET_DYN without PT_PHDR")
    func pieWithoutPhdr() {
        var b = Self.pie
        b.includePhdr = false
        #expect(Self.verdict(b) == .fail(.EINVAL, "R-ELF-13"))
        // PT_PHDR anywhere in the table counts (R-ELF-11).
        #expect(Self.verdict(b.appending(raw(.phdr, offset: 64, vaddr: 64, filesz: 56, memsz: 56, align: 8))) == .ok)
    }

    @Test("R-ELF-13: ET_DYN without PT_LOAD")
    func pieWithoutLoad() {
        var b = Self.pie
        b.segments = []
        #expect(Self.verdict(b) == .fail(.EINVAL, "R-ELF-13"))
    }

    @Test("R-ELF-13: the FIRST PT_LOAD in table order must have p_vaddr 0")
    func pieBaseNotZero() {
        var b = Self.pie
        b.segments.removeFirst()  // the read-only PT_LOAD at 0: the text at 0x1000 is now first
        #expect(Self.verdict(b) == .fail(.EINVAL, "R-ELF-13"))
        var swapped = Self.pie
        swapped.segments.swapAt(0, 1)  // a PT_LOAD at vaddr 0 exists, but second
        #expect(Self.verdict(swapped) == .fail(.EINVAL, "R-ELF-13"))
    }

    @Test("R-ELF-13 applies to ET_DYN only")
    func execNeedsNoPhdr() {
        var b = Self.valid
        b.includePhdr = false
        #expect(Self.verdict(b) == .ok)
    }

    // MARK: R-ELF-12

    /// A note header + name + descriptor, 4-byte padded, little-endian.
    static func note(name: [UInt8], type: UInt32 = 1, desc: [UInt8] = [0, 0, 0, 0]) -> [UInt8] {
        func pad(_ b: [UInt8]) -> [UInt8] { b + [UInt8](repeating: 0, count: (4 - b.count % 4) % 4) }
        let e = Endian.little
        return e.encode(UInt64(name.count), width: 4) + e.encode(UInt64(desc.count), width: 4)
            + e.encode(UInt64(type), width: 4) + pad(name) + pad(desc)
    }

    static var withoutNote: ElfBuilder { withoutNote(on: arch) }

    /// `valid` for `arch`, without its OpenBSD note.
    static func withoutNote(on arch: Arch) -> ElfBuilder {
        var b = valid(on: arch)
        b.openBSDNote = false
        return b
    }

    @Test("R-ELF-12: no OpenBSD note and EI_OSABI 0 → ENOEXEC", arguments: Arch.all)
    func noNote(arch: Arch) {
        var b = ElfBuilder.staticExec(arch: arch, sites: [])
        b.openBSDNote = false
        #expect(mainVerdict(b.build(), arch) == .fail(.ENOEXEC, "R-ELF-12"))
    }

    @Test("R-ELF-12: EI_OSABI plays no part: OSABI 12 without a note is ENOEXEC, a note with any OSABI is ok")
    func osabiWithoutNote() {
        var b = Self.withoutNote
        b.ident.osabi = ElfHeader.osabiOpenBSD
        #expect(Self.verdict(b) == .fail(.ENOEXEC, "R-ELF-12"))
        var noted = Self.valid
        for osabi: UInt8 in [0, 9, ElfHeader.osabiOpenBSD, 0xff] {
            noted.ident.osabi = osabi
            #expect(Self.verdict(noted) == .ok, "EI_OSABI \(osabi)")
        }
    }

    /// A note whose header says `namesz` and whose name area holds `name` (padded to 4).
    static func note(namesz: UInt32, name: [UInt8], descsz: UInt32 = 0) -> [UInt8] {
        let e = Endian.little
        let padded = name + [UInt8](repeating: 0, count: (4 - name.count % 4) % 4)
        return e.encode(UInt64(namesz), width: 4) + e.encode(UInt64(descsz), width: 4) + e.encode(1, width: 4) + padded
    }

    @Test("R-ELF-12: namesz ≥ 7 and the C string \"OpenBSD\" match; its NUL may lie in the padding")
    func noteNameSize() {
        func verdict(_ note: [UInt8]) -> Verdict { Self.noteVerdict(Self.arch, note) }
        let openbsd = Array("OpenBSD".utf8)
        #expect(verdict(Self.note(namesz: 7, name: openbsd + [0])) == .ok)
        #expect(verdict(Self.note(namesz: 8, name: openbsd + [0])) == .ok)
        #expect(verdict(Self.note(namesz: 12, name: openbsd + [0, 0x41, 0x42, 0x43, 0])) == .ok)
        #expect(verdict(Self.note(namesz: 7, name: openbsd + [0x58])) == .fail(.ENOEXEC, "R-ELF-12"))
        #expect(verdict(Self.note(namesz: 6, name: openbsd + [0])) == .fail(.ENOEXEC, "R-ELF-12"))
        #expect(verdict(Self.note(namesz: 0, name: openbsd + [0])) == .fail(.ENOEXEC, "R-ELF-12"))
    }

    /// `notes` as the only PT_NOTE of a static program of `arch` (little-endian arches only).
    static func noteVerdict(_ arch: Arch, _ notes: [UInt8]) -> Verdict {
        Self.verdict(withoutNote(on: arch).appending(.payload(.note, notes, align: 4)), arch: arch)
    }

    @Test("R-ELF-12, D-NOTE-ROUND: sizes ≥ 0xFFFFFFFD round up to 0 only in ILP32's 32-bit size_t")
    func noteNameSizeWraps() {
        let openbsd = Array("OpenBSD".utf8) + [0]
        for namesz: UInt32 in [0xFFFF_FFFD, 0xFFFF_FFFF] {
            let note = Self.note(namesz: namesz, name: openbsd)
            // i386: total = 12 + 0 + 0, so the next 8 bytes are read as the name and the walk goes on.
            #expect(Self.noteVerdict(.i386, note) == .ok)
            // amd64: elfround works in a 64-bit size_t, the size is 2^32, the note never fits and
            // the walk of the segment stops.
            #expect(Self.noteVerdict(.amd64, note) == .fail(.ENOEXEC, "R-ELF-12"))
        }
        // 0xFFFFFFFC rounds to itself. On amd64 the note does not fit and the walk stops; on i386
        // the 32-bit sum 12 + 0xFFFFFFFC wraps to 8, the note "fits" and its name is read.
        #expect(Self.noteVerdict(.amd64, Self.note(namesz: 0xFFFF_FFFC, name: openbsd)) == .fail(.ENOEXEC, "R-ELF-12"))
        #expect(Self.noteVerdict(.i386, Self.note(namesz: 0xFFFF_FFFC, name: openbsd)) == .ok)
    }

    @Test("R-ELF-12, D-NOTE-ROUND: on ILP32 a wrapping sum sends the walk back, and it goes on from there")
    func noteWalkJumpsBack() {
        func le(_ words: [UInt32]) -> [UInt8] { words.flatMap { Endian.little.encode(UInt64($0), width: 4) } }
        // Offset 0: a note whose 24 desc bytes hold the OpenBSD note (offset 12), next at 36.
        // Offset 36: descsz 0xFFFFFFDC, so 36 + 12 + 0xFFFFFFDC wraps to 12: the OpenBSD note.
        // Then 32, then 44, where fewer than 12 bytes are left.
        let segment = le([0, 0x18, 0]) + le([8, 0, 1]) + Array("OpenBSD\0".utf8) + le([0]) + le([0, 0xFFFF_FFDC, 0])
        #expect(segment.count == 48)
        #expect(Self.noteVerdict(.i386, segment) == .ok)
        // On LP64 the same note ends the walk (36 + 12 + 0xFFFFFFDC does not fit): no match.
        #expect(Self.noteVerdict(.amd64, segment) == .fail(.ENOEXEC, "R-ELF-12"))
        // A walk that comes back to an offset it visited loops in the kernel; the model stops it
        // with what it found: a note of size 2^32 (12 + 0xFFFFFFF4) stays where it is.
        let loop = le([8, 0, 1]) + Array("OpenBSD\0".utf8) + le([0, 0xFFFF_FFF4, 0])
        #expect(Self.noteVerdict(.i386, loop) == .ok)
        #expect(Self.noteVerdict(.i386, le([0, 0xFFFF_FFF4, 0]) + Self.note(name: Array("OpenBSD\0".utf8))) == .fail(.ENOEXEC, "R-ELF-12"))
    }

    @Test("R-ELF-12, D-NOTE-ROUND: a descsz of 0xFFFFFFFF ends the walk on LP64, and is 0 on ILP32")
    func noteDescSizeWraps() {
        // A GNU note claiming 0xFFFFFFFF desc bytes and carrying none, then the OpenBSD note.
        let gnu = Self.note(namesz: 4, name: Array("GNU\0".utf8), descsz: 0xFFFF_FFFF)
        let openbsd = Self.note(name: Array("OpenBSD\0".utf8))
        #expect(Self.noteVerdict(.i386, gnu + openbsd) == .ok)
        #expect(Self.noteVerdict(.amd64, gnu + openbsd) == .fail(.ENOEXEC, "R-ELF-12"))
    }

    @Test("R-ELF-12: a note must be named \"OpenBSD\"")
    func wrongNoteName() {
        for name in ["NetBSD\0", "GNU\0", "OpenBSE\0", "openbsd\0"] {
            let b = Self.withoutNote.appending(.payload(.note, Self.note(name: Array(name.utf8)), align: 4))
            #expect(Self.verdict(b) == .fail(.ENOEXEC, "R-ELF-12"), "\(name)")
        }
    }

    @Test("R-ELF-12: the OpenBSD note may follow other notes, in any PT_NOTE")
    func noteAmongOthers() {
        let gnu = Self.note(name: Array("GNU\0".utf8), type: 3, desc: [1, 2, 3, 4, 5, 6, 7, 8])
        let openbsd = Self.note(name: Array("OpenBSD\0".utf8))
        let sameSegment = Self.withoutNote.appending(.payload(.note, gnu + openbsd, align: 4))
        #expect(Self.verdict(sameSegment) == .ok)
        let secondSegment = Self.withoutNote.appending(.payload(.note, gnu, align: 4))
            .appending(.payload(.note, openbsd, align: 4))
        #expect(Self.verdict(secondSegment) == .ok)
    }

    @Test("R-ELF-12: PT_NOTE segments larger than 1024 bytes are not scanned")
    func noteScanLimit() {
        let openbsd = Self.note(name: Array("OpenBSD\0".utf8))
        let exactly1024 = openbsd + [UInt8](repeating: 0, count: 1024 - openbsd.count)
        #expect(Self.verdict(Self.withoutNote.appending(.payload(.note, exactly1024, align: 4))) == .ok)
        let over = exactly1024 + [0, 0, 0, 0]
        #expect(Self.verdict(Self.withoutNote.appending(.payload(.note, over, align: 4))) == .fail(.ENOEXEC, "R-ELF-12"))
    }

    @Test("R-ELF-12: a note segment that cannot be read ends the scan without an error of its own")
    func noteReadError() {
        var unreadable = ElfBuilder.Segment.openBSDNote(endian: .little)
        unreadable.offsetOverride = 1 << 20
        #expect(Self.verdict(Self.withoutNote.appending(unreadable)) == .fail(.ENOEXEC, "R-ELF-12"))
        // A good note found before the unreadable segment stands: the exec succeeds.
        #expect(Self.verdict(Self.withoutNote.appending(.openBSDNote(endian: .little)).appending(unreadable)) == .ok)
    }

    @Test("R-ELF-12: the first OpenBSD note decides; nothing after it in the scan can undo it")
    func firstNoteDecides() {
        let openbsd = Self.note(name: Array("OpenBSD\0".utf8))
        // In the same segment: 80 empty notes after it, then a note whose sizes run past the
        // segment (the walk would break there); then an unreadable PT_NOTE.
        let empties = [UInt8](repeating: 0, count: 12 * 80)
        let runaway = Self.note(namesz: 8, name: [UInt8](repeating: 0x41, count: 8), descsz: 0xFF)
        var unreadable = ElfBuilder.Segment.openBSDNote(endian: .little)
        unreadable.offsetOverride = 1 << 20
        let b = Self.withoutNote.appending(.payload(.note, openbsd + empties + runaway, align: 4)).appending(unreadable)
        #expect(Self.verdict(b) == .ok)
        // The same segment without the OpenBSD note: the walk finds none and the exec fails.
        let none = Self.withoutNote.appending(.payload(.note, empties + runaway, align: 4)).appending(unreadable)
        #expect(Self.verdict(none) == .fail(.ENOEXEC, "R-ELF-12"))
    }

    @Test("R-ELF-12: a zero-byte PT_NOTE is read (zero bytes) wherever it points, and the scan goes on")
    func emptyNoteAnywhere() {
        let empty = raw(.note, offset: 1 << 20, filesz: 0, memsz: 0, align: 4)
        #expect(Self.verdict(Self.withoutNote.appending(empty).appending(.openBSDNote(endian: .little))) == .ok)
        #expect(Self.verdict(Self.withoutNote.appending(empty)) == .fail(.ENOEXEC, "R-ELF-12"))
    }

    @Test("R-ELF-12: the scan stops at an unreadable PT_NOTE, even one too small to hold a note")
    func tinyNoteReadError() {
        // An 8-byte PT_NOTE lying past the end of the file comes first: the scan ends there, before
        // the valid OpenBSD note that follows, so the exec fails. (Regression f0226e05: the core
        // once skipped PT_NOTEs smaller than a note header plus name without reading them.)
        let tiny = raw(.note, offset: 1 << 20, filesz: 8, memsz: 8, align: 4)
        let b = Self.withoutNote.appending(tiny).appending(.openBSDNote(endian: .little))
        #expect(Self.verdict(b) == .fail(.ENOEXEC, "R-ELF-12"))
        // The same tiny segment inside the file is read and simply holds no note.
        let inFile = raw(.note, offset: 0, filesz: 8, memsz: 8, align: 4)
        #expect(Self.verdict(Self.withoutNote.appending(inFile).appending(.openBSDNote(endian: .little))) == .ok)
    }

    @Test("R-ELF-12 is checked before R-ELF-13")
    func noteBeforePie() {
        var b = Self.pie
        b.openBSDNote = false
        b.includePhdr = false
        #expect(Self.verdict(b) == .fail(.ENOEXEC, "R-ELF-12"))
    }

    @Test("R-ELF-12: big-endian images carry the note in their byte order")
    func bigEndianNote() {
        #expect(mainVerdict(ElfBuilder.staticExec(arch: .sparc64, sites: []).build(), .sparc64) == .ok)
        // A little-endian note in a big-endian image has namesz 0x08000000: not the OpenBSD note.
        var b = ElfBuilder.staticExec(arch: .sparc64, sites: [])
        b.openBSDNote = false
        b.segments.append(.openBSDNote(endian: .little))
        #expect(mainVerdict(b.build(), .sparc64) == .fail(.ENOEXEC, "R-ELF-12"))
    }

    // MARK: R-ELF-14

    @Test("R-ELF-14: PT_SHLIB anywhere")
    func shlib() {
        #expect(Self.verdict(Self.valid.appending(raw(.shlib))) == .fail(.ENOEXEC, "R-ELF-14"))
        #expect(Self.verdict(Self.valid.prepending(raw(.shlib))) == .fail(.ENOEXEC, "R-ELF-14"))
    }

    @Test("R-ELF-14 is a pass-2 check: pass-1 errors and R-ELF-13 win even from later entries")
    func shlibOrder() {
        let emptyLoad = ElfBuilder.Segment.load(flags: RW, vaddr: 0x60_0000, memsz: 0)
        #expect(Self.verdict(Self.valid.prepending(raw(.shlib)).appending(emptyLoad)) == .fail(.EINVAL, "R-ELF-10"))
        var pie = Self.pie.prepending(raw(.shlib))
        pie.includePhdr = false
        #expect(Self.verdict(pie) == .fail(.EINVAL, "R-ELF-13"))
    }

    // MARK: R-ELF-15

    static func randomize(_ memsz: UInt64) -> ElfBuilder.Segment {
        raw(.openbsdRandomize, flags: RW, vaddr: 0x60_0000, memsz: memsz, align: 8)
    }

    @Test("R-ELF-15: cumulative PT_OPENBSD_RANDOMIZE size up to the limit is accepted")
    func randomizeWithinLimit() {
        let limit = KernelConfig.openbsd.randomizeLimit
        #expect(Self.verdict(Self.valid.appending(Self.randomize(limit))) == .ok)
        #expect(Self.verdict(Self.valid.appending(Self.randomize(limit - 8)).appending(Self.randomize(8))) == .ok)
    }

    @Test("R-ELF-15: exceeding the limit is ENOMEM")
    func randomizeOverLimit() {
        let limit = KernelConfig.openbsd.randomizeLimit
        #expect(Self.verdict(Self.valid.appending(Self.randomize(limit + 1))) == .fail(.ENOMEM, "R-ELF-15"))
        let split = Self.valid.appending(Self.randomize(limit / 2)).appending(Self.randomize(limit / 2 + 1))
        #expect(Self.verdict(split) == .fail(.ENOMEM, "R-ELF-15"))
        // A sum that overflows 64 bits is over the limit, not a trap.
        let huge = Self.valid.appending(Self.randomize(UInt64.max)).appending(Self.randomize(UInt64.max))
        #expect(Self.verdict(huge) == .fail(.ENOMEM, "R-ELF-15"))
    }

    @Test("R-ELF-15: the limit is a parameter")
    func randomizeLimitConfigurable() {
        let config = KernelConfig(randomizeLimit: 64)
        #expect(Self.verdict(Self.valid.appending(Self.randomize(64)), config: config) == .ok)
        #expect(Self.verdict(Self.valid.appending(Self.randomize(65)), config: config) == .fail(.ENOMEM, "R-ELF-15"))
    }

    @Test("R-ELF-14/15 are decided in table order")
    func shlibRandomizeOrder() {
        let over = Self.randomize(KernelConfig.openbsd.randomizeLimit + 1)
        #expect(Self.verdict(Self.valid.prepending(raw(.shlib)).prepending(over)) == .fail(.ENOMEM, "R-ELF-15"))
        #expect(Self.verdict(Self.valid.prepending(over).prepending(raw(.shlib))) == .fail(.ENOEXEC, "R-ELF-14"))
    }

    // MARK: R-ELF-16

    @Test("R-ELF-16: of several PT_OPENBSD_SYSCALLS the last one is used")
    func lastPinTableWins() throws {
        let first = ElfBuilder.Segment.syscalls([site(0x40_0100, 1)], endian: .little)
        let b = Self.valid.appending(first)  // builder's own table [0x400010 → 20] comes last
        let plan = try #require(mainPlan(b.build(), Self.arch))
        #expect(plan.pinTable?.entries == [site(0x40_0010, 20)])
        let pins = try #require(plan.region?.pins)
        #expect(pins.count == 21 && pins[20] == 0x10 && pins[1] == 0)
    }

    @Test("R-ELF-16: the last table is used even when it is malformed")
    func lastPinTableWinsEvenIfBad() throws {
        var b = Self.valid
        b.syscalls = nil
        b.segments.append(.syscalls([site(0x40_0010, 20)], endian: .little))
        b.segments.append(.payload(.openbsdSyscalls, [1, 2, 3, 4], memsz: 0))  // 4 bytes: R-PT-2
        let plan = try #require(mainPlan(b.build(), Self.arch))
        #expect(plan.pinTable == .discarded(rule: "R-PT-2", entries: []))
        #expect(plan.region == nil)
    }

    @Test("R-ELF-16: a program with PT_INTERP has its table ignored entirely")
    func dynamicTableIgnored() throws {
        var b = Self.dynamic("/usr/libexec/ld.so")
        b.syscalls = [site(0x40_0010, 20)]
        let plan = try #require(mainPlan(b.build(), Self.arch))
        #expect(plan.pinSegment == nil && plan.pinTable == nil && plan.region == nil)
        // Not even validated: a table that would be discarded changes nothing.
        b.syscalls = nil
        b.segments.append(.payload(.openbsdSyscalls, [1, 2, 3], memsz: 0))
        let plan2 = try #require(mainPlan(b.build(), Self.arch))
        #expect(plan2.pinTable == nil)
    }

    // MARK: R-ELF-17

    @Test("R-ELF-17: a W+X PT_LOAD is data, not text")
    func writableExecutableIsData() throws {
        // A W+X segment below the text: if it counted as text, the span would start at 0x300000.
        let b = Self.valid.prepending(.load(flags: RWX, vaddr: 0x30_0000, memsz: 0x1000))
        let region = try #require(mainPlan(b.build(), Self.arch)?.region)
        #expect(region.start == 0x40_0000 && region.end == 0x40_1000)
    }

    @Test("R-ELF-17: X without R is text; R without X is neither")
    func textClassification() throws {
        let xOnly = ElfBuilder.Segment.load(flags: ProgramFlags.x, vaddr: 0x30_0000, memsz: 0x1000)
        let r1 = try #require(mainPlan(Self.valid.appending(xOnly).build(), Self.arch)?.region)
        // Lower text segment later in the table: span grows downward, keeping the end.
        #expect(r1.start == 0x30_0000 && r1.end == 0x40_1000)
        let rOnly = ElfBuilder.Segment.load(flags: R, vaddr: 0x30_0000, memsz: 0x1000)
        let r2 = try #require(mainPlan(Self.valid.appending(rOnly).build(), Self.arch)?.region)
        #expect(r2.start == 0x40_0000 && r2.end == 0x40_1000)
    }

    // MARK: R-ELF-26

    @Test("R-ELF-26: MAIN errors return the errno to the caller, no signal, no new image")
    func mainErrorsReturn() {
        let bad = Self.valid.appending(.load(flags: RW, vaddr: 0x60_0000, memsz: 0)).build()
        let ld = ElfBuilder.ldso(arch: Self.arch, sites: [site(0x1010, 1)]).build()
        let (outcome, state) = ProcessModel.exec(program: bad, interpreter: ld, arch: Self.arch)
        #expect(outcome.verdict == .fail(.EINVAL, "R-ELF-10"))
        #expect(outcome.verdict.signal == nil)
        #expect(state == nil)
        let (ok, okState) = ProcessModel.exec(program: Self.valid.build(), interpreter: nil, arch: Self.arch)
        #expect(ok.verdict == .ok)
        #expect(okState != nil)
    }
}
