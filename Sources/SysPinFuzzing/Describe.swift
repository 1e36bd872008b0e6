import SysPinCore

/// Human-readable views of fuzz inputs, for `syspin decode` and `ci/reproduce`: what the target
/// decodes the bytes into, then what the core decided.
public enum FuzzDescribe {
    public static func describe(target: String, _ bytes: [UInt8]) -> String? {
        switch target {
        case "FuzzELF": return elf(bytes)
        case "FuzzPintable": return pintable(bytes)
        default: return nil
        }
    }

    /// A plain hex dump, 16 bytes a line, for targets without a structured view.
    public static func hexDump(_ bytes: [UInt8]) -> String {
        var lines: [String] = []
        var i = 0
        while i < bytes.count {
            let row = bytes[i..<min(i + 16, bytes.count)]
            let hexes = row.map { b in (b < 16 ? "0" : "") + String(b, radix: 16) }.joined(separator: " ")
            let off = String(i, radix: 16)
            lines.append(String(repeating: "0", count: max(0, 6 - off.count)) + off + "  " + hexes)
            i += 16
        }
        return lines.joined(separator: "\n")
    }

    static func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

    static func elf(_ bytes: [UInt8]) -> String {
        let r = Inspector.inspect(bytes)
        var out = ["FuzzELF input: \(bytes.count) bytes, judged as the execve target"]
        out.append("verdict: \(r.verdict)" + (r.detail.map { " — \($0)" } ?? ""))
        if let h = r.header {
            out.append("header: ELF\(h.elfClass.bits) \(h.endian.name)-endian \(h.type.name), e_machine \(h.machine), e_phoff \(h.phoff), e_phentsize \(h.phentsize), e_phnum \(h.phnum), EI_OSABI \(h.osabi), entry \(hex(h.entry))")
        }
        for (i, ph) in r.phdrs.enumerated() {
            out.append("  phdr \(i): \(ph.type.name) flags \(ph.flags) offset \(hex(ph.offset)) vaddr \(hex(ph.vaddr)) filesz \(hex(ph.filesz)) memsz \(hex(ph.memsz)) align \(hex(ph.align))")
        }
        if let p = r.pintable {
            out.append("pin table: \(p.entries.count) entries, region [\(hex(p.start)), \(hex(p.end)))" + (p.discardedBy.map { ", discarded by \($0)" } ?? ""))
            for e in p.entries { out.append("  entry: \(SyscallNames.label(e.sysno)) at offset \(hex(UInt64(e.offset)))") }
            for pin in p.pins ?? [] { out.append("  pin: \(SyscallNames.label(pin.sysno)) → \(pin.address.map(hex) ?? "multi")") }
        }
        if let arch = r.arch {
            let libelf = LibElf.programHeaders(bytes)
            out.append("libelf: " + (libelf.map { "\($0.count) program headers" + ($0 == r.phdrs ? ", same as the core's" : ", DIFFERENT from the core's") } ?? "refuses the image (\(LibElf.lastError))") + " [\(arch.name)]")
        }
        return out.joined(separator: "\n")
    }

    static func pintable(_ bytes: [UInt8]) -> String {
        let i = FuzzPintable.decode(bytes)
        var out = ["FuzzPintable input: \(bytes.count) bytes"]
        out.append("arch \(i.arch.name), \(i.isLdso ? "ld.so" : "static program") table, load base \(hex(i.base)), len \(hex(i.len)), delta \(hex(i.delta)), segment \(i.segment.count) bytes")
        let parse = PinTableReader.parse(filesz: UInt64(i.segment.count), available: i.segment, endian: i.arch.endian, isLdso: i.isLdso, len: i.len)
        for e in parse.entries { out.append("  entry: \(SyscallNames.label(e.sysno)) at offset \(hex(UInt64(e.offset)))") }
        switch parse {
        case .discarded(let rule, _):
            out.append("result: discarded by \(rule)")
        case .table(_, let pins):
            let region = PinRegion.adjusted(pins: pins, start: i.base, len: i.len, delta: i.delta, mask: i.arch.addressMask)
            out.append("result: \(pins.count) slots, region [\(hex(region.start)), \(hex(region.end)))")
            for (n, v) in region.pins.enumerated() where v != 0 {
                out.append("  pin: \(SyscallNames.label(UInt32(n))) → \(v == multipleSitesPin ? "multi" : hex(region.site(of: v, mask: i.arch.addressMask)))")
            }
        }
        return out.joined(separator: "\n")
    }
}
