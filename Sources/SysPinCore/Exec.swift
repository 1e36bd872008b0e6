/// Which of execve's two ELF loaders judges an image (§4).
public enum Loader: Hashable, Sendable {
    /// exec_elf_makecmds: the execve target.
    case main
    /// elf_load_file: the PT_INTERP file (ld.so).
    case interpreter
}

/// An image whose header and program-header table could be read.
public struct ElfImage: Sendable {
    public let bytes: [UInt8]
    public let header: ElfHeader
    public let phdrs: [ProgramHeader]

    public var view: ByteView { ByteView(bytes, endian: header.endian) }

    /// The bytes of [offset, offset + length) that lie inside the file (a prefix when the segment
    /// runs past the end; empty when it starts past it).
    public func bytesAvailable(offset: UInt64, length: UInt64) -> [UInt8] {
        let count = UInt64(bytes.count)
        guard offset < count else { return [] }
        let n = min(length, count - offset)
        return Array(bytes[Int(offset)..<Int(offset + n)])
    }
}

public enum ExecRules {
    /// The arch an image declares (CONTRACT: inspect without --arch): from e_ident class/data and
    /// e_machine. Returns the rejection when none can be determined.
    public static func inferArch(_ bytes: [UInt8]) -> Result<Arch, ExecRejection> {
        guard bytes.count >= 16 else { return .failure(.init(.ENOEXEC, "R-ELF-1", "file shorter than e_ident")) }
        guard Array(bytes[0..<4]) == ElfHeader.magic, let (c, d) = ElfHeader.identity(bytes) else {
            return .failure(.init(.ENOEXEC, "R-ELF-2", "bad ELF magic, class or data"))
        }
        guard let h = ElfHeader.read(bytes, elfClass: c, endian: d) else {
            return .failure(.init(.ENOEXEC, "R-ELF-1", "file shorter than the \(c.bits)-bit ELF header"))
        }
        guard let arch = Arch.matching(machine: h.machine, elfClass: c, endian: d) else {
            return .failure(.init(.ENOEXEC, "R-ELF-3", "e_machine \(h.machine) is no OpenBSD arch for ELF\(c.bits) \(d.name)-endian"))
        }
        return .success(arch)
    }

    /// R-ELF-1..5 and R-ELF-7: header acceptance and the program-header read.
    public static func readImage(
        _ bytes: [UInt8], arch: Arch, loader: Loader, openForWrite: Bool = false
    ) -> Result<ElfImage, ExecRejection> {
        guard let h = ElfHeader.read(bytes, elfClass: arch.elfClass, endian: arch.endian) else {
            return .failure(.init(.ENOEXEC, "R-ELF-1", "fewer than \(arch.elfClass.ehdrSize) header bytes"))
        }
        guard h.hasMagic, h.identClass == arch.elfClass.rawValue, h.identData == arch.endian.rawValue,
            h.identVersion == 1
        else {
            return .failure(.init(.ENOEXEC, "R-ELF-2", "e_ident is not \(arch.name)'s ELF\(arch.elfClass.bits) \(arch.endian.name)-endian version 1"))
        }
        guard h.machine == arch.machine, h.version == 1 else {
            return .failure(.init(.ENOEXEC, "R-ELF-3", "e_machine \(h.machine)/e_version \(h.version), want \(arch.machine)/1"))
        }
        guard h.phnum <= 32 else {
            return .failure(.init(.ENOEXEC, "R-ELF-4", "e_phnum \(h.phnum) > ELF_MAX_VALID_PHDR 32"))
        }
        switch loader {
        case .main where h.type != .exec && h.type != .dyn,
            .interpreter where h.type != .dyn:
            return .failure(.init(.ENOEXEC, "R-ELF-5", "e_type \(h.type.name) not accepted by the \(loader == .main ? "main" : "interpreter") loader"))
        default: break
        }
        if loader == .main && openForWrite {
            return .failure(.init(.ETXTBSY, "R-ELF-6", "file is open for writing"))
        }
        let v = ByteView(bytes, endian: arch.endian)
        var phdrs: [ProgramHeader] = []
        phdrs.reserveCapacity(Int(h.phnum))  // ≤ 32, checked above
        for i in 0..<Int(h.phnum) {
            guard let ph = ProgramHeader.read(v, elfClass: arch.elfClass, phoff: h.phoff, index: i) else {
                return .failure(.init(.ENOEXEC, "R-ELF-7", "program header \(i) at e_phoff \(h.phoff) lies outside the file"))
            }
            phdrs.append(ph)
        }
        return .success(ElfImage(bytes: bytes, header: h, phdrs: phdrs))
    }

    /// R-ELF-8: p_align > 1 must be a power of two.
    static func alignIsValid(_ ph: ProgramHeader) -> Bool {
        ph.align <= 1 || ph.align & (ph.align - 1) == 0
    }

    /// ELF_TRUNC for a segment (p_align > 1 only).
    static func trunc(_ value: UInt64, _ align: UInt64) -> UInt64 {
        align > 1 ? value & ~(align - 1) : value
    }

    /// elf_os_pt_note (R-ELF-12): whether some PT_NOTE of ≤ 1024 bytes holds an "OpenBSD" note.
    /// A note segment that cannot be read fully is a short read → ENOEXEC.
    static func findOpenBSDNote(_ image: ElfImage) -> Result<Bool, ExecRejection> {
        let name: [UInt8] = Array("OpenBSD".utf8) + [0]
        var found = false
        for (i, ph) in image.phdrs.enumerated() where ph.type == .note && ph.filesz <= 1024 {
            // Every PT_NOTE of ≤ 1024 bytes is read, however small (exec_elf.c 1.194 has no lower
            // bound), so a short read fails the exec even when the segment could hold no note.
            guard let seg = image.view.slice(offset: ph.offset, length: ph.filesz) else {
                return .failure(.init(.ENOEXEC, "R-ELF-12", "PT_NOTE \(i) (\(ph.filesz) bytes at \(ph.offset)) runs past the end of the file"))
            }
            let v = ByteView(seg, endian: image.header.endian)
            var off: UInt64 = 0
            while off + 12 <= ph.filesz {
                let namesz = UInt64(v.u32(off)!), descsz = UInt64(v.u32(off + 4)!)
                let total = 12 + ((namesz + 3) & ~3) + ((descsz + 3) & ~3)
                guard off + total <= ph.filesz else { break }
                if namesz == UInt64(name.count), v.slice(offset: off + 12, length: namesz) == name {
                    found = true
                }
                off += total
            }
        }
        return .success(found)
    }
}

/// A rejection: errno, deciding rule, and what in the file made it fail (LLVM Object/ELF.h style).
public struct ExecRejection: Error, Hashable, Sendable, CustomStringConvertible {
    public var errno: OpenBSDErrno
    public var rule: RuleID
    public var detail: String

    public init(_ errno: OpenBSDErrno, _ rule: RuleID, _ detail: String) {
        self.errno = errno
        self.rule = rule
        self.detail = detail
    }

    public var verdict: Verdict { .fail(errno, rule) }
    public var description: String { "\(errno.name) [\(rule.rawValue)]: \(detail)" }
}
