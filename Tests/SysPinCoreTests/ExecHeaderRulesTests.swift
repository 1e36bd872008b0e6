import SysPinCore
import SysPinTesting
import Testing

/// R-ELF-1..7: ELF header acceptance and the program-header read (SPEC §4.1).
@Suite("R-ELF-1..7 header acceptance")
struct ExecHeaderRulesTests {
    static func valid(_ arch: Arch) -> ElfBuilder {
        .staticExec(arch: arch, text: (0x40_0000, 0x1000), sites: [site(0x40_0010, 1), site(0x40_0020, 20)])
    }

    static func other(_ elfClass: ElfClass) -> UInt8 { elfClass == .elf64 ? 1 : 2 }

    // MARK: accepting

    @Test("a well-formed static ET_EXEC is accepted", arguments: Arch.all)
    func acceptsValidImage(arch: Arch) {
        #expect(mainVerdict(Self.valid(arch).build(), arch) == .ok)
    }

    @Test("the header the loader reads is the one the builder wrote", arguments: Arch.all)
    func headerFieldsRoundTrip(arch: Arch) throws {
        let bytes = Self.valid(arch).build()
        let plan = try #require(mainPlan(bytes, arch))
        let h = plan.image.header
        #expect(h.type == .exec)
        #expect(h.machine == arch.machine)
        #expect(h.version == 1)
        #expect(h.entry == 0x40_0000)
        #expect(h.phoff == UInt64(arch.elfClass.ehdrSize))
        // text LOAD, data LOAD, PT_NOTE, PT_OPENBSD_SYSCALLS
        #expect(h.phnum == 4)
        #expect(plan.image.phdrs.map(\.type) == [.load, .load, .note, .openbsdSyscalls])
        #expect(plan.image.phdrs[0].vaddr == 0x40_0000 && plan.image.phdrs[0].flags == RX)
    }

    // MARK: R-ELF-1

    @Test("R-ELF-1: fewer than sizeof(Elf_Ehdr) bytes", arguments: Arch.all)
    func shortHeader(arch: Arch) {
        let bytes = Self.valid(arch).build()
        for n in [0, 1, 4, 16, arch.elfClass.ehdrSize - 1] {
            #expect(mainVerdict(Array(bytes.prefix(n)), arch) == .fail(.ENOEXEC, "R-ELF-1"), "prefix \(n)")
        }
    }

    @Test("R-ELF-1: the header size is the arch's (52 bytes satisfy ELF32, not ELF64)")
    func headerSizeIsPerClass() {
        // An i386 file cut to its 52-byte header: long enough for i386 (which then fails reading
        // its phdrs, R-ELF-7) but short for amd64's 64-byte header.
        let cut = Array(Self.valid(.i386).build().prefix(52))
        #expect(mainVerdict(cut, .amd64) == .fail(.ENOEXEC, "R-ELF-1"))
        #expect(mainVerdict(cut, .i386) == .fail(.ENOEXEC, "R-ELF-7"))
    }

    // MARK: R-ELF-2

    @Test("R-ELF-2: any corrupted magic byte", arguments: Arch.all)
    func badMagic(arch: Arch) {
        for i in 0..<4 {
            var magic = ElfHeader.magic
            magic[i] ^= 0x20
            var b = Self.valid(arch)
            b.ident.magic = magic
            #expect(mainVerdict(b.build(), arch) == .fail(.ENOEXEC, "R-ELF-2"), "magic byte \(i)")
        }
    }

    @Test("R-ELF-2: EI_CLASS must be the arch's class", arguments: Arch.all)
    func badClass(arch: Arch) {
        for c: UInt8 in [0, Self.other(arch.elfClass), 3] {
            var b = Self.valid(arch)
            b.ident.elfClass = c
            #expect(mainVerdict(b.build(), arch) == .fail(.ENOEXEC, "R-ELF-2"), "class \(c)")
        }
    }

    @Test("R-ELF-2: EI_DATA must be the arch's byte order", arguments: Arch.all)
    func badData(arch: Arch) {
        let wrong: UInt8 = arch.endian == .little ? 2 : 1
        for d: UInt8 in [0, wrong, 3] {
            var b = Self.valid(arch)
            b.ident.data = d
            #expect(mainVerdict(b.build(), arch) == .fail(.ENOEXEC, "R-ELF-2"), "data \(d)")
        }
    }

    @Test("R-ELF-2: EI_VERSION must be 1", arguments: Arch.all)
    func badIdentVersion(arch: Arch) {
        for v: UInt8 in [0, 2, 0xff] {
            var b = Self.valid(arch)
            b.ident.version = v
            #expect(mainVerdict(b.build(), arch) == .fail(.ENOEXEC, "R-ELF-2"), "EI_VERSION \(v)")
        }
    }

    @Test("R-ELF-2: an image for another arch's class or byte order")
    func foreignIdentity() {
        // powerpc64 is ELF64 big-endian: EI_DATA differs from amd64's.
        #expect(mainVerdict(Self.valid(.powerpc64).build(), .amd64) == .fail(.ENOEXEC, "R-ELF-2"))
        // mips64 and mips64el share e_machine 8 and differ only in EI_DATA.
        #expect(mainVerdict(Self.valid(.mips64el).build(), .mips64) == .fail(.ENOEXEC, "R-ELF-2"))
        #expect(mainVerdict(Self.valid(.mips64).build(), .mips64el) == .fail(.ENOEXEC, "R-ELF-2"))
        // i386 is ELF32: EI_CLASS differs from amd64's.
        #expect(mainVerdict(Self.valid(.i386).build(), .amd64) == .fail(.ENOEXEC, "R-ELF-2"))
    }

    @Test("R-ELF-2 is checked before R-ELF-3")
    func identBeforeMachine() {
        var b = Self.valid(.amd64)
        b.ident.version = 0
        b.machine = 3
        b.version = 7
        #expect(mainVerdict(b.build(), .amd64) == .fail(.ENOEXEC, "R-ELF-2"))
    }

    // MARK: R-ELF-3

    @Test("R-ELF-3: e_machine must be the arch's", arguments: Arch.all)
    func badMachine(arch: Arch) {
        var b = Self.valid(arch)
        b.machine = arch.machine &+ 1
        #expect(mainVerdict(b.build(), arch) == .fail(.ENOEXEC, "R-ELF-3"))
    }

    @Test("R-ELF-3: same class and byte order, other machine")
    func foreignMachine() {
        // arm64 and amd64 are both ELF64 little-endian; i386 and armv7 both ELF32 little-endian.
        #expect(mainVerdict(Self.valid(.arm64).build(), .amd64) == .fail(.ENOEXEC, "R-ELF-3"))
        #expect(mainVerdict(Self.valid(.i386).build(), .armv7) == .fail(.ENOEXEC, "R-ELF-3"))
        #expect(mainVerdict(Self.valid(.sparc64).build(), .powerpc64) == .fail(.ENOEXEC, "R-ELF-3"))
    }

    @Test("R-ELF-3: e_version must be 1", arguments: [UInt32(0), 2, 0xffff_ffff])
    func badVersion(version: UInt32) {
        var b = Self.valid(.amd64)
        b.version = version
        #expect(mainVerdict(b.build(), .amd64) == .fail(.ENOEXEC, "R-ELF-3"))
    }

    @Test("R-ELF-3 is checked before R-ELF-4")
    func machineBeforePhnum() {
        var b = Self.valid(.i386)
        b.machine = 62
        b.phnum = 33
        #expect(mainVerdict(b.build(), .i386) == .fail(.ENOEXEC, "R-ELF-3"))
    }

    // MARK: R-ELF-4

    @Test("R-ELF-4: e_phnum above 32", arguments: [UInt16(33), 64, 0xffff])
    func tooManyPhdrs(phnum: UInt16) {
        // The table really holds 4 entries: R-ELF-4 fires before the table is read (R-ELF-7).
        var b = Self.valid(.amd64)
        b.phnum = phnum
        #expect(mainVerdict(b.build(), .amd64) == .fail(.ENOEXEC, "R-ELF-4"))
    }

    @Test("R-ELF-4: exactly 32 program headers are accepted", arguments: [Arch.amd64, .powerpc])
    func thirtyTwoPhdrs(arch: Arch) throws {
        var b = Self.valid(arch)
        // 4 entries already; PT_NULL entries fill the table up to the limit.
        b.segments += Array(repeating: raw(.null), count: 28)
        let bytes = b.build()
        #expect(mainVerdict(bytes, arch) == .ok)
        #expect(try #require(mainPlan(bytes, arch)).image.phdrs.count == 32)
        b.segments.append(raw(.null))
        #expect(mainVerdict(b.build(), arch) == .fail(.ENOEXEC, "R-ELF-4"))
    }

    @Test("R-ELF-4: e_phnum 0 is not rejected by the header check")
    func zeroPhdrs() {
        // No program headers means no OpenBSD note: the image fails later, at R-ELF-12.
        var b = Self.valid(.amd64)
        b.phnum = 0
        #expect(mainVerdict(b.build(), .amd64) == .fail(.ENOEXEC, "R-ELF-12"))
    }

    @Test("R-ELF-4 is checked before R-ELF-5")
    func phnumBeforeType() {
        var b = Self.valid(.amd64)
        b.phnum = 33
        b.type = .rel
        #expect(mainVerdict(b.build(), .amd64) == .fail(.ENOEXEC, "R-ELF-4"))
    }

    // MARK: R-ELF-5

    @Test(
        "R-ELF-5: MAIN accepts only ET_EXEC and ET_DYN",
        arguments: [ElfType.none, .rel, .core, ElfType(rawValue: 5), ElfType(rawValue: 0xfe00), ElfType(rawValue: 0xffff)])
    func mainRejectsType(type: ElfType) {
        var b = Self.valid(.amd64)
        b.type = type
        #expect(mainVerdict(b.build(), .amd64) == .fail(.ENOEXEC, "R-ELF-5"))
    }

    @Test("R-ELF-5: MAIN accepts ET_DYN (static PIE)", arguments: Arch.all)
    func mainAcceptsDyn(arch: Arch) {
        let b = ElfBuilder.staticPIE(arch: arch, sites: [site(0x1010, 1)])
        #expect(mainVerdict(b.build(), arch, base: dynBase) == .ok)
    }

    @Test("R-ELF-5: INTERP accepts only ET_DYN")
    func interpRejectsExec() {
        var ld = ElfBuilder.ldso(arch: .amd64, sites: [site(0x1010, 1)])
        #expect(interpVerdict(ld.build(), .amd64) == .ok)
        for t in [ElfType.exec, .rel, .core, .none] {
            ld.type = t
            #expect(interpVerdict(ld.build(), .amd64) == .fail(.ENOEXEC, "R-ELF-5"), "\(t)")
        }
    }

    @Test("R-ELF-5 is checked before R-ELF-6")
    func typeBeforeTextBusy() {
        var b = Self.valid(.amd64)
        b.type = .core
        #expect(mainVerdict(b.build(), .amd64, openForWrite: true) == .fail(.ENOEXEC, "R-ELF-5"))
    }

    // MARK: R-ELF-6

    @Test("R-ELF-6: a main program open for writing is ETXTBSY", arguments: Arch.all)
    func textBusy(arch: Arch) {
        let bytes = Self.valid(arch).build()
        #expect(mainVerdict(bytes, arch, openForWrite: true) == .fail(.ETXTBSY, "R-ELF-6"))
        #expect(mainVerdict(bytes, arch, openForWrite: false) == .ok)
    }

    @Test("R-ELF-6 is checked before the program-header read (R-ELF-7)")
    func textBusyBeforePhdrRead() {
        var b = Self.valid(.amd64)
        b.phoff = 1 << 40
        #expect(mainVerdict(b.build(), .amd64, openForWrite: true) == .fail(.ETXTBSY, "R-ELF-6"))
        #expect(mainVerdict(b.build(), .amd64, openForWrite: false) == .fail(.ENOEXEC, "R-ELF-7"))
    }

    // MARK: R-ELF-7

    @Test("R-ELF-7: e_phoff past the end of the file", arguments: Arch.all)
    func phoffPastEnd(arch: Arch) {
        var b = Self.valid(arch)
        let size = UInt64(b.build().count)
        for off in [size, size + 1, arch.addressMask] {
            b.phoff = off
            #expect(mainVerdict(b.build(), arch) == .fail(.ENOEXEC, "R-ELF-7"), "e_phoff \(off)")
        }
    }

    @Test("R-ELF-7: a table that ends one byte past the file", arguments: Arch.all)
    func phdrTableOneBytePastEnd(arch: Arch) {
        var b = Self.valid(arch)
        let size = b.build().count
        let table = 4 * arch.elfClass.phdrSize
        b.phoff = UInt64(size - table + 1)
        #expect(mainVerdict(b.build(), arch) == .fail(.ENOEXEC, "R-ELF-7"))
    }

    @Test("R-ELF-7: e_phoff + table size overflowing 64 bits does not trap")
    func phoffOverflow() {
        var b = Self.valid(.amd64)
        b.phoff = UInt64.max - 10
        #expect(mainVerdict(b.build(), .amd64) == .fail(.ENOEXEC, "R-ELF-7"))
    }

    @Test("R-ELF-7: e_phentsize is not validated", arguments: [UInt16(0), 1, 32, 0xffff])
    func phentsizeIgnored(phentsize: UInt16) {
        var b = Self.valid(.amd64)
        b.phentsize = phentsize
        #expect(mainVerdict(b.build(), .amd64) == .ok)
    }

    @Test("R-ELF-7: with e_phnum 0 nothing is read, whatever e_phoff says")
    func noTableNoRead() {
        var b = Self.valid(.amd64)
        b.phnum = 0
        b.phoff = UInt64.max
        #expect(mainVerdict(b.build(), .amd64) == .fail(.ENOEXEC, "R-ELF-12"))
    }

    @Test("R-ELF-7: the table is read with the class's own struct size, from e_phoff")
    func tableReadFromPhoff() throws {
        // Point e_phoff at a second copy of the table appended to the file: the loader must read
        // it there (the copy differs: its text segment is at another address).
        let arch = Arch.i386
        var b = Self.valid(arch)
        let original = b.assemble()
        var moved = original.programHeaders
        moved[0].vaddr = 0x50_0000
        b.trailing = moved.flatMap { ElfBuilder.encode($0, elfClass: arch.elfClass, endian: arch.endian) }
        b.phoff = UInt64(original.bytes.count)
        let plan = try #require(mainPlan(b.build(), arch))
        #expect(plan.image.phdrs[0].vaddr == 0x50_0000)
    }
}
