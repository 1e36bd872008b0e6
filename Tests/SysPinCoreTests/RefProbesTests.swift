import SysPinCore
@testable import SysPinFuzzing
import SysPinReference
import Testing

/// `RefProbes.pinCheck` probes every site of a table, small or large: tables of 3 to 330 sites
/// (64 and 65 either side of a stack buffer a faster site list may use) are probed whole (both
/// models agree), and a site moved in one model only still fails.
@Suite("RefProbes")
struct RefProbesTests {
    /// A region pinning every number from 1 to `count` at its own site, as both models hold it.
    static func table(count: Int, start: UInt64) -> (PinRegion, RefTable) {
        var pins = [UInt32](repeating: 0, count: count + 1)
        for i in 1...count { pins[i] = UInt32(0x10 + 4 * i) }
        let region = PinRegion(start: start, end: start + 0x1000, pins: pins)
        let ref = RefTable(
            start: start, end: start + 0x1000, pins: pins,
            sites: (1...count).map { RefSite(sysno: UInt32($0), rel: UInt64(0x10 + 4 * $0)) })
        return (region, ref)
    }

    @Test(
        "tables of 3 to 330 sites agree, and one moved site fails",
        arguments: [3, 64, 65, 200, 330])
    func probesWholeTable(count: Int) throws {
        let arch = Arch.named("amd64")!
        let (region, ref) = Self.table(count: count, start: 0x1_0000_0000)
        for policy in RefPolicy.comparable {
            let main = policy == .strict ? region.withStrictSites(recorded: [], origin: region.start, mask: arch.addressMask) : region
            try RefProbes.pinCheck(
                libc: nil, refLibc: nil, main: main, refMain: ref, sigtramp: nil, arch: arch, policy: policy, seed: 7,
                at: "\(count) sites")
        }
        // The last site moved in the reference's table only: its own probe, at the site, fails.
        var moved = ref
        moved.pins[count] += 4
        moved.sites[count - 1].rel += 4
        #expect(throws: InvariantViolation.self) {
            try RefProbes.pinCheck(
                libc: nil, refLibc: nil, main: region, refMain: moved, sigtramp: nil, arch: arch, policy: .openbsd, seed: 7,
                at: "\(count) sites")
        }
    }
}
