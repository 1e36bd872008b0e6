import PropertyBased
import SysPinCore

/// One system call: number `sysno` from the trap instruction at `addr`; `how` says how the
/// generator chose it (for reports).
public struct PinCall: Hashable, Sendable, CustomStringConvertible {
    public var addr: UInt64
    public var sysno: Int64
    public var how: String

    public init(addr: UInt64, sysno: Int64, how: String) {
        self.addr = addr
        self.sysno = sysno
        self.how = how
    }

    public var description: String { "\(sysno)@0x\(hex(addr)) (\(how))" }
}

/// A table and calls to make against it.
public struct PinCheckCase: Sendable, CustomStringConvertible {
    public var table: PinTableSpec
    public var calls: [PinCall]

    public init(table: PinTableSpec, calls: [PinCall]) {
        self.table = table
        self.calls = calls
    }

    public var description: String {
        "\(table); calls: " + calls.map(\.description).joined(separator: ", ")
    }
}

public enum CallGen {
    /// Call sites inside and outside each region and in the trampoline, with numbers taken from
    /// the table (so duplicated, marker-holding numbers are common), any number, sigreturn and
    /// out-of-range numbers.
    public static func call(for t: PinTableSpec, _ rng: inout DrawSource) -> PinCall {
        let mask = t.mask
        func someEntry(_ rng: inout DrawSource) -> SyscallSite? {
            t.entries.isEmpty ? nil : Draw.pick(t.entries, &rng)
        }
        func sysnoOfEntry(_ rng: inout DrawSource) -> Int64 {
            if let e = someEntry(&rng) { return Int64(e.sysno) }
            return Int64(Draw.u32(1...330, &rng))
        }
        let inRegion = { (rng: inout DrawSource) -> UInt64 in
            (t.regionStart &+ Draw.u64(0...(t.textSize - 1), &rng)) & mask
        }
        switch Draw.weighted([20, 10, 25, 10, 10, 8, 7, 5, 5], &rng) {
        case 0:
            if let e = someEntry(&rng) { return PinCall(addr: t.address(of: e), sysno: Int64(e.sysno), how: "entry") }
            return PinCall(addr: inRegion(&rng), sysno: sysnoOfEntry(&rng), how: "in region")
        case 1:
            if let e = someEntry(&rng) {
                return PinCall(addr: t.address(of: e), sysno: sysnoOfEntry(&rng), how: "entry site, other number")
            }
            return PinCall(addr: inRegion(&rng), sysno: sysnoOfEntry(&rng), how: "in region")
        case 2:
            return PinCall(addr: inRegion(&rng), sysno: sysnoOfEntry(&rng), how: "in region, entry's number")
        case 3:
            return PinCall(addr: inRegion(&rng), sysno: Int64(Draw.u32(1...330, &rng)), how: "in region, any number")
        case 4:
            let edges: [(UInt64, String)] = [
                (t.regionStart, "region start"), ((t.regionEnd &- 1) & mask, "last byte of region"),
                (t.regionEnd, "region end"), ((t.regionStart &- 1) & mask, "byte before region"),
            ]
            let (a, how) = Draw.pick(edges, &rng)
            return PinCall(addr: a, sysno: sysnoOfEntry(&rng), how: how)
        case 5:
            let a = t.sigtramp ?? 0x7000_0100
            let n: Int64 = Draw.chance(60, &rng) ? Int64(Sysno.sigreturn) : sysnoOfEntry(&rng)
            return PinCall(addr: a, sysno: n, how: "trampoline")
        case 6:
            // ld.so's region (the fixture's for libc cases), with one of its numbers.
            let e = Draw.pick(LdsoFixture.entries, &rng)
            let a =
                Draw.chance(50, &rng)
                ? LdsoFixture.address(e.offset)
                : LdsoFixture.regionStart + Draw.u64(0...(LdsoFixture.textSize - 1), &rng)
            return PinCall(addr: a & mask, sysno: Int64(e.sysno), how: "fixture ld.so region")
        case 7:
            return PinCall(addr: Draw.u64(0...mask, &rng), sysno: sysnoOfEntry(&rng), how: "anywhere")
        default:
            let n = Draw.pick([0, Int64(KernelConfig.openbsd.maxSyscall), -1, 1_000_000], &rng)
            let a = someEntry(&rng).map { t.address(of: $0) } ?? inRegion(&rng)
            return PinCall(addr: a, sysno: n, how: "out-of-range number")
        }
    }

    /// A table (see `PinTableGen.spec`) and 1...`maxCalls` calls against it.
    public static func checkCase(
        kinds: [ImageKind] = ImageKind.allCases, allowWild: Bool = true, maxCalls: Int = 8
    ) -> Generator<PinCheckCase, Shrink.None<PinCheckCase>> {
        let tables = PinTableGen.spec(kinds: kinds, allowWild: allowWild)
        return Generator { rng in
            let t = tables.run(using: &rng)
            let n = Draw.int(1...maxCalls, &rng)
            return PinCheckCase(table: t, calls: (0..<n).map { _ in call(for: t, &rng) })
        }
    }
}
