#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SysPinCore
import SysPinTesting

// The pin check in a loop, for ci/bench-callgrind: valgrind's instruction count for two iteration
// counts, differenced and divided, is the cost of one check as executed, whatever the setup costs.
// The table has ENTRIES entries (numbers spread over 1...330, duplicates making marker slots);
// every table holds number 20 at the same site, and the queries are the same three for every
// size: number 20 from its site (allowed), number 20 from another site of the region (denied:
// another site under openbsd, not recorded under strict), and a number with a zero slot (denied). So
// equal counts for 1 and 331 entries mean the check's work does not depend on the table's size.
//
// Usage: syspin-checkloop ENTRIES openbsd|strict ITERATIONS     (prints the number of allowed checks)

let args = CommandLine.arguments
guard args.count == 4, let n = Int(args[1]), n >= 1, let policy = PinPolicy(rawValue: args[2]),
    let iterations = Int(args[3]), iterations >= 0
else {
    print("usage: syspin-checkloop ENTRIES openbsd|strict ITERATIONS")
    exit(2)
}

let base: UInt64 = 0x7f10_0000_0000
let textStart: UInt64 = 0x1000
var entries = [SyscallSite(offset: UInt32(textStart + 0x10), sysno: 20)]
for i in 1..<n {
    // Number 19 is never pinned: the third query's "no pin" (a zero slot inside every table,
    // which is the same path for every size; a number past npins would return before the read).
    var sysno = UInt32(1 + (i * 7919) % 330)
    if sysno == 19 { sysno = 18 }
    entries.append(SyscallSite(offset: UInt32(textStart + 0x20 + 16 * UInt64(i)), sysno: sysno))
}
let len = textStart + 0x20 + 16 * UInt64(n) + 0x100
// Built and installed as the benchmarks build theirs (SysPinTesting's PinCheckFixture).
let libc = PinCheckFixture.region(entries: entries, base: base, textStart: textStart, len: len)
let main = PinRegion(start: 0x7f00_0000_1000, end: 0x7f00_0000_3000, pins: [0])
let site = base + textStart + 0x10
let queries: [(addr: UInt64, code: UInt32)] = [(site, 20), (site + 4, 20), (site, 19)]

// The loop the benchmarks time (PinCheckFixture.allowed), here with the policy as an argument.
@inline(never)
func checks(_ libc: PinRegion, _ main: PinRegion, _ q: [(addr: UInt64, code: UInt32)], _ iterations: Int, _ policy: PinPolicy) -> Int {
    PinCheckFixture.allowed(
        libc: libc, main: main, sigtramp: 0x7000_0100, queries: q, iterations: iterations, mask: .max, policy: policy)
}

print(checks(libc, main, queries, iterations, policy))
