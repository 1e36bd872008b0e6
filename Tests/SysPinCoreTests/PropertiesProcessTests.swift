import PropertyBased
import SysPinCore
import SysPinGenerators
import SysPinTesting
import Testing

/// P3 (pinsyscalls once) and P4 (kbind binding and writes) over whole generated processes.
@Suite("Properties: processes (P3, P4)")
struct PropertiesProcessTests {
    /// Runs one step of a scenario: nil request means ld.so skips the submission (R-LD-4).
    static func run(_ step: ProcessScenario.Step, in sc: ProcessScenario, state: inout ProcessState, policy: PinPolicy)
        -> StepResult?
    {
        switch step {
        case .call(let c):
            return state.syscall(addr: c.addr, sysno: c.sysno, .plain)
        case .kbind(let k):
            return state.syscall(
                addr: k.address, sysno: Int64(Sysno.kbind), .kbind(param: k.param, psize: k.psize, cookie: k.cookie))
        case .pinsyscalls(let p):
            guard let request = sc.request(p, policy: policy) else { return nil }
            let addr = p.fromPinnedSite ? sc.pinsyscallsSite : sc.unpinnedSite
            return state.syscall(addr: addr, sysno: Int64(Sysno.pinsyscalls), request)
        }
    }

    /// Why the scenario breaks P3, or nil. "Changes nothing" means: the tables (libc's and the
    /// main one), kbind's binding and liveness are as before; the once-flag is the one thing a
    /// rejected call may change, exactly as R-PIN-2 says (burned by every call that got past the
    /// thread check, R-PIN-1).
    static func pinsyscallsViolation(_ sc: ProcessScenario, policy: PinPolicy) -> String? {
        guard var state = sc.exec(policy: policy).1 else { return nil }
        var accepted = 0
        for (i, step) in sc.steps.enumerated() {
            let before = state
            guard let r = run(step, in: sc, state: &state, policy: policy), let v = r.verdict else { continue }
            guard case .pinsyscalls(let p) = step else { continue }
            let at = "step \(i) (\(p))"
            if v.isOK {
                accepted += 1
                if accepted > 1 { return "\(at): a second pinsyscalls was accepted" }
                if sc.isStatic { return "\(at): a static program's pinsyscalls was accepted (R-PT-16)" }
                guard let libc = state.libc, case .pinsyscalls(let call, _)? = sc.request(p, policy: policy) else {
                    return "\(at): accepted without installing a table"
                }
                let mask = sc.table.mask
                let expected = PinRegion(
                    start: call.base & mask, end: (call.base &+ call.len) & mask, pins: Array(call.pins.prefix(Int(call.npins))))
                if libc.start != expected.start || libc.end != expected.end || libc.pins != expected.pins {
                    return "\(at): installed [0x\(String(libc.start, radix: 16)), 0x\(String(libc.end, radix: 16))) with \(libc.pins.count) pins, not the submission verbatim (R-PIN-9)"
                }
                if state.main != before.main || state.kbind != before.kbind { return "\(at): an accepted call changed ps_pin or kbind" }
            } else if v.signal == nil {
                // A rejected submission.
                if state.libc != before.libc { return "\(at): rejected (\(v)) but libc's table changed" }
                if state.main != before.main { return "\(at): rejected (\(v)) but the main table changed" }
                if state.kbind != before.kbind || state.killedBy != nil { return "\(at): rejected (\(v)) but kbind or liveness changed" }
                let expectedFlag = v.rule == "R-PIN-1" ? before.pinsyscallsUsed : true
                if state.pinsyscallsUsed != expectedFlag {
                    return "\(at): rejected (\(v)); once-flag \(state.pinsyscallsUsed), R-PIN-1/2 say \(expectedFlag)"
                }
            } else if state.killedBy == nil {
                return "\(at): \(v) but the process lives on"
            }
        }
        return nil
    }

    @Test("P3 pinsyscalls is accepted at most once per process, and a rejected submission changes nothing")
    func p3PinsyscallsOnce() {
        expectProperty("P3 pinsyscalls once", count: 400, ProcessGen.scenario()) { sc in
            for policy in PinPolicy.allCases {
                if let why = Self.pinsyscallsViolation(sc, policy: policy) { return "\(policy): \(why)" }
            }
            return nil
        }
    }

    /// The pieces kbind writes for `blocks` when every byte is writable: each block split at page
    /// boundaries (R-KB-11).
    static func pieces(_ blocks: [KbindBlockSpec], pageSize: UInt64) -> [KbindWrite] {
        var out: [KbindWrite] = []
        for b in blocks {
            var off = 0
            while off < b.data.count {
                let a = b.addr + UInt64(off)
                // Wrapping: a block R-KB-7 refuses may sit on the last page of the address space.
                let pageEnd = (a / pageSize &+ 1) &* pageSize
                let n = pageEnd == 0 ? b.data.count - off : min(b.data.count - off, Int(pageEnd &- a))
                out.append(KbindWrite(address: a, bytes: Array(b.data[off..<off + n])))
                off += n
            }
        }
        return out
    }

    /// Why a kbind sequence breaks P4, or nil. The binding is modelled here independently of
    /// `Kbind` (R-KB-1..3): unbound, disabled (after a NULL first call) or bound to (pc, cookie).
    static func kbindViolation(_ sc: ProcessScenario, policy: PinPolicy) -> String? {
        guard var state = sc.exec(policy: policy).1 else { return "exec failed" }
        let arch = sc.table.arch
        let writable = KbindMemory.mappings(arch).filter(\.writable)
        enum Binding: Equatable {
            case unbound, disabled
            case bound(pc: UInt64, cookie: UInt64)
        }
        var binding = Binding.unbound
        for (i, step) in sc.steps.enumerated() {
            guard case .kbind(let k) = step else {
                _ = run(step, in: sc, state: &state, policy: policy)
                continue
            }
            if state.killedBy != nil { break }
            let at = "step \(i) (\(k))"
            let pc = (k.address &+ arch.trapDistance) & arch.addressMask
            let r = state.syscall(addr: k.address, sysno: Int64(Sysno.kbind), .kbind(param: k.param, psize: k.psize, cookie: k.cookie))
            guard case .decided(let v, let writes) = r else { return "\(at): the process was dead" }
            // Every byte written lies inside a writable mapping.
            for w in writes {
                let end = w.address + UInt64(w.bytes.count)
                if !writable.contains(where: { $0.start <= w.address && end <= $0.end }) {
                    return "\(at): wrote \(w.bytes.count) bytes at 0x\(String(w.address, radix: 16)) outside writable memory"
                }
            }
            let sigill = v.signal == .SIGILL
            switch (binding, k.param) {
            case (.unbound, nil):
                binding = .disabled
                if !v.isOK { return "\(at): the first NULL call got \(v), want ok (R-KB-1)" }
            case (.disabled, nil):
                if !v.isOK { return "\(at): a NULL call after disabling got \(v), want ok (R-KB-1)" }
            case (.bound, nil), (.disabled, _?):
                if !sigill || !writes.isEmpty { return "\(at): got \(v) with \(writes.count) writes, want SIGILL and nothing written" }
                return nil
            case (.bound(let bpc, let bcookie), _?) where bpc != pc || bcookie != k.cookie:
                if !sigill || !writes.isEmpty {
                    return "\(at): another \(bpc != pc ? "pc" : "cookie") got \(v) with \(writes.count) writes, want SIGILL and nothing written (R-KB-3)"
                }
                return nil
            case (.unbound, _?), (.bound, _?):
                if binding == .unbound {
                    // R-KB-2: the first call binds pc and cookie, whatever it returns.
                    binding = .bound(pc: pc, cookie: k.cookie)
                    if state.kbind != KbindState(pc: pc, cookie: k.cookie) {
                        return "\(at): the first call left kbind at pc 0x\(String(state.kbind.pc, radix: 16)), cookie 0x\(String(state.kbind.cookie, radix: 16))"
                    }
                }
                if sigill { return "\(at): the bound pc and cookie got SIGILL" }
                // Bytes written equal bytes supplied: for a well-formed buffer, a prefix of its
                // pieces (all of them when the call succeeds, R-KB-12 keeps a partial prefix).
                let wellFormed = k.param?.count == KbindParamBuilder.encode(k.blocks.map { ($0.addr, $0.data) }, arch: arch).count
                    && k.psize == UInt64(k.param?.count ?? 0)
                if wellFormed && (v.isOK || !writes.isEmpty) {
                    let expected = pieces(k.blocks, pageSize: arch.pageSize)
                    if writes.count > expected.count || Array(expected.prefix(writes.count)) != writes {
                        return "\(at): wrote \(writes) but the buffer supplies \(expected)"
                    }
                    if v.isOK && writes != expected { return "\(at): ok but wrote \(writes.count) of \(expected.count) pieces" }
                }
            }
            if state.killedBy != nil && !sigill { return "\(at): \(v) killed the process" }
        }
        return nil
    }

    @Test("P4 kbind: the first call binds pc and cookie, another pc or cookie gets SIGILL, bytes written are the bytes supplied, only in writable memory")
    func p4Kbind() {
        let sequences = ProcessGen.scenario(maxSteps: 6, weights: (call: 1, pinsyscalls: 0, kbind: 8), staticPercent: 0)
        expectProperty("P4 kbind", count: 500, sequences) { sc in
            for policy in PinPolicy.allCases {
                if let why = Self.kbindViolation(sc, policy: policy) { return "\(policy): \(why)" }
            }
            return nil
        }
    }
}
