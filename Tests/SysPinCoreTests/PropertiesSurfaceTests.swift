import PropertyBased
import SysPinCore
import SysPinGenerators
import SysPinTesting
import Testing

/// The policies against each other (containment) and `syspin surface` against brute force.
@Suite("Properties: policy containment and the attack surface")
struct PropertiesSurfaceTests {
    /// strict ⊆ openbsd ⊆ msyscall: whatever a stricter policy accepts (pin check allows it), a
    /// looser one accepts, for the same process and call. Every generated table kind, wild tables
    /// and trampolines included.
    @Test("Containment: strict ⊆ openbsd ⊆ msyscall over generated processes and calls")
    func containment() {
        let chain: [PinPolicy] = [.strict, .openbsd, .msyscall]
        expectProperty("containment strict ⊆ openbsd ⊆ msyscall", count: 500, CallGen.checkCase()) { c in
            let states = chain.map { c.table.start(policy: $0).state }
            guard let first = states[0] else {
                return states.allSatisfy { $0 == nil } ? nil : "exec differs between policies"
            }
            for call in c.calls {
                let allowed = zip(chain, states).map { policy, state -> Bool in
                    guard let s = state else { return false }
                    let code = call.sysno < 0 || call.sysno > Int64(UInt32.max) ? UInt32.max : UInt32(call.sysno)
                    return PinCheck.decide(
                        libc: s.libc, main: s.main, sigtramp: s.sigtramp, addr: call.addr & c.table.mask, code: code,
                        mask: c.table.mask, policy: policy, trusted: s.trusted) == .allow
                }
                for i in 1..<chain.count where allowed[i - 1] && !allowed[i] {
                    return "\(call): \(chain[i - 1]) allows it, \(chain[i]) does not (main \(first.main.map { "[0x\(String($0.start, radix: 16)), 0x\(String($0.end, radix: 16)))" } ?? "none"))"
                }
                // And the whole step: a call that succeeds under the stricter policy succeeds under the looser.
                let results = zip(chain, states).map { _, state -> Bool in
                    guard var s = state else { return false }
                    return s.syscall(addr: call.addr, sysno: call.sysno, .plain).verdict?.isOK == true
                }
                for i in 1..<chain.count where results[i - 1] && !results[i] {
                    return "\(call): succeeds under \(chain[i - 1]) but not under \(chain[i])"
                }
            }
            return nil
        }
    }

    /// The trap pattern at `addr` in the images' text, found naively: the address lies in an
    /// executable PT_LOAD's file bytes, the CPU can start an instruction there, and the bytes match.
    static func isGadget(_ addr: UInt64, loads: [(start: UInt64, ph: ProgramHeader, bytes: [UInt8])], arch: Arch) -> Bool {
        let trap = arch.trap
        guard addr % trap.alignment == 0 else { return false }
        for l in loads where l.start <= addr && addr < l.start + l.ph.memsz {
            let rel = addr - l.start
            guard rel + UInt64(trap.bytes.count) <= l.ph.memsz else { continue }
            let matches = trap.bytes.indices.allSatisfy { k in
                let i = rel + UInt64(k)
                let b: UInt8 = i < l.ph.filesz ? l.bytes[Int(l.ph.offset + i)] : 0
                return b == trap.bytes[k]
            }
            if matches { return true }
        }
        return false
    }

    /// For every policy and every number, the surface's count of accepted addresses and of
    /// accepted gadgets equals a brute-force count: every address of every image's text (and 16
    /// bytes either side) put through the pin check of the same process.
    @Test("Surface: per policy and number, accepted addresses and gadgets equal a brute-force count over every address")
    func surfaceMatchesBruteForce() {
        // Each case puts every text address through the pin check (about 0.1 s under a failing
        // model): shrinking is capped at 200 evaluations so a failure is reported within a minute,
        // not after the default 4,000 (over 5 minutes, which the mutation runner counted as a timeout).
        expectProperty("surface = brute force", count: 12, shrinkBudget: 200, SurfaceGen.process()) { c in
            let images = c.images
            let arch = c.arch
            let surface = SurfaceAnalysis.analyse(images, arch: arch)
            guard surface.exec.isOK else { return "exec failed: \(surface.exec)" }
            // Every text PT_LOAD of every mapped image, where the analysis says it is loaded.
            var loads: [(start: UInt64, ph: ProgramHeader, bytes: [UInt8])] = []
            let mapped: [([UInt8]?, UInt64, Loader)] = [
                (c.staticProgram != nil ? images.program : nil, 0, .main), (images.ldso, SurfaceLayout.ldsoBase, .interpreter),
                (c.staticProgram == nil ? images.libc : nil, SurfaceLayout.libcBase, .interpreter),
                (images.libsys, SurfaceLayout.libsysBase, .interpreter),
            ]
            for case (let bytes?, let base, let loader) in mapped {
                guard case .success(let image) = ExecRules.readImage(bytes, arch: arch, loader: loader) else { return "image unreadable" }
                for ph in image.phdrs where ph.type == .load && ph.isExecutable && !ph.isWritable {
                    loads.append((base + ph.vaddr, ph, bytes))
                }
            }
            var addresses = Set<UInt64>()
            let spans = loads.map { TextSpan(start: $0.start, end: $0.start + $0.ph.memsz) } + surface.trustRegions.map(\.span)
            for s in spans { for a in (s.start - 16)..<(s.end + 16) { addresses.insert(a) } }
            let gadgets = Set(addresses.filter { Self.isGadget($0, loads: loads, arch: arch) })
            if gadgets != Set(surface.gadgets) {
                return "gadget scan found \(surface.gadgets.count), brute force \(gadgets.count): \(gadgets.symmetricDifference(surface.gadgets).sorted().prefix(4).map { String($0, radix: 16) })"
            }
            let sorted = addresses.sorted()
            for p in surface.policies {
                guard let state = SurfaceAnalysis.process(images, arch: arch, policy: p.policy).state else { return "no process" }
                var pairs = 0
                for n in 1..<Int(KernelConfig.openbsd.maxSyscall) {
                    var accepted: UInt64 = 0
                    var acceptedGadgets = 0
                    for a in sorted {
                        let d = PinCheck.decide(
                            libc: state.libc, main: state.main, sigtramp: state.sigtramp, addr: a, code: UInt32(n),
                            mask: arch.addressMask, policy: p.policy, trusted: state.trusted)
                        if d == .allow {
                            accepted += 1
                            if gadgets.contains(a) { acceptedGadgets += 1 }
                        }
                    }
                    let r = p.reach[n]
                    if r.addressCount != accepted || r.gadgets != acceptedGadgets {
                        return "\(p.policy) sysno \(n): surface \(r.addressCount) addresses / \(r.gadgets) gadgets, brute force \(accepted) / \(acceptedGadgets)"
                    }
                    pairs += acceptedGadgets
                }
                if pairs != p.pairs { return "\(p.policy): \(p.pairs) pairs, brute force \(pairs)" }
            }
            return nil
        }
    }
}
