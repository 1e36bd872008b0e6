import SysPinCore

/// Hand-built JSON so key order is stable and matches CONTRACT.md byte for byte.
public enum JSON {
    public static func string(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += "\\u" + String(repeating: "0", count: 4 - String(u.value, radix: 16).count) + String(u.value, radix: 16)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    public static func optional(_ s: String?) -> String { s.map(string) ?? "null" }

    /// An address as a JSON string "0x…" (addresses need 64 bits).
    public static func hex(_ v: UInt64) -> String { string(Hex.number(v)) }

    public static func object(_ pairs: [(String, String)]) -> String {
        "{" + pairs.map { "\(string($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
    }
}

public enum InspectReport {
    /// One CONTRACT-shaped JSON object for `file`.
    public static func json(_ r: Inspection, file: String) -> String {
        var pairs: [(String, String)] = [
            ("file", JSON.string(file)),
            ("verdict", JSON.string(r.verdict.result)),
            ("rule", JSON.optional(r.verdict.rule?.rawValue)),
            ("arch", JSON.optional(r.arch?.name)),
            ("class", r.header.map { String($0.elfClass.bits) } ?? "null"),
            ("endian", JSON.optional(r.header?.endian.name)),
            ("type", JSON.optional(r.header?.type.name)),
            ("phnum", r.header.map { String($0.phnum) } ?? "null"),
        ]
        if let d = r.detail { pairs.append(("detail", JSON.string(d))) }
        pairs.append(("pintable", r.pintable.map(pintable) ?? "null"))
        return JSON.object(pairs)
    }

    static func pintable(_ p: PintableReport) -> String {
        let entries = "[" + p.entries.map { "[\($0.offset), \($0.sysno)]" }.joined(separator: ", ") + "]"
        let pins = p.pins.map { pins in
            "{" + pins.map { "\"\($0.sysno)\": " + ($0.address.map { String($0) } ?? "\"multi\"") }.joined(separator: ", ") + "}"
        } ?? "null"
        var pairs: [(String, String)] = [
            ("entries", entries), ("pins", pins), ("start", String(p.start)), ("end", String(p.end)),
        ]
        if let rule = p.discardedBy { pairs.append(("discarded", JSON.string(rule.rawValue))) }
        if p.ignored { pairs.append(("ignored", "true")) }
        return JSON.object(pairs)
    }

    /// The report a person reads: header, program headers, pins by syscall number with names.
    public static func text(_ r: Inspection, file: String) -> String {
        var out: [String] = []
        var verdict = "\(file): \(r.verdict.resultWithNumber)"
        if let rule = r.verdict.rule { verdict += " [\(rule.rawValue)]" }
        if let d = r.detail { verdict += " — \(d)" }
        out.append(verdict)
        if let h = r.header {
            let arch = r.arch?.name ?? "unknown arch"
            out.append("  ELF\(h.elfClass.bits) \(h.endian.name)-endian \(h.type.name), \(arch), e_machine \(h.machine), entry 0x\(String(h.entry, radix: 16)), \(h.phnum) program headers")
        }
        if !r.phdrs.isEmpty {
            out.append("  Program headers:")
            out.append("    " + pad("type", 18) + pad("offset", 12) + pad("vaddr", 20) + pad("filesz", 10) + pad("memsz", 10) + pad("flg", 4) + "align")
            for ph in r.phdrs {
                let flags = (ph.flags & ProgramFlags.r != 0 ? "R" : "-") + (ph.flags & ProgramFlags.w != 0 ? "W" : "-") + (ph.isExecutable ? "X" : "-")
                out.append("    " + pad(ph.type.name, 18) + pad(hex(ph.offset), 12) + pad(hex(ph.vaddr), 20) + pad(hex(ph.filesz), 10) + pad(hex(ph.memsz), 10) + pad(flags, 4) + hex(ph.align))
            }
        }
        if let p = r.pintable {
            var head = "  Pin table: \(p.entries.count) entries, region [\(hex(p.start)), \(hex(p.end)))"
            if p.ignored { head += " (ignored by the kernel: the program has PT_INTERP, R-ELF-16)" }
            out.append(head)
            if let rule = p.discardedBy {
                out.append("    discarded by the kernel [\(rule.rawValue)]: the process gets no table from it")
            }
            if let pins = p.pins {
                for pin in pins {
                    let site = pin.address.map { "at " + hex($0) } ?? "anywhere in the region (multiple sites)"
                    out.append("    " + pad(SyscallNames.label(pin.sysno), 24) + site)
                }
            }
        } else if r.header != nil {
            out.append("  No PT_OPENBSD_SYSCALLS segment.")
        }
        return out.joined(separator: "\n")
    }

    static func hex(_ v: UInt64) -> String { Hex.number(v) }
    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
}

public enum RunReport {
    public static func json(_ e: RunEvent) -> String {
        var pairs: [(String, String)]
        switch e.kind {
        case .exec:
            pairs = [("event", JSON.string("exec"))]
        case .syscall(let step, let sysno, _, _):
            pairs = [("event", JSON.string("syscall")), ("step", String(step)), ("sysno", String(sysno))]
        }
        return JSON.object(pairs + outcome(e))
    }

    /// The result, signal, rule (and kbind writes) of one event, as JSON pairs.
    static func outcome(_ e: RunEvent) -> [(String, String)] {
        var pairs: [(String, String)] = [
            ("result", JSON.string(e.result)), ("signal", JSON.optional(e.verdict?.signal?.name)),
            ("rule", JSON.optional(e.verdict?.rule?.rawValue)),
        ]
        if let w = e.writes {
            pairs.append(("writes", "[" + w.map { "[\(JSON.hex($0.address)), \(JSON.string(Hex.encode($0.bytes)))]" }.joined(separator: ", ") + "]"))
        }
        return pairs
    }

    /// "result, killed by SIG [rule]" for one event.
    static func outcomeText(_ e: RunEvent) -> String {
        var out = e.skipped ? e.result : e.verdict?.resultWithNumber ?? e.result
        if let s = e.verdict?.signal { out += ", killed by \(s.name)" }
        if let r = e.verdict?.rule { out += " [\(r.rawValue)]" }
        return out
    }

    /// "exec" or "step N: name from 0x…".
    static func label(_ e: RunEvent) -> String {
        switch e.kind {
        case .exec: return "exec"
        case .syscall(let step, let sysno, let addr, _):
            let name = sysno > 0 && sysno <= Int64(UInt32.max) ? SyscallNames.label(UInt32(sysno)) : "#\(sysno)"
            return "step \(step): \(name) from 0x\(String(addr, radix: 16))"
        }
    }

    public static func text(_ e: RunEvent) -> String {
        var line: String
        switch e.kind {
        case .exec(let detail):
            line = "exec: " + outcomeText(e)
            if let d = detail { line += " — \(d)" }
        case .syscall:
            line = "\(label(e)) → " + outcomeText(e)
            for w in e.writes ?? [] { line += "\n    wrote \(Hex.encode(w.bytes)) at 0x\(String(w.address, radix: 16))" }
        }
        return line
    }
}
