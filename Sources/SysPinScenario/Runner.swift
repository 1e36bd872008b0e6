import Foundation
import SysPinCore

/// One line of `syspin run` output.
public struct RunEvent: Sendable {
    public enum Kind: Sendable {
        case exec(detail: String?)
        case syscall(step: Int, sysno: Int64, addr: UInt64, kind: String)
    }
    public var kind: Kind
    /// nil result means "dead" (the process was killed by an earlier step).
    public var verdict: Verdict?
    /// Set for the "skipped" outcome of a from_libc submission ld.so does not make (R-LD-4).
    public var skipped: Bool = false
    /// kbind steps only: the pieces written, in order.
    public var writes: [KbindWrite]?

    public var result: String {
        if skipped { return "skipped" }
        return verdict?.result ?? "dead"
    }
}

public enum ScenarioRunner {
    /// Loads every image the scenario names and runs it. Throws only for problems with the
    /// scenario (missing files, bad hex, inconsistent keys); kernel outcomes are events.
    public static func run(
        _ s: Scenario, file: String, baseDirectory: URL, config: KernelConfig = .openbsd,
        policy: PinPolicy = .openbsd
    ) throws(ScenarioError) -> [RunEvent] {
        let program = try load(s.program, what: "program", file: file, dir: baseDirectory)
        let interp = try s.interpreter.map { i throws(ScenarioError) in try load(i, what: "interpreter", file: file, dir: baseDirectory) }
        let libc = try s.libc.map { i throws(ScenarioError) in try load(i, what: "libc", file: file, dir: baseDirectory) }
        let libsys = try s.libsys.map { i throws(ScenarioError) in try load(i, what: "libsys", file: file, dir: baseDirectory) }
        let arch: Arch
        if let name = s.arch {
            guard let a = Arch.named(name) else {
                throw ScenarioError(file: file, "unknown arch \"\(name)\" (known: \(Arch.acceptedNames.joined(separator: ", ")))")
            }
            arch = a
        } else {
            switch ExecRules.inferArch(program) {
            case .success(let a): arch = a
            case .failure(let r):
                throw ScenarioError(file: file, "no \"arch\" given and the program's cannot be inferred: \(r.detail)")
            }
        }
        let mappings = (s.mappings ?? []).map {
            MemoryMapping(start: $0.start.value, end: $0.end.value, writable: $0.writable ?? true)
        }
        let (outcome, st) = ProcessModel.exec(
            program: program, base: s.program.base?.value ?? 0, interpreter: interp,
            interpreterBase: s.interpreter?.base?.value ?? 0, arch: arch, sigtramp: s.sigtramp?.value,
            mappings: mappings, config: config, policy: policy)
        var events = [RunEvent(kind: .exec(detail: outcome.detail), verdict: outcome.verdict)]
        guard var state = st else { return events }
        if let libsys {
            state.trusted.libsys = try libsysText(libsys, base: s.libsys?.base?.value ?? 0, file: file, arch: arch)
        }
        // ld.so builds libc's submission once; nil inside means it refuses to make one (R-LD-4).
        var libcSubmission: PinsyscallsCall??
        for (i, step) in s.steps.enumerated() {
            let (request, kind) = try Self.request(
                step, index: i, file: file, arch: arch, config: config, policy: policy,
                libcSubmission: { () throws(ScenarioError) -> PinsyscallsCall? in
                    if let known = libcSubmission { return known }
                    let made = try Self.libcSubmission(s, libc: libc, index: i, file: file, arch: arch, config: config, policy: policy)
                    libcSubmission = .some(made)
                    return made
                })
            let ev = RunEvent.Kind.syscall(step: i, sysno: step.sysno.value, addr: step.addr.value, kind: kind)
            guard let request else {
                // R-LD-4: ld.so rejects libc's table and makes no pinsyscalls call at all.
                let dead = state.killedBy != nil
                events.append(RunEvent(kind: ev, verdict: dead ? nil : Verdict(errno: nil, signal: nil, rule: "R-LD-4"), skipped: !dead))
                continue
            }
            switch state.syscall(addr: step.addr.value, sysno: step.sysno.value, request) {
            case .dead:
                events.append(RunEvent(kind: ev, verdict: nil))
            case .decided(let v, let writes):
                // `writes` belongs to a call that ran as kbind (D-DISPATCH).
                let ranKbind: Bool
                if case .kbind = request.dispatched(code: arch.syscallCode(step.sysno.value)) { ranKbind = true } else { ranKbind = false }
                events.append(RunEvent(kind: ev, verdict: v, writes: ranKbind ? writes : nil))
            }
        }
        return events
    }

    /// What step `i` asks of the kernel, and its kind ("plain", "pinsyscalls", "kbind"); a nil
    /// request is a from_libc submission ld.so declines to make.
    static func request(
        _ step: Scenario.Step, index i: Int, file: String, arch: Arch, config: KernelConfig, policy: PinPolicy,
        libcSubmission: () throws(ScenarioError) -> PinsyscallsCall?
    ) throws(ScenarioError) -> (SyscallRequest?, String) {
        if step.pinsyscalls != nil && step.kbind != nil {
            throw ScenarioError(file: file, "steps[\(i)]: a step has either \"pinsyscalls\" or \"kbind\", not both")
        }
        if let p = step.pinsyscalls {
            let call: PinsyscallsCall
            if p.from_libc == true {
                guard let c = try libcSubmission() else { return (nil, "pinsyscalls") }
                call = c
            } else {
                guard let base = p.base, let len = p.len, let npins = p.npins else {
                    throw ScenarioError(file: file, "steps[\(i)].pinsyscalls: needs \"base\", \"len\" and \"npins\" (or \"from_libc\": true)")
                }
                let pins = (p.pins ?? []).map { UInt32(truncatingIfNeeded: $0.value) }
                call = PinsyscallsCall(base: base.value, len: len.value, pins: pins, npins: npins.value)
            }
            return (.pinsyscalls(call, threads: p.threads ?? 1), "pinsyscalls")
        }
        if let k = step.kbind {
            if k.null == true {
                return (.kbind(param: nil, psize: k.psize?.value ?? 0, cookie: k.cookie?.value ?? 0), "kbind")
            }
            guard let hex = k.param_hex, let param = Hex.decode(hex) else {
                throw ScenarioError(file: file, "steps[\(i)].kbind: \"param_hex\" must be an even-length hex string (or \"null\": true)")
            }
            return (.kbind(param: param, psize: k.psize?.value ?? UInt64(param.count), cookie: k.cookie?.value ?? 0), "kbind")
        }
        return (.plain, "plain")
    }

    /// ld.so's submission of libc's table (§9), nil when ld.so refuses to make one (R-LD-4).
    static func libcSubmission(
        _ s: Scenario, libc: [UInt8]?, index i: Int, file: String, arch: Arch, config: KernelConfig, policy: PinPolicy
    ) throws(ScenarioError) -> PinsyscallsCall? {
        guard let libc, let l = s.libc else {
            throw ScenarioError(file: file, "steps[\(i)]: \"from_libc\" needs a \"libc\" image")
        }
        guard case .success(let image) = ExecRules.readImage(libc, arch: arch, loader: .interpreter) else {
            throw ScenarioError(file: file, "steps[\(i)]: libc is not a readable \(arch.name) ET_DYN image")
        }
        return LdsoPin.submission(libc: image, base: l.base?.value ?? 0, arch: arch, config: config, policy: policy)
    }

    /// The text span of the scenario's libsys image at `base` (D-LIBSYS).
    static func libsysText(_ bytes: [UInt8], base: UInt64, file: String, arch: Arch) throws(ScenarioError) -> TextSpan {
        guard case .success(let image) = ExecRules.readImage(bytes, arch: arch, loader: .interpreter),
            let span = image.textSpan(base: base, mask: arch.addressMask)
        else {
            throw ScenarioError(file: file, "libsys is not a readable \(arch.name) ET_DYN image with an executable PT_LOAD")
        }
        return span
    }

    /// The scenario under every policy, in `PinPolicy.allCases` order (`syspin run --compare-policies`).
    public static func compare(
        _ s: Scenario, file: String, baseDirectory: URL, config: KernelConfig = .openbsd
    ) throws(ScenarioError) -> [(policy: PinPolicy, events: [RunEvent])] {
        var out: [(policy: PinPolicy, events: [RunEvent])] = []
        for policy in PinPolicy.allCases {
            out.append((policy, try run(s, file: file, baseDirectory: baseDirectory, config: config, policy: policy)))
        }
        return out
    }

    static func load(_ i: Scenario.Image, what: String, file: String, dir: URL) throws(ScenarioError) -> [UInt8] {
        switch (i.path, i.hex) {
        case (let p?, nil):
            let url = p.hasPrefix("/") ? URL(fileURLWithPath: p) : dir.appendingPathComponent(p)
            guard let d = FileManager.default.contents(atPath: url.path) else {
                throw ScenarioError(file: file, "\(what): cannot read \(url.path)")
            }
            return [UInt8](d)
        case (nil, let h?):
            guard let b = Hex.decode(h) else { throw ScenarioError(file: file, "\(what): \"hex\" is not an even-length hex string") }
            return b
        default:
            throw ScenarioError(file: file, "\(what): give exactly one of \"path\" and \"hex\"")
        }
    }
}
