import SysPinCore
import SysPinTesting
import Testing

/// R-PT-1..16: reading, building, rebasing and installing pin tables (SPEC §5).
@Suite("R-PT-1..16 pin tables")
struct PinTableRulesTests {
    static func parse(
        _ sites: [SyscallSite], isLdso: Bool = false, len: UInt64 = 0x10000, endian: Endian = .little,
        config: KernelConfig = .openbsd
    ) -> PinTableParse {
        let bytes = ElfBuilder.encode(sites: sites, endian: endian)
        return PinTableReader.parse(
            filesz: UInt64(bytes.count), available: bytes, endian: endian, isLdso: isLdso, len: len, config: config)
    }

    static func pins(count: Int, _ values: [Int: UInt32]) -> [UInt32] {
        var p = [UInt32](repeating: 0, count: count)
        for (k, v) in values { p[k] = v }
        return p
    }

    // MARK: encoding

    @Test("§2.1: records are {u32 offset, u32 sysno} in the image's byte order")
    func recordEncoding() {
        let s = [site(0x40_0100, 20)]
        let le: [UInt8] = [0x00, 0x01, 0x40, 0x00, 0x14, 0x00, 0x00, 0x00]
        let be: [UInt8] = [0x00, 0x40, 0x01, 0x00, 0x00, 0x00, 0x00, 0x14]
        #expect(ElfBuilder.encode(sites: s, endian: .little) == le)
        #expect(ElfBuilder.encode(sites: s, endian: .big) == be)
        #expect(PinTableReader.entries(le, endian: .little) == s)
        #expect(PinTableReader.entries(be, endian: .big) == s)
    }

    @Test("a static image's table round-trips through the loader", arguments: Arch.all)
    func roundTrip(arch: Arch) throws {
        // Text [0x400000, 0x404000): aligned for every page size, so T0 = 0x400000, len = 0x404000.
        let sites = [
            site(0x40_0100, 4), site(0x40_0200, 1), site(0x40_0300, 4), site(0x40_0000, 5), site(0x40_4000, 6),
        ]
        let b = ElfBuilder.staticExec(arch: arch, text: (0x40_0000, 0x4000), sites: sites)
        let plan = try #require(mainPlan(b.build(), arch))
        #expect(plan.pinTable?.entries == sites)
        // 4 twice → marker; 5 at offset == delta → 0 after rebasing (R-PT-9 D); 6 at offset == len.
        let expected = PinRegion(
            start: 0x40_0000, end: 0x40_4000,
            pins: Self.pins(count: 7, [1: 0x200, 4: 0xFFFF_FFFF, 6: 0x4000]))
        #expect(plan.region == expected)
    }

    // MARK: R-PT-1

    @Test("R-PT-1: up to SYS_MAXSYSCALL × 16 = 5296 bytes are accepted")
    func sizeCapAccepted() throws {
        // 662 records over sysnos 1...330: every number at least twice → all markers.
        let sites = (0..<662).map { site(0x10, UInt32($0 % 330) + 1) }
        let pins = try #require(Self.parse(sites).pins)
        #expect(pins.count == 331)
        #expect(pins[0] == 0 && pins[1] == 0xFFFF_FFFF && pins[330] == 0xFFFF_FFFF)
    }

    @Test("R-PT-1: 5304 bytes (663 records) are discarded")
    func sizeCapExceeded() {
        let sites = (0..<663).map { site(0x10, UInt32($0 % 330) + 1) }
        guard case .discarded(let rule, _) = Self.parse(sites) else {
            Issue.record("table of 663 records was not discarded")
            return
        }
        #expect(rule == "R-PT-1")
    }

    @Test("R-PT-1: p_filesz is compared in full width, before any read (R-ELF-29)")
    func sizeCapFullWidth() {
        let bytes = ElfBuilder.encode(sites: [site(0x10, 1)], endian: .little)
        // 0x1_0000_0008 narrowed to 32 bits would be 8, a valid one-record table.
        let wide = PinTableReader.parse(filesz: 0x1_0000_0008, available: bytes, endian: .little, isLdso: false, len: 0x100)
        #expect(wide == .discarded(rule: "R-PT-1", entries: [site(0x10, 1)]))
        // Over the cap AND short: the cap decides.
        let short = PinTableReader.parse(filesz: 5304, available: bytes, endian: .little, isLdso: false, len: 0x100)
        #expect(short == .discarded(rule: "R-PT-1", entries: [site(0x10, 1)]))
    }

    @Test("R-PT-1: the cap follows SYS_MAXSYSCALL")
    func sizeCapConfigurable() {
        let config = KernelConfig(maxSyscall: 10)  // cap 160 bytes = 20 records
        let twenty = (0..<20).map { site(0x10, UInt32($0 % 9) + 1) }
        #expect(Self.parse(twenty, config: config).pins?.count == 10)
        #expect(Self.parse(twenty + [site(0x10, 1)], config: config) == .discarded(rule: "R-PT-1", entries: twenty + [site(0x10, 1)]))
    }

    @Test("R-PT-1 via an image: a huge ELF64 p_filesz discards the table, the exec succeeds")
    func sizeCapInImage() throws {
        var b = ElfBuilder.staticExec(arch: .amd64, sites: [])
        b.syscalls = nil
        b.openBSDNote = false
        var seg = ElfBuilder.Segment.syscalls([site(0x40_0010, 1)], endian: .little)
        seg.fileszOverride = 0x1_0000_0008
        // The table's 8 bytes end the file.
        b.segments += [.openBSDNote(endian: .little), seg]
        let plan = try #require(mainPlan(b.build(), .amd64))
        #expect(plan.pinTable == .discarded(rule: "R-PT-1", entries: [site(0x40_0010, 1)]))
        #expect(plan.region == nil)
    }

    // MARK: R-PT-2

    @Test("R-PT-2: p_filesz must be a multiple of 8", arguments: [4, 12, 15, 9])
    func notMultipleOfEight(filesz: Int) {
        let bytes = [UInt8](repeating: 1, count: filesz)
        let p = PinTableReader.parse(filesz: UInt64(filesz), available: bytes, endian: .little, isLdso: false, len: .max)
        guard case .discarded(let rule, _) = p else {
            Issue.record("filesz \(filesz) accepted")
            return
        }
        #expect(rule == "R-PT-2")
    }

    @Test("R-PT-2: multiples of 8 pass this check")
    func multipleOfEight() {
        let bytes = ElfBuilder.encode(sites: [site(0x10, 1), site(0x20, 2)], endian: .little)
        #expect(PinTableReader.parse(filesz: 16, available: bytes, endian: .little, isLdso: false, len: 0x20).pins != nil)
    }

    // MARK: R-PT-3

    @Test("R-PT-3: fewer bytes in the file than p_filesz", arguments: [0, 8, 15])
    func shortRead(available: Int) {
        let bytes = ElfBuilder.encode(sites: [site(0x10, 1), site(0x20, 2)], endian: .little)
        let p = PinTableReader.parse(filesz: 16, available: Array(bytes.prefix(available)), endian: .little, isLdso: false, len: 0x20)
        guard case .discarded(let rule, _) = p else {
            Issue.record("short table accepted")
            return
        }
        #expect(rule == "R-PT-3")
    }

    @Test("R-PT-3 via an image: a table cut by the end of the file is discarded, the exec succeeds")
    func shortReadInImage() throws {
        var b = ElfBuilder.staticExec(arch: .amd64, sites: [site(0x40_0010, 1), site(0x40_0020, 20)])
        b.truncatedTo = b.build().count - 1
        let plan = try #require(mainPlan(b.build(), .amd64))
        #expect(plan.pinTable == .discarded(rule: "R-PT-3", entries: [site(0x40_0010, 1)]))
        #expect(plan.region == nil)
        // A p_offset past the end of the file reads nothing.
        var far = ElfBuilder.staticExec(arch: .amd64, sites: [])
        far.syscalls = nil
        var seg = ElfBuilder.Segment.syscalls([site(0x40_0010, 1)], endian: .little)
        seg.offsetOverride = 1 << 32
        far.segments.append(seg)
        #expect(try #require(mainPlan(far.build(), .amd64)).pinTable == .discarded(rule: "R-PT-3", entries: []))
    }

    // MARK: R-PT-4

    @Test("R-PT-4: sysno 0 or ≥ SYS_MAXSYSCALL discards the whole table",
          arguments: [UInt32(0), 331, 332, 0xFFFF_FFFF])
    func badSysno(sysno: UInt32) {
        let sites = [site(0x10, 1), site(0x20, sysno), site(0x30, 2)]
        #expect(Self.parse(sites) == .discarded(rule: "R-PT-4", entries: sites))
    }

    @Test("R-PT-4: sysno 330 (the last) is accepted; the bound follows SYS_MAXSYSCALL")
    func lastSysno() {
        #expect(Self.parse([site(0x10, 330)]).pins?.count == 331)
        #expect(Self.parse([site(0x10, 331)], config: KernelConfig(maxSyscall: 400)).pins?.count == 332)
    }

    @Test("R-PT-4: offset > len discards; offset == len is accepted")
    func offsetBound() {
        #expect(Self.parse([site(0x1000, 1)], len: 0x1000).pins == [0, 0x1000])
        let bad = [site(0x10, 2), site(0x1001, 1)]
        #expect(Self.parse(bad, len: 0x1000) == .discarded(rule: "R-PT-4", entries: bad))
        #expect(Self.parse([site(0xFFFF_FFFF, 1)], len: 0xFFFF_FFFE) == .discarded(rule: "R-PT-4", entries: [site(0xFFFF_FFFF, 1)]))
        // len is pointer-width: a 64-bit len admits every u32 offset.
        #expect(Self.parse([site(0xFFFF_FFFF, 1)], len: 0x1_0000_0000).pins == [0, 0xFFFF_FFFF])
    }

    // MARK: R-PT-5, R-PT-6

    @Test("R-PT-5/6: an empty table is valid and has one slot (ld.so: 87 with the kbind marker)")
    func emptyTable() {
        #expect(PinTableReader.parse(filesz: 0, available: [], endian: .little, isLdso: false, len: 0) == .table(entries: [], pins: [0]))
        #expect(PinTableReader.parse(filesz: 0, available: [], endian: .little, isLdso: true, len: 0).pins
            == Self.pins(count: 87, [86: 0xFFFF_FFFF]))
    }

    @Test("R-PT-6: npins = 1 + max sysno, at least SYS_kbind + 1 for ld.so")
    func npins() {
        #expect(Self.parse([site(0x10, 20), site(0x20, 5)]).pins?.count == 21)
        #expect(Self.parse([site(0x10, 20), site(0x20, 5)], isLdso: true).pins?.count == 87)
        #expect(Self.parse([site(0x10, 200)], isLdso: true).pins?.count == 201)
    }

    // MARK: R-PT-7, R-PT-8

    @Test("R-PT-7: one record → precise pin; a second → marker (consequence A: even at the same offset)")
    func duplicates() {
        #expect(Self.parse([site(0x10, 3)]).pins == [0, 0, 0, 0x10])
        #expect(Self.parse([site(0x10, 3), site(0x20, 3)]).pins == [0, 0, 0, 0xFFFF_FFFF])
        #expect(Self.parse([site(0x10, 3), site(0x10, 3)]).pins == [0, 0, 0, 0xFFFF_FFFF])
    }

    @Test("R-PT-7 consequence B: offset 0 is indistinguishable from absent")
    func offsetZero() {
        #expect(Self.parse([site(0, 3)]).pins == [0, 0, 0, 0])
        #expect(Self.parse([site(0, 3), site(0x20, 3)]).pins == [0, 0, 0, 0x20])
        #expect(Self.parse([site(0x20, 3), site(0, 3)]).pins == [0, 0, 0, 0xFFFF_FFFF])
    }

    @Test("R-PT-7 consequence C: a third duplicate keeps the marker")
    func thirdDuplicate() {
        #expect(Self.parse([site(0x10, 3), site(0x20, 3), site(0x30, 3)]).pins == [0, 0, 0, 0xFFFF_FFFF])
        #expect(Self.parse([site(0x10, 3), site(0x20, 3), site(0, 3)]).pins == [0, 0, 0, 0xFFFF_FFFF])
    }

    @Test("R-PT-8: ld.so's kbind slot is always the marker; other images keep a precise kbind pin")
    func ldsoKbind() {
        #expect(Self.parse([site(0x40, 86)], isLdso: true).pins?[86] == 0xFFFF_FFFF)
        #expect(Self.parse([site(0x40, 86)], isLdso: false).pins?[86] == 0x40)
    }

    // MARK: R-PT-9

    @Test("R-PT-9: rebasing by delta, consequences D (→ 0), E (→ marker), F (→ wraps)")
    func rebasing() {
        let region = PinRegion.adjusted(
            pins: [0, 0x1010, 0xFFFF_FFFF, 0x1000, 0x0FFF, 0x10], start: 0, len: 0x3000, delta: 0x1000,
            mask: Arch.amd64.addressMask)
        #expect(region == PinRegion(start: 0x1000, end: 0x3000, pins: [0, 0x10, 0xFFFF_FFFF, 0, 0xFFFF_FFFF, 0xFFFF_F010]))
    }

    @Test("R-PT-9: the region moves by delta in pointer width")
    func rebasingRegion() {
        let r = PinRegion.adjusted(pins: [0], start: 0x7f00_0000_0000, len: 0x5000, delta: 0x2000, mask: Arch.amd64.addressMask)
        #expect(r.start == 0x7f00_0000_2000 && r.end == 0x7f00_0000_5000)
    }

    @Test("R-PT-9 / R-ARCH-2: on ILP32 a region running past 2^32 wraps and matches nothing")
    func ilp32RegionWrap() {
        let pins: [UInt32] = [0, 0xFFFF_FFFF]
        let i386 = PinRegion.adjusted(pins: pins, start: 0xFFFF_E000, len: 0x3000, delta: 0x1000, mask: Arch.i386.addressMask)
        #expect(i386.start == 0xFFFF_F000 && i386.end == 0x1000)
        #expect(pinCheck(main: i386, addr: 0xFFFF_F010, code: 1, arch: .i386) == .killed(.SIGABRT, .ENOSYS, "R-PC-7"))
        // The same numbers on LP64 make a real region in which the wildcard allows the call.
        let amd64 = PinRegion.adjusted(pins: pins, start: 0xFFFF_E000, len: 0x3000, delta: 0x1000, mask: Arch.amd64.addressMask)
        #expect(amd64.start == 0xFFFF_F000 && amd64.end == 0x1_0000_1000)
        #expect(pinCheck(main: amd64, addr: 0xFFFF_F010, code: 1, arch: .amd64) == .ok)
    }

    @Test("R-PT-9 D/E/F through exec and pin_check", arguments: [Arch.amd64, .i386, .powerpc, .powerpc64])
    func rebasingConsequences(arch: Arch) throws {
        // Text [0x401000, 0x402000): delta = 0x401000, len = 0x402000.
        let sites = [
            site(0x40_1000, 20),  // D: offset == delta → 0
            site(0x40_0FFF, 24),  // E: offset == delta − 1 → marker
            site(0x40_0010, 25),  // F: below delta → 0xFFFFF010
            site(0x40_1010, 1),  // precise
        ]
        let prog = ElfBuilder.staticExec(arch: arch, text: (0x40_1000, 0x1000), sites: sites).build()
        let (outcome, state) = ProcessModel.exec(program: prog, interpreter: nil, arch: arch)
        #expect(outcome.verdict == .ok)
        let s = try #require(state)
        let region = try #require(s.main)
        #expect(region.start == 0x40_1000 && region.end == 0x40_2000)
        #expect(region.pins[20] == 0 && region.pins[24] == 0xFFFF_FFFF && region.pins[25] == 0xFFFF_F010 && region.pins[1] == 0x10)
        // F: the sum lies 4 GiB past the start on LP64; on ILP32 it wraps below the start.
        #expect(region.site(of: 0xFFFF_F010, mask: arch.addressMask) == (arch.pointerBytes == 4 ? 0x40_0010 : 0x1_0040_0010))

        let killedNoPin = Verdict.killed(.SIGABRT, .ENOSYS, "R-PC-7")
        func call(_ addr: UInt64, _ sysno: Int64) -> Verdict? {
            var t = s
            return t.syscall(addr: addr, sysno: sysno, .plain).verdict
        }
        #expect(call(0x40_1000, 20) == killedNoPin)  // D
        #expect(call(0x40_1ABC, 24) == .ok)  // E: anywhere in the region
        #expect(call(0x40_1FFF, 24) == .ok)
        #expect(call(0x40_2000, 24) == killedNoPin)  // E, but outside the region
        #expect(call(0x40_0010, 25) == killedNoPin)  // F: the original site lies outside the region
        #expect(call(0x40_1010, 25) == .killed(.SIGABRT, .ENOSYS, "R-PT-10"))  // F: nowhere inside
        #expect(call(0x40_1010, 1) == .ok)
        #expect(call(0x40_1014, 1) == .killed(.SIGABRT, .ENOSYS, "R-PT-10"))
    }

    // MARK: R-PT-11

    static func staticImage(_ loads: [ElfBuilder.Segment], sites: [SyscallSite], arch: Arch = .amd64) -> [UInt8] {
        var b = ElfBuilder(arch: arch, type: .exec, entry: 0x40_0000)
        b.segments = loads
        b.syscalls = sites
        return b.build()
    }

    @Test("R-PT-11: text address truncated to p_align, size grown by the truncation; offset == len accepted")
    func staticSpanTruncation() throws {
        let text = ElfBuilder.Segment.load(flags: RX, vaddr: 0x40_1234, memsz: 0x100, align: 0x1000)
        let plan = try #require(mainPlan(Self.staticImage([text], sites: [site(0x40_1334, 1)]), .amd64))
        #expect(plan.region == PinRegion(start: 0x40_1000, end: 0x40_1334, pins: [0, 0x334]))
        let over = try #require(mainPlan(Self.staticImage([text], sites: [site(0x40_1335, 1)]), .amd64))
        #expect(over.pinTable == .discarded(rule: "R-PT-4", entries: [site(0x40_1335, 1)]))
        // p_align 0/1: no truncation.
        let unaligned = ElfBuilder.Segment.load(flags: RX, vaddr: 0x40_1234, memsz: 0x100, align: 1)
        let p1 = try #require(mainPlan(Self.staticImage([unaligned], sites: [site(0x40_1334, 1)]), .amd64))
        #expect(p1.region == PinRegion(start: 0x40_1234, end: 0x40_1334, pins: [0, 0x100]))
    }

    @Test("R-PT-11: the span grows down keeping its end, and otherwise takes the later segment's end")
    func staticSpanUpdates() throws {
        let a = ElfBuilder.Segment.load(flags: RX, vaddr: 0x40_0000, memsz: 0x1000)
        let below = ElfBuilder.Segment.load(flags: RX, vaddr: 0x30_0000, memsz: 0x100)
        let above = ElfBuilder.Segment.load(flags: RX, vaddr: 0x40_2000, memsz: 0x10)
        let p = try #require(mainPlan(Self.staticImage([a, below, above], sites: [site(0x40_2010, 1)]), .amd64))
        #expect(p.region == PinRegion(start: 0x30_0000, end: 0x40_2010, pins: [0, 0x10_2010]))
    }

    @Test("R-PT-11: a later text segment that ends earlier SHRINKS the span (kernel rule, not max)")
    func staticSpanShrinks() throws {
        let big = ElfBuilder.Segment.load(flags: RX, vaddr: 0x40_0000, memsz: 0x3000)
        let inner = ElfBuilder.Segment.load(flags: RX, vaddr: 0x40_1000, memsz: 0x100)
        let ok = try #require(mainPlan(Self.staticImage([big, inner], sites: [site(0x40_1100, 1)]), .amd64))
        #expect(ok.region == PinRegion(start: 0x40_0000, end: 0x40_1100, pins: [0, 0x1100]))
        // A site inside the first segment but past the shrunken end is out of bounds (R-PT-4).
        let lost = try #require(mainPlan(Self.staticImage([big, inner], sites: [site(0x40_2000, 1)]), .amd64))
        #expect(lost.pinTable == .discarded(rule: "R-PT-4", entries: [site(0x40_2000, 1)]))
    }

    @Test("R-PT-11: a span whose size is all ones is the kernel's \"no text yet\" (ep_tsize == ELF_NO_ADDR): the next text segment starts it afresh")
    func staticSpanSentinel() throws {
        let text = ElfBuilder.Segment.load(flags: RX, vaddr: 0x40_0000, memsz: 0x1000)
        // p_memsz 2^64 − 1 at a page-aligned p_vaddr: the span's size is all ones.
        let huge = ElfBuilder.Segment.load(flags: RX, vaddr: 0x1000, memsz: .max)
        let p = try #require(mainPlan(Self.staticImage([huge, text], sites: [site(0x40_0010, 1)]), .amd64))
        #expect(p.region == PinRegion(start: 0x40_0000, end: 0x40_1000, pins: [0, 0x10]))
        // One less is a size like any other: the span keeps its start and takes the later end.
        let big = ElfBuilder.Segment.load(flags: RX, vaddr: 0x1000, memsz: .max - 1)
        let q = try #require(mainPlan(Self.staticImage([big, text], sites: [site(0x40_0010, 1)]), .amd64))
        #expect(q.region == PinRegion(start: 0x1000, end: 0x40_1000, pins: [0, 0x3F_F010]))
        // ILP32: the sentinel is 32 bits wide.
        let huge32 = ElfBuilder.Segment.load(flags: RX, vaddr: 0x1000, memsz: 0xFFFF_FFFF)
        let r = try #require(mainPlan(Self.staticImage([huge32, text], sites: [site(0x40_0010, 1)], arch: .i386), .i386))
        #expect(r.region == PinRegion(start: 0x40_0000, end: 0x40_1000, pins: [0, 0x10]))
    }

    @Test("R-PT-11: static PIE offsets are image-relative; the region moves with the load base", arguments: Arch.all)
    func staticPieRegion(arch: Arch) throws {
        let prog = ElfBuilder.staticPIE(arch: arch, text: (0x1000, 0x1000), sites: [site(0x1010, 20)]).build()
        // Text vaddr 0x1000 with p_align = page size truncates to 0 on 8K/16K-page arches.
        let t0: UInt64 = 0x1000 & ~(arch.pageSize - 1)
        for base in [dynBase, dynBase + 0x10_0000] {
            let plan = try #require(mainPlan(prog, arch, base: base))
            #expect(plan.region == PinRegion(start: base + t0, end: base + 0x2000, pins: Self.pins(count: 21, [20: UInt32(0x1010 - t0)])))
            #expect(plan.region?.site(of: UInt32(0x1010 - t0), mask: arch.addressMask) == base + 0x1010)
        }
    }

    @Test("R-PT-11/14: a static program without a table, or with a discarded one, runs without one")
    func staticWithoutTable() throws {
        var none = ElfBuilder.staticExec(arch: .amd64, sites: [])
        none.syscalls = nil
        let bad = ElfBuilder.staticExec(arch: .amd64, sites: [site(0x40_0010, 0)])
        for b in [none, bad] {
            let (outcome, state) = ProcessModel.exec(program: b.build(), interpreter: nil, arch: .amd64)
            #expect(outcome.verdict == .ok)
            var s = try #require(state)
            #expect(s.main == nil)
            #expect(s.syscall(addr: 0x40_0010, sysno: 1, .plain).verdict == .killed(.SIGABRT, .ENOSYS, "R-PC-7"))
        }
    }

    @Test("R-PT-11 edge: with no text PT_LOAD every system call dies")
    func staticWithoutText() throws {
        let data = ElfBuilder.Segment.load(flags: RW, vaddr: 0x40_0000, memsz: 0x1000)
        let prog = Self.staticImage([data], sites: [site(0x10, 1)])
        let (outcome, state) = ProcessModel.exec(program: prog, interpreter: nil, arch: .amd64)
        #expect(outcome.verdict == .ok)
        for addr: UInt64 in [0, 0x10, 0x40_0010] {
            var s = try #require(state)
            #expect(s.syscall(addr: addr, sysno: 1, .plain).verdict == .killed(.SIGABRT, .ENOSYS, "R-PC-7"))
        }
    }

    // MARK: R-PT-12

    static let pos: UInt64 = 0x7f00_0000_0000

    @Test("R-PT-12: ld.so's span is min/max over executable PT_LOADs (not the R-PT-11 update rule)")
    func ldsoSpan() throws {
        var b = ElfBuilder(arch: .amd64, type: .dyn, entry: 0x3000)
        b.openBSDNote = false
        b.segments = [
            .load(flags: R, vaddr: 0, memsz: 0x1000),
            .load(flags: RX, vaddr: 0x3000, memsz: 0x1000),
            .load(flags: RX, vaddr: 0x1000, memsz: 0x1000),
            .load(flags: RX, vaddr: 0x2000, memsz: 0x100),
        ]
        b.syscalls = [site(0x3ff0, 1)]
        let region = try #require(interpLoad(b.build(), .amd64, pos: Self.pos)?.region)
        #expect(region == PinRegion(start: Self.pos + 0x1000, end: Self.pos + 0x4000, pins: Self.pins(count: 87, [1: 0x2ff0, 86: 0xFFFF_FFFF])))
    }

    @Test("R-PT-12: a segment's size grows by p_vaddr − ELF_TRUNC(p_vaddr, p_align), as in elf_load_psection")
    func ldsoSegmentSize() throws {
        // First PT_LOAD at vaddr 0x100 (align 0x1000): later segments are placed at p_vaddr − 0x100.
        // The text PT_LOAD at 0x1100: address ELF_TRUNC(0x1000, 0x1000) = 0x1000, size = memsz 0x100
        // + (0x1100 − ELF_TRUNC(0x1100, 0x1000)) = 0x200 → text [0x1000, 0x1200), len 0x1200.
        // (Regression: the core used the truncation of the relocated address, giving 0x1100.)
        var b = ElfBuilder(arch: .amd64, type: .dyn, entry: 0x1100)
        b.openBSDNote = false
        b.segments = [
            .load(flags: R, vaddr: 0x100, memsz: 0xF00),
            .load(flags: RX, vaddr: 0x1100, memsz: 0x100),
        ]
        b.syscalls = [site(0x1180, 20)]
        let load = try #require(interpLoad(b.build(), .amd64, pos: Self.pos))
        #expect(load.region == PinRegion(start: Self.pos + 0x1000, end: Self.pos + 0x1200, pins: Self.pins(count: 87, [20: 0x180, 86: 0xFFFF_FFFF])))
    }

    @Test("R-PT-12: a later PT_LOAD one byte below the first is at p_vaddr − first = all ones, ELF_NO_ADDR: it is loaded at its own p_vaddr")
    func ldsoNoAddr() throws {
        func region(_ vaddr: UInt64) -> PinRegion? {
            var b = ElfBuilder(arch: .amd64, type: .dyn, entry: 0x2000)
            b.openBSDNote = false
            b.segments = [.load(flags: R, vaddr: 0x2000, memsz: 0x100), .load(flags: RX, vaddr: vaddr, memsz: 0x100, align: 1)]
            b.syscalls = [site(0x2000, 20)]
            return interpLoad(b.build(), .amd64, pos: Self.pos)?.region
        }
        // 0x1FFF − 0x2000 = all ones: text [0x1FFF, 0x20FF), the pin at 0x2000 is offset 1.
        #expect(region(0x1FFF) == PinRegion(start: Self.pos + 0x1FFF, end: Self.pos + 0x20FF, pins: Self.pins(count: 87, [20: 1, 86: 0xFFFF_FFFF])))
        // Two bytes below is an ordinary relative address (2^64 − 2): the text wraps to [2^64 − 2, 0xFE)
        // and the site at 0x2000 lies past len 0xFE (R-PT-4).
        #expect(region(0x1FFE) == nil)
    }

    @Test(
        "R-PT-12 quirk: an executable first PT_LOAD makes text_start absolute; R-PT-9 then moves the region by its low 32 bits",
        arguments: [
            (pos: 0x10_0000, start: 0x20_0000, end: 0x20_2000),
            // Above 4 GiB the delta is still the low 32 bits of pos (0x100000), the length pos + 0x2000 − delta.
            (pos: 0x7f00_0010_0000, start: 0x7f00_0020_0000, end: 0xfe00_0020_2000),
        ] as [(pos: UInt64, start: UInt64, end: UInt64)])
    func ldsoExecutableFirstLoad(_ c: (pos: UInt64, start: UInt64, end: UInt64)) throws {
        var b = ElfBuilder(arch: .amd64, type: .dyn, entry: 0)
        b.openBSDNote = false
        b.segments = [.load(flags: RX, vaddr: 0, memsz: 0x2000), .load(flags: RW, vaddr: 0x3000, memsz: 0x1000)]
        b.syscalls = [site(0x10, 1)]
        // text_start = pos, text_end = pos + 0x2000; region [pos + text_start, pos + text_end), moved by the u_int delta.
        let load = try #require(interpLoad(b.build(), .amd64, pos: c.pos))
        #expect(load.region == PinRegion(start: c.start, end: c.end, pins: Self.pins(count: 87, [1: 0xFFF0_0010, 86: 0xFFFF_FFFF])))
    }

    // MARK: R-PT-13, R-PT-15, R-PT-16

    @Test("R-PT-13: a dynamic program's ps_pin is ld.so's, never its own")
    func dynamicUsesLdsoTable() throws {
        let prog = ElfBuilder.dynamicExec(arch: .amd64, sites: [site(0x1010, 20)]).build()
        let ld = ElfBuilder.ldso(arch: .amd64, sites: [site(0x1040, 20)]).build()
        let (outcome, state) = ProcessModel.exec(program: prog, base: dynBase, interpreter: ld, interpreterBase: Self.pos, arch: .amd64)
        #expect(outcome.verdict == .ok)
        var s = try #require(state)
        #expect(s.main == PinRegion(start: Self.pos + 0x1000, end: Self.pos + 0x3000, pins: Self.pins(count: 87, [20: 0x40, 86: 0xFFFF_FFFF])))
        var t = s
        #expect(s.syscall(addr: Self.pos + 0x1040, sysno: 20, .plain).verdict == .ok)
        #expect(t.syscall(addr: dynBase + 0x1010, sysno: 20, .plain).verdict == .killed(.SIGABRT, .ENOSYS, "R-PC-7"))
    }

    @Test("R-PT-15/16: state after exec commit, per kind of program")
    func execCommitState() throws {
        let ld = ElfBuilder.ldso(arch: .amd64, sites: [site(0x1010, 1)]).build()
        let bogo = Kbind.bogoPC(.amd64)
        let cases: [(String, [UInt8], [UInt8]?, UInt64, Bool)] = [
            ("static ET_EXEC", ElfBuilder.staticExec(arch: .amd64, sites: [site(0x40_0010, 1)]).build(), nil, 0, true),
            ("static PIE", ElfBuilder.staticPIE(arch: .amd64, sites: [site(0x1010, 1)]).build(), nil, bogo, true),
            ("dynamic PIE", ElfBuilder.dynamicExec(arch: .amd64).build(), ld, 0, false),
            ("dynamic ET_EXEC", ElfBuilder.dynamicExec(arch: .amd64, pie: false).build(), ld, 0, false),
        ]
        for (name, prog, interp, kbindPC, once) in cases {
            let (outcome, state) = ProcessModel.exec(program: prog, base: dynBase, interpreter: interp, interpreterBase: Self.pos, arch: .amd64)
            #expect(outcome.verdict == .ok, "\(name)")
            let s = try #require(state)
            #expect(s.libc == nil, "\(name)")
            #expect(s.kbind == KbindState(pc: kbindPC, cookie: 0), "\(name)")
            #expect(s.pinsyscallsUsed == once, "\(name)")
            #expect(s.main != nil, "\(name)")
        }
    }
}
