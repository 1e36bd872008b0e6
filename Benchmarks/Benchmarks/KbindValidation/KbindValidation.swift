import Benchmark
import SysPinCore
import SysPinTesting

// kbind(2) validation (R-KB-5..9) and a whole bound call (R-KB-2/3, R-KB-11 writes), on amd64:
// a one-block buffer (one GOT word, as ld.so's lazy binding makes) and a two-block one, and a
// buffer R-KB-7 rejects. One iteration is 1000 calls: its wall-clock time in μs is ns per call.

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal], warmupIterations: 3, scalingFactor: .one,
        maxDuration: .seconds(2), maxIterations: 300)
    let arch = Arch.amd64
    let got: UInt64 = 0x6000_0010
    let one = KbindParamBuilder.encode([(got, [UInt8](repeating: 0xAB, count: 8))], arch: arch)
    let two = KbindParamBuilder.encode(
        [(got, [UInt8](repeating: 0xAB, count: 8)), (got + 0x100, [UInt8](repeating: 0xCD, count: 16))], arch: arch)
    let bad = KbindParamBuilder.encode(headers: [(got, 25)], data: [UInt8](repeating: 0, count: 24), arch: arch)
    let mappings = [MemoryMapping(start: 0x6000_0000, end: 0x6000_2000, writable: true)]
    let site: UInt64 = 0x7f00_0000_1020

    for (name, buf) in [("oneBlock", one), ("twoBlocks", two), ("rejected", bad)] {
        Benchmark("Kbind.parse.\(name)") { _ in
            var acc = 0
            for _ in 0..<1000 {
                if case .blocks(let b) = Kbind.parse(buf, psize: UInt64(buf.count), arch: arch) { acc &+= b.count }
            }
            blackHole(acc)
        }
    }
    Benchmark("Kbind.call.oneBlock") { _ in
        var state = KbindState(pc: site + arch.trapDistance, cookie: 42)
        var acc = 0
        for _ in 0..<1000 {
            let (v, w) = Kbind.call(
                state: &state, addr: site, param: one, psize: UInt64(one.count), cookie: 42, mappings: mappings, arch: arch)
            acc &+= w.count + (v.isOK ? 1 : 0)
        }
        blackHole(acc)
    }
}
