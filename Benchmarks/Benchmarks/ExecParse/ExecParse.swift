import Benchmark
import CElf
import Foundation
import SysPinCore

// Exec parsing of the Corpus images (Corpus/FuzzELF/seeds: images linked by the real ld.lld for ten
// arches, and fuzz seeds) against libelf. The headline compares the production path, the whole main
// loader (ExecLoaders.loadMain: every §4 rule, both passes, the note scan, the pin table read and
// its region built), with libelf doing only its bare read of the same images: elf_memory,
// elf_getphdrnum, gelf_getphdr for every header, elf_rawfile for the last PT_OPENBSD_SYSCALLS
// segment's bytes and its {offset, sysno} entries decoded into an array. One iteration parses every
// image once; the ratio of the two throughputs is the figure of merit (target: loadMain >= 1.5x
// libelf). A second Swift row does libelf's bare read only (ExecRules.readImage +
// PinTableReader.entries(in:)), the like-for-like comparison.
//
// The three rows run one after another, each for a few seconds, and this shared VM's speed moves
// by up to 1.7x from one second to the next: two p0 figures taken seconds apart gave a ratio
// anywhere from 0.6x to 1.6x for the same build. The paired benchmark times both sides within
// each iteration, pass against pass in alternating order, so a slow phase weighs on both; its
// per-iteration ratio is the figure `ci/bench` judges the target by.

struct Image {
    let bytes: [UInt8]
    let arch: Arch
    /// libelf's private mutable copy (elf_memory takes a char *).
    let cCopy: UnsafeMutablePointer<CChar>
}

func corpusImages() -> [Image] {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    let dir = root.appendingPathComponent("Corpus/FuzzELF/seeds")
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
    var out: [Image] = []
    for n in names {
        guard let d = FileManager.default.contents(atPath: dir.appendingPathComponent(n).path) else { continue }
        let bytes = [UInt8](d)
        // Only images the main loader accepts (so it runs its whole success path: every rule, the
        // note scan, the table and the region) and libelf reads, so both sides do their full work.
        guard case .success(let arch) = ExecRules.inferArch(bytes),
            case .success = ExecLoaders.loadMain(bytes, arch: arch, base: 0x1000_0000)
        else { continue }
        let c = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count)
        for (i, b) in bytes.enumerated() { c[i] = CChar(bitPattern: b) }
        out.append(Image(bytes: bytes, arch: arch, cCopy: c))
    }
    return out
}

@inline(never)
func swiftParse(_ img: Image) -> Int {
    guard case .success(let image) = ExecRules.readImage(img.bytes, arch: img.arch, loader: .main) else { return -1 }
    guard let seg = image.phdrs.last(where: { $0.type == .openbsdSyscalls }) else { return image.phdrs.count }
    let entries = PinTableReader.entries(in: image.view, offset: seg.offset, length: seg.filesz)
    return image.phdrs.count &+ entries.count
}

@inline(never)
func libelfParse(_ img: Image) -> Int {
    guard let elf = elf_memory(img.cCopy, img.bytes.count) else { return -1 }
    defer { elf_end(elf) }
    var n = 0
    guard elf_getphdrnum(elf, &n) == 0 else { return -1 }
    var seg = GElf_Phdr()
    var found = false
    for i in 0..<n {
        var ph = GElf_Phdr()
        guard gelf_getphdr(elf, Int32(i), &ph) != nil else { return -1 }
        if ph.p_type == 0x65a3_dbe9 {
            seg = ph
            found = true
        }
    }
    guard found else { return n }
    var size = 0
    guard let raw = elf_rawfile(elf, &size), seg.p_offset <= UInt64(size) else { return -1 }
    let avail = min(Int(seg.p_filesz), size - Int(seg.p_offset))
    let little = img.arch.endian == .little
    var entries: [SyscallSite] = []
    entries.reserveCapacity(avail / 8)
    raw.withMemoryRebound(to: UInt8.self, capacity: size) { p in
        let base = p + Int(seg.p_offset)
        func u32(_ at: Int) -> UInt32 {
            let b0 = UInt32(base[at]), b1 = UInt32(base[at + 1]), b2 = UInt32(base[at + 2]), b3 = UInt32(base[at + 3])
            return little ? b0 | b1 << 8 | b2 << 16 | b3 << 24 : b3 | b2 << 8 | b1 << 16 | b0 << 24
        }
        var at = 0
        while at + 8 <= avail {
            entries.append(SyscallSite(offset: u32(at), sysno: u32(at + 4)))
            at += 8
        }
    }
    return n &+ entries.count
}

@inline(never)
func loadMainPass(_ images: [Image]) -> Int {
    var acc = 0
    for img in images {
        if case .success(let plan) = ExecLoaders.loadMain(img.bytes, arch: img.arch, base: 0x1000_0000) {
            // The pins array's count read through the stored properties: `plan.region?.npins`
            // (and `plan.pinLayout?.region?.npins` or `?.start`) copies the whole PinLayout or PinRegion
            // out of the plan first, a retain, a release and an outlined copy and destroy per
            // image (about 370 instructions, callgrind) that the harness, not loadMain, spends.
            acc &+= plan.image.phdrs.count &+ (plan.pinLayout?.region?.pins.count ?? 0)
        }
    }
    return acc
}

@inline(never)
func libelfPass(_ images: [Image]) -> Int {
    var acc = 0
    for img in images { acc &+= libelfParse(img) }
    return acc
}

/// Nanoseconds `body` took (monotonic clock), and its result for the black hole.
@inline(__always)
func timed(_ body: () -> Int) -> (ns: UInt64, result: Int) {
    var t0 = timespec()
    var t1 = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t0)
    let r = body()
    clock_gettime(CLOCK_MONOTONIC, &t1)
    let ns = (Int64(t1.tv_sec) - Int64(t0.tv_sec)) * 1_000_000_000 + (Int64(t1.tv_nsec) - Int64(t0.tv_nsec))
    return (UInt64(max(ns, 1)), r)
}

/// The paired figure: libelf's time over loadMain's for the same passes, times 1000 (so 1500 is
/// loadMain at 1.5x libelf's throughput).
let pairedRatioMetric = BenchmarkMetric.custom("libelf/loadMain x1000", polarity: .prefersLarger, useScalingFactor: false)

let benchmarks: @Sendable () -> Void = {
    _ = elf_version(UInt32(EV_CURRENT))
    let images = corpusImages()
    precondition(!images.isEmpty, "no Corpus/FuzzELF/seeds images found")
    for img in images { precondition(swiftParse(img) == libelfParse(img), "Swift and libelf disagree on an image") }

    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal], warmupIterations: 3, scalingFactor: .one,
        maxDuration: .seconds(3), maxIterations: 300)

    Benchmark("ExecParse.swift.images\(images.count)") { benchmark in
        var acc = 0
        for _ in benchmark.scaledIterations {
            for img in images { acc &+= swiftParse(img) }
        }
        blackHole(acc)
    }
    Benchmark("ExecParse.libelf.images\(images.count)") { benchmark in
        var acc = 0
        for _ in benchmark.scaledIterations {
            for img in images { acc &+= libelfParse(img) }
        }
        blackHole(acc)
    }
    Benchmark("ExecParse.swift-loadMain.images\(images.count)") { benchmark in
        var acc = 0
        for _ in benchmark.scaledIterations { acc &+= loadMainPass(images) }
        blackHole(acc)
    }
    // One iteration: 8 pairs of passes, libelf first in even pairs and loadMain first in odd ones.
    Benchmark(
        "ExecParse.paired.images\(images.count)",
        configuration: .init(metrics: [.wallClock, .throughput, pairedRatioMetric], maxIterations: 200)
    ) { benchmark in
        var lib: UInt64 = 0
        var load: UInt64 = 0
        var acc = 0
        for pair in 0..<8 {
            let first = pair % 2 == 0 ? timed { libelfPass(images) } : timed { loadMainPass(images) }
            let second = pair % 2 == 0 ? timed { loadMainPass(images) } : timed { libelfPass(images) }
            lib &+= pair % 2 == 0 ? first.ns : second.ns
            load &+= pair % 2 == 0 ? second.ns : first.ns
            acc &+= first.result &+ second.result
        }
        blackHole(acc)
        benchmark.measurement(pairedRatioMetric, Int(lib * 1000 / load))
    }
}
