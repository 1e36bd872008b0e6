/// What `syspin inspect` reports for one file (CONTRACT.md): the exec verdict and, when the
/// image has one, its PT_OPENBSD_SYSCALLS table as the kernel would read it at load base 0.
public struct Inspection: Sendable {
    public var verdict: Verdict
    public var detail: String?
    public var arch: Arch?
    public var header: ElfHeader?
    public var phdrs: [ProgramHeader]
    public var pintable: PintableReport?
}

public struct PintableReport: Sendable {
    /// The raw records as stored (all that could be read).
    public var entries: [SyscallSite]
    /// (sysno, allowed address or nil for the multiple-sites marker), sorted by sysno; nil when
    /// the table is discarded.
    public var pins: [(sysno: UInt32, address: UInt64?)]?
    /// Why the table is discarded (R-PT-1..4), nil when it is not.
    public var discardedBy: RuleID?
    public var start: UInt64
    public var end: UInt64
    /// True when the kernel ignores this table (dynamic main program, R-ELF-16).
    public var ignored: Bool
    public var segment: ProgramHeader
}

public enum Inspector {
    /// Judge `bytes` as execve would on `arch` (inferred from the header when nil). With
    /// `asInterpreter`, judge it as the interpreter loader does (ld.so rules, R-ELF-18..25, R-PT-12).
    public static func inspect(
        _ bytes: [UInt8], arch fixedArch: Arch? = nil, asInterpreter: Bool = false,
        config: KernelConfig = .openbsd
    ) -> Inspection {
        var arch = fixedArch
        if arch == nil {
            switch ExecRules.inferArch(bytes) {
            case .failure(let r):
                return Inspection(verdict: r.verdict, detail: r.detail, arch: nil, header: lenientHeader(bytes), phdrs: [], pintable: nil)
            case .success(let a): arch = a
            }
        }
        let a = arch!
        var out = Inspection(verdict: .ok, detail: nil, arch: a, header: nil, phdrs: [], pintable: nil)
        if asInterpreter {
            switch ExecLoaders.loadInterpreter(bytes, arch: a, pos: 0, config: config) {
            case .failure(let r):
                out.verdict = r.verdict
                out.detail = r.detail
            case .success: break
            }
        } else {
            switch ExecLoaders.loadMain(bytes, arch: a, base: 0, config: config) {
            case .failure(let r):
                out.verdict = r.verdict
                out.detail = r.detail
            case .success: break
            }
        }
        // Describe the image even when rejected, as far as its header and phdrs can be read.
        guard let image = readableImage(bytes, arch: a) else {
            out.header = lenientHeader(bytes)
            return out
        }
        out.header = image.header
        out.phdrs = image.phdrs
        if let seg = image.phdrs.last(where: { $0.type == .openbsdSyscalls }) {
            let hasInterp = image.phdrs.contains { $0.type == .interp }
            let layout =
                asInterpreter
                ? ExecLoaders.interpLayout(image, segment: seg, pos: 0, arch: a, config: config)
                : ExecLoaders.staticLayout(image, segment: seg, base: 0, arch: a, config: config)
            var report = PintableReport(
                entries: layout.parse.entries, pins: nil, discardedBy: nil, start: layout.start, end: layout.end,
                ignored: hasInterp && !asInterpreter, segment: seg)
            switch layout.parse {
            case .discarded(let rule, _): report.discardedBy = rule
            case .table: break
            }
            if let region = layout.region {
                report.pins = region.pins.enumerated().compactMap { i, v in
                    if v == 0 { return nil }
                    return (UInt32(i), v == multipleSitesPin ? nil : region.site(of: v, mask: a.addressMask))
                }
                report.start = region.start
                report.end = region.end
            }
            out.pintable = report
        }
        return out
    }

    /// A header read by the file's own e_ident, for describing rejected files.
    static func lenientHeader(_ bytes: [UInt8]) -> ElfHeader? {
        guard let (c, d) = ElfHeader.identity(bytes) else { return nil }
        return ElfHeader.read(bytes, elfClass: c, endian: d)
    }

    /// The image as far as it can be read, whatever the header checks say: the phdrs the kernel's
    /// struct layout finds at e_phoff (at most 32, up to the first outside the file). For an
    /// image the loaders accept this is exactly what they read.
    static func readableImage(_ bytes: [UInt8], arch: Arch) -> ElfImage? {
        guard let h = ElfHeader.read(bytes, elfClass: arch.elfClass, endian: arch.endian) else { return nil }
        let v = ByteView(bytes, endian: arch.endian)
        var phdrs: [ProgramHeader] = []
        for i in 0..<min(Int(h.phnum), 32) {
            guard let ph = ProgramHeader.read(v, elfClass: arch.elfClass, phoff: h.phoff, index: i) else { break }
            phdrs.append(ph)
        }
        return ElfImage(bytes: bytes, header: h, phdrs: phdrs)
    }
}
