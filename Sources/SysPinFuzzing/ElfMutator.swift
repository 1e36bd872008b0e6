import SysPinCore

/// Structure-aware mutation for FuzzELF (LLVMFuzzerCustomMutator): most mutations rewrite one
/// field of a readable ELF image (header, a program header, or a pin-table entry) with a value
/// chosen to sit on a rule's boundary, so mutants keep reaching the program-header and pin-table
/// rules instead of dying at the magic check. The rest go to libFuzzer's own byte mutator.
public struct ElfMutator {
    /// SplitMix64, seeded by libFuzzer.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 { splitmix64(&state) }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
        mutating func pick<T>(_ xs: [T]) -> T { xs[below(xs.count)] }
    }

    public typealias ByteMutator = (UnsafeMutablePointer<UInt8>, Int, Int) -> Int

    /// Mutates `data[0..<size]` in place (capacity `maxSize`), returning the new size.
    public static func mutate(
        _ data: UnsafeMutablePointer<UInt8>, size: Int, maxSize: Int, seed: UInt32, fallback: ByteMutator
    ) -> Int {
        var rng = Random(state: UInt64(seed) &* 0x2545_F491_4F6C_DD1D)
        var bytes = Array(UnsafeBufferPointer(start: data, count: size))
        guard rng.below(4) != 0, mutateStructure(&bytes, &rng), bytes.count <= maxSize else {
            return fallback(data, size, maxSize)
        }
        bytes.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: $0.count) }
        return bytes.count
    }

    /// One structural mutation; false when the bytes are not an ELF image we can edit.
    static func mutateStructure(_ bytes: inout [UInt8], _ rng: inout Random) -> Bool {
        guard let (cls, endian) = ElfHeader.identity(bytes),
            let h = ElfHeader.read(bytes, elfClass: cls, endian: endian)
        else { return false }
        let w = cls == .elf64 ? 8 : 4
        let phsize = UInt64(cls.phdrSize)
        let phnum = Int(min(h.phnum, 32))
        func put(_ off: UInt64, _ value: UInt64, _ width: Int) {
            guard off <= UInt64(bytes.count), UInt64(width) <= UInt64(bytes.count) - off else { return }
            endian.store(value, width: width, into: &bytes, at: Int(off))
        }
        // Field offsets inside a phdr: (type, flags, offset, vaddr, filesz, memsz, align).
        let fields: [(UInt64, Int)] =
            cls == .elf64
            ? [(0, 4), (4, 4), (8, 8), (16, 8), (32, 8), (40, 8), (48, 8)]
            : [(0, 4), (24, 4), (4, 4), (8, 4), (16, 4), (20, 4), (28, 4)]
        let v = ByteView(bytes, endian: endian)
        func phdr(_ i: Int) -> UInt64 { h.phoff &+ UInt64(i) &* phsize }
        let fileSize = UInt64(bytes.count)
        let interesting: [UInt64] = [0, 1, 2, 7, 8, 0x1000, 0x10_0000, fileSize, fileSize &- 8, UInt64(UInt32.max), UInt64.max]

        switch rng.below(7) {
        case 0, 1:
            // A pin-table entry: boundary sysno or offset, or a duplicate of another entry.
            guard let segIndex = (0..<phnum).last(where: { v.u32(phdr($0)) == SegmentType.openbsdSyscalls.rawValue }) else { return false }
            let segOff = v.uint(phdr(segIndex) &+ fields[2].0, width: fields[2].1) ?? 0
            let segSize = v.uint(phdr(segIndex) &+ fields[4].0, width: fields[4].1) ?? 0
            let n = Int(min(segSize, 5296) / 8)
            guard n > 0 else { return false }
            let e = segOff &+ UInt64(rng.below(n)) * 8
            if rng.below(2) == 0 {
                put(e &+ 4, rng.pick([0, 1, 20, 59, 86, 103, 158, 330, 331, UInt64(UInt32.max)] + [UInt64(v.u32(segOff &+ UInt64(rng.below(n)) * 8 &+ 4) ?? 1)]), 4)
            } else {
                let other = UInt64(v.u32(segOff &+ UInt64(rng.below(n)) * 8) ?? 0)
                put(e, rng.pick([0, 1, other, other &+ 1, other &- 1, UInt64(UInt32.max), h.entry]) & 0xFFFF_FFFF, 4)
            }
        case 2, 3:
            // A program-header field.
            guard phnum > 0 else { return false }
            let i = rng.below(phnum)
            let (off, width) = rng.pick(fields)
            let value: UInt64
            if off == 0 {
                let types: [SegmentType] = [.load, .interp, .note, .phdr, .shlib, .openbsdSyscalls, .openbsdRandomize, .null]
                value = UInt64(rng.pick(types).rawValue)
            } else if off == fields[1].0 {
                value = UInt64(rng.below(8))
            } else if off == fields[6].0 {
                value = rng.pick([0, 1, 3, 4, 0x1000, 0x1001, 1 << 63])
            } else {
                let current = v.uint(phdr(i) &+ off, width: width) ?? 0
                value = rng.pick(interesting + [current &+ 1, current &- 1, current &+ 8, current &- 8])
            }
            put(phdr(i) &+ off, value & (width == 8 ? .max : 0xFFFF_FFFF), width)
        case 4:
            // A header field: phnum, phoff, type, machine, phentsize.
            let afterEntry = UInt64(24 + 3 * w)
            switch rng.below(5) {
            case 0: put(afterEntry + 8, UInt64(rng.pick([0, Int(h.phnum) + 1, max(Int(h.phnum) - 1, 0), 32, 33, 0xFFFF])), 2)
            case 1: put(UInt64(24 + w), rng.pick([0, UInt64(cls.ehdrSize), fileSize, h.phoff &+ phsize]), w)
            case 2: put(16, UInt64(rng.pick([1, 2, 3, 4])), 2)
            case 3: put(18, UInt64(rng.pick(Arch.all).machine), 2)
            default: put(afterEntry + 6, UInt64(rng.pick([0, 32, 56, 64])), 2)
            }
        case 5:
            // Grow or shrink the pin segment by one entry (filesz), possibly past the file's end.
            guard let segIndex = (0..<phnum).last(where: { v.u32(phdr($0)) == SegmentType.openbsdSyscalls.rawValue }) else { return false }
            let at = phdr(segIndex) &+ fields[4].0
            let size = v.uint(at, width: fields[4].1) ?? 0
            put(at, rng.below(2) == 0 ? size &+ 8 : size &- 8, fields[4].1)
        default:
            // Append a copy of the pin segment's first entry at the end of the file and point the
            // segment at a table that now ends there.
            guard let segIndex = (0..<phnum).last(where: { v.u32(phdr($0)) == SegmentType.openbsdSyscalls.rawValue }) else { return false }
            let segOff = v.uint(phdr(segIndex) &+ fields[2].0, width: fields[2].1) ?? 0
            let segSize = v.uint(phdr(segIndex) &+ fields[4].0, width: fields[4].1) ?? 0
            guard segSize < 5296, segOff <= fileSize, segSize <= fileSize - segOff else { return false }
            var table = Array(bytes[Int(segOff)..<Int(segOff + segSize)])
            table += table.prefix(8)
            let newOff = UInt64(bytes.count)
            bytes += table
            put(phdr(segIndex) &+ fields[2].0, newOff, fields[2].1)
            put(phdr(segIndex) &+ fields[4].0, UInt64(table.count), fields[4].1)
            put(phdr(segIndex) &+ fields[5].0, UInt64(table.count), fields[5].1)
        }
        return true
    }
}
