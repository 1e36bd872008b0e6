import SysPinCore
import SysPinTesting
import Testing

/// The test-image builder itself, checked against bytes written out by hand from the ELF spec.
@Suite("ElfBuilder encoding")
struct ElfBuilderTests {
    @Test("ELF64 little-endian header (amd64 static ET_EXEC)")
    func amd64Header() {
        let bytes = ElfBuilder.staticExec(arch: .amd64, sites: []).build()
        let expected: [UInt8] =
            [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0] + [UInt8](repeating: 0, count: 8)
            + [2, 0, 0x3e, 0, 1, 0, 0, 0]  // e_type EXEC, e_machine 62, e_version 1
            + [0, 0, 0x40, 0, 0, 0, 0, 0]  // e_entry 0x400000
            + [0x40, 0, 0, 0, 0, 0, 0, 0]  // e_phoff 64
            + [UInt8](repeating: 0, count: 8)  // e_shoff
            + [0, 0, 0, 0, 0x40, 0, 0x38, 0, 4, 0, 0, 0, 0, 0, 0, 0]  // flags, ehsize, phentsize, phnum 4, sh*
        #expect(Array(bytes.prefix(64)) == expected)
    }

    @Test("ELF32 big-endian header and first program header (powerpc static ET_EXEC)")
    func powerpcHeader() {
        let bytes = ElfBuilder.staticExec(arch: .powerpc, sites: []).build()
        let header: [UInt8] =
            [0x7f, 0x45, 0x4c, 0x46, 1, 2, 1, 0] + [UInt8](repeating: 0, count: 8)
            + [0, 2, 0, 20, 0, 0, 0, 1]  // e_type EXEC, e_machine 20, e_version 1
            + [0, 0x40, 0, 0, 0, 0, 0, 0x34]  // e_entry, e_phoff 52
            + [0, 0, 0, 0, 0, 0, 0, 0]  // e_shoff, e_flags
            + [0, 0x34, 0, 0x20, 0, 4, 0, 0, 0, 0, 0, 0]  // ehsize 52, phentsize 32, phnum 4, sh*
        #expect(Array(bytes.prefix(52)) == header)
        // p_type, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_flags, p_align.
        let text: [UInt8] = [0, 0, 0, 1, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 5, 0, 0, 0x10, 0]
        #expect(Array(bytes[52..<84]) == text)
    }

    @Test("the OpenBSD note: namesz 8, descsz 4, type 1, \"OpenBSD\\0\", zero descriptor")
    func note() {
        #expect(ElfBuilder.openBSDNote(endian: .big) == [0, 0, 0, 8, 0, 0, 0, 4, 0, 0, 0, 1] + Array("OpenBSD".utf8) + [0, 0, 0, 0, 0])
        #expect(ElfBuilder.openBSDNote(endian: .little) == [8, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0] + Array("OpenBSD".utf8) + [0, 0, 0, 0, 0])
    }

    @Test("PT_PHDR describes the table; the PT_LOAD at 0 maps the start of the file")
    func pieLayout() throws {
        let layout = ElfBuilder.staticPIE(arch: .amd64, sites: [site(0x1010, 1)]).assemble()
        let ph = layout.programHeaders
        #expect(ph.map(\.type) == [.phdr, .load, .load, .load, .note, .openbsdSyscalls])
        #expect(ph[0].offset == 64 && ph[0].filesz == 6 * 56 && ph[0].vaddr == 64)
        #expect(ph[1].offset == 0 && ph[1].vaddr == 0 && ph[1].filesz == UInt64(layout.bytes.count))
        #expect(ph[2].filesz == 0 && ph[2].vaddr == 0x1000 && ph[2].flags == RX)
    }

    @Test("overrides write the field only: e_phoff, p_offset, p_filesz, truncation")
    func overrides() {
        var b = ElfBuilder.staticExec(arch: .amd64, sites: [site(0x40_0010, 1)])
        b.phoff = 0x1234
        var seg = ElfBuilder.Segment.syscalls([site(0x40_0010, 1)], endian: .little)
        seg.fileszOverride = 7
        seg.offsetOverride = 9
        b.syscalls = nil
        b.segments.append(seg)
        let layout = b.assemble()
        // The table still sits right after the header; e_phoff lies.
        #expect(layout.phdrTableOffset == 64)
        #expect(Array(layout.bytes[32..<40]) == [0x34, 0x12, 0, 0, 0, 0, 0, 0])
        let last = layout.programHeaders[2]
        #expect(last.type == .openbsdSyscalls && last.offset == 9 && last.filesz == 7)
        b.truncatedTo = 10
        #expect(b.build().count == 10)
    }
}
