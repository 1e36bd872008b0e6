#if LibElf
import CLibElf
import SysPinCore

/// The program headers libelf (elfutils, Debian libelf-dev) reads from an image, for comparison
/// with the core's own reader. nil when libelf refuses the image.
public enum LibElf {
    nonisolated(unsafe) static var initialised = false

    /// libelf's message for its last failure.
    public static var lastError: String {
        guard let m = elf_errmsg(-1) else { return "no libelf error" }
        return String(cString: m)
    }

    public static func programHeaders(_ bytes: [UInt8]) -> [ProgramHeader]? {
        if !initialised {
            _ = elf_version(UInt32(EV_CURRENT))
            initialised = true
        }
        // libelf may convert the image in place, so it gets its own copy (one memcpy).
        var copy = bytes
        return copy.withUnsafeMutableBytes { buf -> [ProgramHeader]? in
            guard let base = buf.baseAddress?.assumingMemoryBound(to: CChar.self), let elf = elf_memory(base, buf.count) else {
                return nil
            }
            defer { elf_end(elf) }
            guard elf_kind(elf) == ELF_K_ELF else { return nil }
            var n = 0
            guard elf_getphdrnum(elf, &n) == 0 else { return nil }
            var out: [ProgramHeader] = []
            out.reserveCapacity(n)
            for i in 0..<n {
                var ph = GElf_Phdr()
                guard gelf_getphdr(elf, Int32(i), &ph) != nil else { return nil }
                out.append(
                    ProgramHeader(
                        type: SegmentType(ph.p_type), flags: ph.p_flags, offset: ph.p_offset, vaddr: ph.p_vaddr,
                        paddr: ph.p_paddr, filesz: ph.p_filesz, memsz: ph.p_memsz, align: ph.p_align))
            }
            return out
        }
    }
}
#endif
