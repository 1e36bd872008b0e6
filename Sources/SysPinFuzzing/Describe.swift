import SysPinCore

/// Human-readable views of fuzz inputs, for `syspin decode` and `ci/reproduce`: what the target
/// decodes the bytes into, then what the core decided.
public enum FuzzDescribe {
    public static func describe(target: String, _ bytes: [UInt8]) -> String? {
        FuzzTargets.all.first { $0.name == target }?.describe(bytes)
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

    static func hex(_ v: UInt64) -> String { Hex.number(v) }

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
        #if LibElf
            if let arch = r.arch {
                let libelf = LibElf.programHeaders(bytes)
                out.append("libelf: " + (libelf.map { "\($0.count) program headers" + ($0 == r.phdrs ? ", same as the core's" : ", DIFFERENT from the core's") } ?? "refuses the image (\(LibElf.lastError))") + " [\(arch.name)]")
            }
        #else
            out.append("libelf: not compared (built without the LibElf trait)")
        #endif
        return out.joined(separator: "\n")
    }

    static func pintable(_ bytes: [UInt8]) -> String {
        let i = FuzzPintable.decode(bytes)
        var out = ["FuzzPintable input: \(bytes.count) bytes"]
        out.append("arch \(i.arch.name), \(i.isLdso ? "ld.so" : "static program") table, policy \(i.policy)\(i.policy == .strict && i.bare ? " (bare region: no site set)" : ""), load base \(hex(i.base)), len \(hex(i.len)), delta \(hex(i.delta)), segment \(i.segment.count) bytes")
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

    static func region(_ r: PinRegion?, _ arch: Arch) -> String {
        guard let r else { return "none" }
        let pins = r.pins.enumerated().filter { $0.element != 0 }.map { n, v in
            "\(SyscallNames.label(UInt32(n)))→" + (v == multipleSitesPin ? "multi" : hex(r.site(of: v, mask: arch.addressMask)))
        }
        return "[\(hex(r.start)), \(hex(r.end))) \(r.pins.count) slots: " + pins.joined(separator: ", ")
    }

    static func request(_ q: SyscallRequest) -> String {
        switch q {
        case .plain: return ""
        case .pinsyscalls(let c, let threads):
            return " pinsyscalls(base \(hex(c.base)), len \(hex(c.len)), npins \(c.npins), \(c.pins.count) pins copied-in: \(c.pins.prefix(12).map { $0 == multipleSitesPin ? "multi" : hex(UInt64($0)) }.joined(separator: " "))\(c.pins.count > 12 ? " …" : "")) threads \(threads)"
        case .kbind(let param, let psize, let cookie):
            return " kbind(" + (param.map { "param \(Hex.encode($0)), psize \(psize), cookie \(hex(cookie))" } ?? "NULL") + ")"
        }
    }

    static func result(_ r: StepResult) -> String {
        switch r {
        case .dead: return "dead"
        case .decided(let v, let writes):
            return v.description + writes.map { " wrote \(Hex.encode($0.bytes)) at \(hex($0.address))" }.joined()
        }
    }

    static func steps(_ state: inout ProcessState, _ steps: [(UInt64, Int64, SyscallRequest?)]) -> [String] {
        steps.enumerated().map { i, s in
            let name = s.1 > 0 && s.1 < Int64(UInt32.max) ? SyscallNames.label(UInt32(s.1)) : "#\(s.1)"
            guard let req = s.2 else { return "  step \(i): \(name) from \(hex(s.0)) from_libc → skipped (R-LD-4)" }
            let r = state.syscall(addr: s.0, sysno: s.1, req)
            return "  step \(i): \(name) from \(hex(s.0))\(request(req)) → \(result(r))"
        }
    }

    static func pinsyscalls(_ bytes: [UInt8]) -> String {
        let i = FuzzPinsyscalls.decode(bytes)
        let main = (try? FuzzPinsyscalls.tables(i))?.0
        var out = ["FuzzPinsyscalls input: \(bytes.count) bytes", "arch \(i.arch.name), policy \(i.policy), once-flag \(i.once ? "set" : "clear"), sigtramp \(i.sigtramp.map(hex) ?? "none")", "main table: \(region(main, i.arch))"]
        var state = ProcessState(arch: i.arch, main: main, pinsyscallsUsed: i.once, sigtramp: i.sigtramp, policy: i.policy)
        state.trusted.mainIsRuntimeLinker = i.isLdso
        out += steps(&state, i.steps.map { ($0.addr, $0.sysno, $0.request) })
        out.append("libc table after: \(region(state.libc, i.arch))")
        return out.joined(separator: "\n")
    }

    static func kbind(_ bytes: [UInt8]) -> String {
        let i = FuzzKbind.decode(bytes)
        var out = ["FuzzKbind input: \(bytes.count) bytes", "arch \(i.arch.name), \(i.viaSyscall ? "through the pin check" : "kbind alone"), kbind state pc \(hex(i.initial.pc)) cookie \(hex(i.initial.cookie))"]
        out += i.mappings.map { "  mapping [\(hex($0.start)), \(hex($0.end))) \($0.writable ? "writable" : "read-only")" }
        let main = (try? FuzzKbind.tables(i))?.0
        var state = ProcessState(arch: i.arch, main: main, kbind: i.initial, mappings: i.mappings, policy: i.policy)
        state.trusted.mainIsRuntimeLinker = i.mainIsLdso
        out += steps(&state, i.calls.map { ($0.addr, Int64(Sysno.kbind), .kbind(param: $0.param, psize: $0.psize, cookie: $0.cookie)) })
        return out.joined(separator: "\n")
    }

    static func scenario(_ bytes: [UInt8]) -> String {
        let i = FuzzScenario.decode(bytes)
        var out = ["FuzzScenario input: \(bytes.count) bytes", "arch \(i.arch.name), program \(i.kind) (\(i.program.count) bytes at base \(hex(i.base)))" + (i.interpreter.map { ", ld.so \($0.count) bytes at \(hex(i.interpBase))" } ?? "")]
        out.append("policy \(i.policy), libc \(i.libc.count) bytes at \(hex(i.libcBase))" + (i.libsys.map { ", libsys \($0.count) bytes at \(hex(i.libsysBase))" } ?? ""))
        let (exec, st) = ProcessModel.exec(program: i.program, base: i.base, interpreter: i.interpreter, interpreterBase: i.interpBase, arch: i.arch, sigtramp: i.sigtramp, mappings: i.mappings, policy: i.policy)
        out.append("exec: \(exec.verdict)" + (exec.detail.map { " — \($0)" } ?? ""))
        guard var state = st else { return out.joined(separator: "\n") }
        FuzzScenario.addLibsys(i, to: &state)
        out.append("pin table: \(region(state.main, i.arch))")
        let fromLibc = FuzzScenario.libcSubmission(i)
        out += steps(&state, i.steps.map { ($0.addr, $0.sysno, FuzzScenario.coreRequest($0.request, fromLibc: fromLibc)) })
        return out.joined(separator: "\n")
    }
}
