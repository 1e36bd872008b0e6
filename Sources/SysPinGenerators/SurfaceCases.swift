import PropertyBased
import SysPinCore
import SysPinTesting

/// One small image for the surface property: text bytes (with trap instructions planted at
/// aligned and unaligned positions), a few zero bytes of bss after them, and its pin table.
public struct SmallImage: Sendable, CustomStringConvertible {
    public var textVaddr: UInt64
    public var text: [UInt8]
    /// Zero-filled memory after the file bytes of the text segment.
    public var bss: UInt64
    public var sites: [SyscallSite]

    /// `builder`'s text PT_LOAD filled with `text` (p_filesz = text.count, p_memsz adds `bss`).
    func fill(_ builder: ElfBuilder) -> [UInt8] {
        var b = builder
        if let i = b.segments.firstIndex(where: { $0.header.type == .load && $0.header.flags & ProgramFlags.x != 0 }) {
            b.segments[i].payload = text
        }
        return b.build()
    }

    public var description: String {
        "text 0x\(hex(textVaddr))+\(text.count)+\(bss) sites " + sites.map { "\($0.sysno)@0x\(hex(UInt64($0.offset)))" }.joined(separator: " ")
    }
}

/// A process for `syspin surface`: a static program, or a dynamic one with ld.so, libc and libsys,
/// every image small enough to judge every address of it.
public struct SurfaceCase: Sendable, CustomStringConvertible {
    public var arch: Arch
    /// nil: a dynamic program (the fixture's, no text bytes) with `ldso`.
    public var staticProgram: SmallImage?
    public var ldso: SmallImage?
    public var libc: SmallImage?
    public var libsys: SmallImage?

    public var images: SurfaceImages {
        let memsz = { (i: SmallImage) in UInt64(i.text.count) + i.bss }
        let program =
            staticProgram.map { p in
                p.fill(ElfBuilder.staticExec(arch: arch, text: (p.textVaddr, memsz(p)), sites: p.sites))
            } ?? ElfBuilder.dynamicExec(arch: arch).build()
        return SurfaceImages(
            program: program,
            ldso: ldso.map { l in l.fill(ElfBuilder.ldso(arch: arch, textVaddr: l.textVaddr, textMemsz: memsz(l), sites: l.sites)) },
            libc: libc.map { l in l.fill(ElfBuilder.sharedLibrary(arch: arch, textVaddr: l.textVaddr, textMemsz: memsz(l), sites: l.sites)) },
            libsys: libsys.map { l in l.fill(ElfBuilder.sharedLibrary(arch: arch, textVaddr: l.textVaddr, textMemsz: memsz(l), sites: l.sites)) })
    }

    public var description: String {
        var parts = ["\(arch)"]
        if let p = staticProgram { parts.append("static program \(p)") } else { parts.append("dynamic program") }
        if let l = ldso { parts.append("ld.so \(l)") }
        if let l = libc { parts.append("libc \(l)") }
        if let l = libsys { parts.append("libsys \(l)") }
        return parts.joined(separator: "; ")
    }
}

public enum SurfaceGen {
    /// Text of 32…`maxText` bytes: random bytes with the arch's trap planted several times, at
    /// instruction-aligned and (where the CPU cannot start there) misaligned positions; sites on
    /// planted traps, elsewhere in the text, and repeated (the multiple-sites marker, R-PT-7).
    public static func image(arch: Arch, textVaddr: UInt64, maxText: Int, ldso: Bool, _ rng: inout DrawSource) -> SmallImage {
        let trap = arch.trap.bytes
        var text = Draw.bytes(Draw.int(32...maxText, &rng), &rng)
        var planted: [Int] = []
        for _ in 0..<Draw.int(1...6, &rng) {
            let at = Draw.int(0...(text.count - trap.count), &rng)
            text.replaceSubrange(at..<at + trap.count, with: trap)
            planted.append(at)
        }
        let pool: [UInt32] = [1, 4, 20, 59, Sysno.kbind, Sysno.sigreturn, Sysno.pinsyscalls, Draw.u32(2...330, &rng)]
        var sites: [SyscallSite] = []
        for _ in 0..<Draw.int(0...8, &rng) {
            let rel = Draw.chance(60, &rng) ? Draw.pick(planted, &rng) : Draw.int(1...(text.count - 1), &rng)
            let site = SyscallSite(offset: UInt32(textVaddr) + UInt32(rel), sysno: Draw.pick(pool, &rng))
            sites.append(site)
            if Draw.chance(20, &rng) { sites.append(SyscallSite(offset: site.offset &+ 1, sysno: site.sysno)) }
        }
        if ldso && !sites.contains(where: { $0.sysno == Sysno.kbind }) {
            sites.append(SyscallSite(offset: UInt32(textVaddr) + UInt32(Draw.pick(planted, &rng)), sysno: Sysno.kbind))
        }
        return SmallImage(textVaddr: textVaddr, text: text, bss: Draw.pick([0, 0, 3, 16], &rng), sites: sites)
    }

    /// Static programs (a third) and dynamic processes with ld.so and, mostly, libc and libsys.
    public static func process(maxText: Int = 160) -> Generator<SurfaceCase, Shrink.None<SurfaceCase>> {
        Generator { rng in
            let arch = Draw.pick(Arch.all, &rng)
            let page = arch.pageSize
            if Draw.chance(33, &rng) {
                let p = image(arch: arch, textVaddr: 0x40_0000 + page * Draw.u64(0...4, &rng), maxText: maxText, ldso: false, &rng)
                return SurfaceCase(
                    arch: arch, staticProgram: p, ldso: nil, libc: nil,
                    libsys: Draw.chance(50, &rng) ? image(arch: arch, textVaddr: page, maxText: maxText, ldso: false, &rng) : nil)
            }
            return SurfaceCase(
                arch: arch, staticProgram: nil,
                ldso: image(arch: arch, textVaddr: page * Draw.u64(1...2, &rng), maxText: maxText, ldso: true, &rng),
                libc: Draw.chance(80, &rng) ? image(arch: arch, textVaddr: page, maxText: maxText, ldso: false, &rng) : nil,
                libsys: Draw.chance(70, &rng) ? image(arch: arch, textVaddr: page * 2, maxText: maxText, ldso: false, &rng) : nil)
        }
    }
}
