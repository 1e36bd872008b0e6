import SysPinCore
import SysPinTesting
import Testing

/// R-KB-1..14: kbind(2) binding, parameter validation and the update phase (SPEC §8).
@Suite("R-KB-1..14 kbind")
struct KbindRulesTests {
    /// One LP64 little-endian, one LP64 big-endian, one ILP32 of each byte order, and the
    /// 8K- and 16K-page arches.
    static let arches: [Arch] = [.amd64, .sparc64, .i386, .powerpc, .mips64]

    static let addr: UInt64 = 0x2000_1000  // the trap instruction kbind is called from
    static let cookie: UInt64 = 0x1234_5678_9abc_def0
    static let page0: UInt64 = 0x60_0000  // aligned to 16K

    /// Writable pages [page0, page0 + 4 pages).
    static func mappings(_ arch: Arch) -> [MemoryMapping] {
        [MemoryMapping(start: page0, end: page0 + 4 * arch.pageSize, writable: true)]
    }

    static func data(_ n: Int, from: UInt8 = 1) -> [UInt8] { (0..<n).map { from &+ UInt8($0) } }

    static func param(_ blocks: [(addr: UInt64, data: [UInt8])], _ arch: Arch) -> [UInt8] {
        KbindParamBuilder.encode(blocks, arch: arch)
    }

    /// A kbind call from `addr` with `cookie` against the given state.
    static func call(
        _ state: inout KbindState, _ param: [UInt8]?, psize: Int? = nil, arch: Arch, addr: UInt64 = addr,
        cookie: UInt64 = cookie, mappings: [MemoryMapping]? = nil
    ) -> (Verdict, [KbindWrite]) {
        Kbind.call(
            state: &state, addr: addr, param: param, psize: UInt64(psize ?? param?.count ?? 0), cookie: cookie,
            mappings: mappings ?? Self.mappings(arch), arch: arch)
    }

    /// A state bound to `addr` with `cookie` (as after a first successful call).
    static func bound(_ arch: Arch) -> KbindState { KbindState(pc: addr + arch.trapDistance, cookie: cookie) }

    // MARK: encoding (§2.3, R-KB-9)

    @Test("R-KB-9: __kbind headers are {pointer addr, size_t size} in the arch's width and byte order")
    func paramEncoding() {
        let d: [UInt8] = [0xAA, 0xBB]
        #expect(Self.param([(0x60_0010, d)], .amd64) == [0x10, 0x00, 0x60, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0xAA, 0xBB])
        #expect(Self.param([(0x60_0010, d)], .sparc64) == [0, 0, 0, 0, 0, 0x60, 0x00, 0x10, 0, 0, 0, 0, 0, 0, 0, 2, 0xAA, 0xBB])
        #expect(Self.param([(0x60_0010, d)], .i386) == [0x10, 0x00, 0x60, 0x00, 2, 0, 0, 0, 0xAA, 0xBB])
        #expect(Self.param([(0x60_0010, d)], .powerpc) == [0x00, 0x60, 0x00, 0x10, 0, 0, 0, 2, 0xAA, 0xBB])
    }

    @Test("§2.3: sizeof(__kbind) and P_MAX per word size")
    func sizes() {
        #expect(Arch.amd64.kbindHeaderSize == 16 && Arch.amd64.kbindParamMax == 56)
        #expect(Arch.i386.kbindHeaderSize == 8 && Arch.i386.kbindParamMax == 40)
        #expect(Arch.powerpc.kbindParamMax == 40 && Arch.sparc64.kbindParamMax == 56)
    }

    // MARK: accepting, R-KB-13

    @Test("R-KB-13: a valid one-block call writes the data and returns 0", arguments: arches)
    func oneBlock(arch: Arch) {
        var s = KbindState()
        let (v, w) = Self.call(&s, Self.param([(Self.page0 + 0x10, Self.data(8))], arch), arch: arch)
        #expect(v == .ok)
        #expect(w == [KbindWrite(address: Self.page0 + 0x10, bytes: Self.data(8))])
    }

    // MARK: R-KB-1

    @Test("R-KB-1: NULL on an unbound process disables kbind; again is a no-op", arguments: arches)
    func nullDisables(arch: Arch) {
        var s = KbindState()
        #expect(Self.call(&s, nil, arch: arch) == (.ok, []))
        #expect(s == KbindState(pc: Kbind.bogoPC(arch), cookie: 0))
        #expect(Self.call(&s, nil, arch: arch, addr: 0x9999_0000) == (.ok, []))
        #expect(s == KbindState(pc: Kbind.bogoPC(arch), cookie: 0))
    }

    @Test("R-KB-1: NULL after a real binding is SIGILL", arguments: arches)
    func nullAfterBinding(arch: Arch) {
        var s = Self.bound(arch)
        #expect(Self.call(&s, nil, arch: arch) == (.killed(.SIGILL, nil, "R-KB-1"), []))
        #expect(s == Self.bound(arch))
    }

    @Test("§2.3 / D-BOGO: BOGO_PC is all-ones in pointer width")
    func bogoValue() {
        #expect(Kbind.bogoPC(.amd64) == UInt64.max)
        #expect(Kbind.bogoPC(.i386) == 0xFFFF_FFFF)
    }

    // MARK: R-KB-2

    @Test("R-KB-2: the first non-NULL call binds pc (trap address + D) and cookie", arguments: arches)
    func firstCallBinds(arch: Arch) {
        var s = KbindState()
        _ = Self.call(&s, Self.param([(Self.page0, Self.data(4))], arch), arch: arch)
        #expect(s == Self.bound(arch))
    }

    @Test("R-KB-2: the binding is made before validation and survives a failing first call", arguments: arches)
    func bindingSurvivesFailure(arch: Arch) {
        var s = KbindState()
        #expect(Self.call(&s, [], psize: 0, arch: arch) == (.fail(.EINVAL, "R-KB-5"), []))
        #expect(s == Self.bound(arch))
        var other = s
        #expect(Self.call(&other, Self.param([(Self.page0, Self.data(4))], arch), arch: arch, addr: Self.addr + 4).0
            == .killed(.SIGILL, nil, "R-KB-3"))
        #expect(Self.call(&s, Self.param([(Self.page0, Self.data(4))], arch), arch: arch).0 == .ok)
    }

    // MARK: R-KB-3, R-KB-4

    @Test("R-KB-3/4: another pc or another cookie is SIGILL, with nothing written", arguments: arches)
    func mismatch(arch: Arch) {
        let p = Self.param([(Self.page0, Self.data(4))], arch)
        var s1 = Self.bound(arch)
        #expect(Self.call(&s1, p, arch: arch, addr: Self.addr + 0x10) == (.killed(.SIGILL, nil, "R-KB-3"), []))
        var s2 = Self.bound(arch)
        #expect(Self.call(&s2, p, arch: arch, cookie: Self.cookie ^ 1) == (.killed(.SIGILL, nil, "R-KB-3"), []))
        #expect(s1 == Self.bound(arch) && s2 == Self.bound(arch))
        var s3 = Self.bound(arch)
        #expect(Self.call(&s3, p, arch: arch) == (.ok, [KbindWrite(address: Self.page0, bytes: Self.data(4))]))
    }

    @Test("R-KB-3: once disabled, every non-NULL call is SIGILL — even from pc == BOGO_PC", arguments: arches)
    func disabled(arch: Arch) {
        let p = Self.param([(Self.page0, Self.data(4))], arch)
        var s = KbindState(pc: Kbind.bogoPC(arch), cookie: 0)
        #expect(Self.call(&s, p, arch: arch, cookie: 0) == (.killed(.SIGILL, nil, "R-KB-3"), []))
        // A trap address whose pc is all-ones matches the stored pc, and is still refused.
        let bogoAddr = (Kbind.bogoPC(arch) &- arch.trapDistance) & arch.addressMask
        #expect(Self.call(&s, p, arch: arch, addr: bogoAddr, cookie: 0) == (.killed(.SIGILL, nil, "R-KB-3"), []))
    }

    @Test("R-KB-4: a kill is checked before the parameters (an invalid buffer still gets SIGILL)")
    func killBeforeValidation() {
        var s = Self.bound(.amd64)
        #expect(Self.call(&s, [1, 2, 3], psize: 3, arch: .amd64, addr: 0x10) == (.killed(.SIGILL, nil, "R-KB-3"), []))
    }

    // MARK: R-KB-5

    @Test("R-KB-5: psize below sizeof(__kbind) or above P_MAX", arguments: arches)
    func psizeBounds(arch: Arch) {
        let h = arch.kbindHeaderSize
        let buf = [UInt8](repeating: 0, count: 100)
        for psize in [0, 1, h - 1, arch.kbindParamMax + 1, 100] {
            var s = Self.bound(arch)
            #expect(Self.call(&s, buf, psize: psize, arch: arch) == (.fail(.EINVAL, "R-KB-5"), []), "psize \(psize)")
        }
    }

    @Test("R-KB-5, R-ARCH-2: psize is a size_t: ILP32 kernels see its low 32 bits, LP64 ones all 64")
    func psizeWidth() {
        for arch in Self.arches {
            let p = Self.param([(Self.page0, Self.data(4))], arch)
            var s = Self.bound(arch)
            let got = Self.call(&s, p, psize: p.count | 1 << 32, arch: arch)
            if arch.pointerBytes == 4 {
                #expect(got == (.ok, [KbindWrite(address: Self.page0, bytes: Self.data(4))]), "\(arch.name)")
            } else {
                #expect(got == (.fail(.EINVAL, "R-KB-5"), []), "\(arch.name)")
            }
        }
    }

    @Test("R-KB-5/9: psize == P_MAX with two 12-byte blocks is valid", arguments: arches)
    func psizeMax(arch: Arch) {
        let p = Self.param([(Self.page0, Self.data(12)), (Self.page0 + 0x100, Self.data(12, from: 0x40))], arch)
        #expect(p.count == arch.kbindParamMax)
        var s = Self.bound(arch)
        #expect(Self.call(&s, p, arch: arch) == (.ok, [
            KbindWrite(address: Self.page0, bytes: Self.data(12)),
            KbindWrite(address: Self.page0 + 0x100, bytes: Self.data(12, from: 0x40)),
        ]))
    }

    // MARK: R-KB-6

    @Test("R-KB-6: a buffer shorter than psize faults (EFAULT); R-KB-5 comes first")
    func copyFault() {
        let p = Self.param([(Self.page0, Self.data(8))], .amd64)
        var s = Self.bound(.amd64)
        #expect(Self.call(&s, Array(p.dropLast()), psize: p.count, arch: .amd64) == (.fail(.EFAULT, "R-KB-6"), []))
        #expect(Self.call(&s, [], psize: 57, arch: .amd64) == (.fail(.EINVAL, "R-KB-5"), []))
    }

    // MARK: R-KB-7

    @Test("R-KB-7: header checks (addr 0, size 0, size > 24, s < size)", arguments: arches)
    func headerChecks(arch: Arch) {
        let enc = { (addr: UInt64, size: UInt64, data: Int) in
            KbindParamBuilder.encode(headers: [(addr, size)], data: Self.data(data), arch: arch)
        }
        let cases: [(String, [UInt8])] = [
            ("addr 0", enc(0, 8, 8)),
            ("size 0", enc(Self.page0, 0, 0) + Self.data(arch.kbindHeaderSize)),  // s > 0 left over, but size 0 first
            ("size 25", enc(Self.page0, 25, 25)),
            ("size 24 with 23 bytes of data", enc(Self.page0, 24, 23)),
        ]
        for (name, p) in cases {
            var s = Self.bound(arch)
            #expect(Self.call(&s, p, arch: arch) == (.fail(.EINVAL, "R-KB-7"), []), "\(name)")
        }
    }

    @Test("R-KB-7: the block must end below VM_MAXUSER_ADDRESS", arguments: arches)
    func userLimit(arch: Arch) {
        let top = arch.vmMaxUserAddress
        let map = [MemoryMapping(start: top - arch.pageSize, end: top, writable: true)]
        var s = Self.bound(arch)
        // Last byte at top − 1: valid and written.
        #expect(Self.call(&s, Self.param([(top - 8, Self.data(8))], arch), arch: arch, mappings: map)
            == (.ok, [KbindWrite(address: top - 8, bytes: Self.data(8))]))
        // Last byte at top, or start at top.
        #expect(Self.call(&s, Self.param([(top - 7, Self.data(8))], arch), arch: arch, mappings: map) == (.fail(.EINVAL, "R-KB-7"), []))
        #expect(Self.call(&s, Self.param([(top, Self.data(1))], arch), arch: arch, mappings: map) == (.fail(.EINVAL, "R-KB-7"), []))
        #expect(Self.call(&s, Self.param([(arch.addressMask, Self.data(1))], arch), arch: arch, mappings: map) == (.fail(.EINVAL, "R-KB-7"), []))
    }

    @Test("R-KB-7: bytes left after block 0 that cannot hold a header", arguments: arches)
    func truncatedSecondHeader(arch: Arch) {
        let p = Self.param([(Self.page0, Self.data(8))], arch) + [0, 0, 0, 0]
        var s = Self.bound(arch)
        #expect(Self.call(&s, p, arch: arch) == (.fail(.EINVAL, "R-KB-7"), []))
    }

    @Test("R-KB-7: block 1's header is checked too")
    func secondHeaderChecked() {
        let p = KbindParamBuilder.encode(headers: [(Self.page0, 4), (0, 4)], data: Self.data(8), arch: .amd64)
        var s = Self.bound(.amd64)
        #expect(Self.call(&s, p, arch: .amd64) == (.fail(.EINVAL, "R-KB-7"), []))
    }

    // MARK: R-KB-8

    @Test("R-KB-8: bytes left after two blocks", arguments: arches)
    func trailingBytes(arch: Arch) {
        let p = Self.param([(Self.page0, Self.data(4)), (Self.page0 + 8, Self.data(4))], arch) + Self.data(8)
        #expect(p.count <= arch.kbindParamMax)
        var s = Self.bound(arch)
        #expect(Self.call(&s, p, arch: arch) == (.fail(.EINVAL, "R-KB-8"), []))
    }

    // MARK: R-KB-9

    @Test("R-KB-9: accounting is by length only: one block's data may sit where a second header would")
    func lengthAccounting() {
        // amd64: header 16 bytes + 16 data bytes; a two-block reading would take bytes 16..<32 as
        // header #1, but header #0's size consumes them first.
        let d = Self.data(16)
        var s = Self.bound(.amd64)
        #expect(Self.call(&s, Self.param([(Self.page0 + 0x20, d)], .amd64), arch: .amd64)
            == (.ok, [KbindWrite(address: Self.page0 + 0x20, bytes: d)]))
    }

    @Test("R-KB-9: big-endian two-block buffers, written by hand")
    func bigEndianBuffers() {
        // powerpc (ILP32 BE): headers {0x600010, 2} {0x600020, 3}, then 2 + 3 data bytes.
        let ppc: [UInt8] = [0x00, 0x60, 0x00, 0x10, 0, 0, 0, 2, 0x00, 0x60, 0x00, 0x20, 0, 0, 0, 3, 0xA1, 0xA2, 0xB1, 0xB2, 0xB3]
        var s = Self.bound(.powerpc)
        #expect(Self.call(&s, ppc, arch: .powerpc) == (.ok, [
            KbindWrite(address: 0x60_0010, bytes: [0xA1, 0xA2]), KbindWrite(address: 0x60_0020, bytes: [0xB1, 0xB2, 0xB3]),
        ]))
        // sparc64 (LP64 BE).
        let sparc: [UInt8] =
            [0, 0, 0, 0, 0, 0x60, 0x00, 0x10, 0, 0, 0, 0, 0, 0, 0, 1]
            + [0, 0, 0, 0, 0, 0x60, 0x00, 0x30, 0, 0, 0, 0, 0, 0, 0, 2] + [0xC1, 0xD1, 0xD2]
        var t = Self.bound(.sparc64)
        #expect(Self.call(&t, sparc, arch: .sparc64) == (.ok, [
            KbindWrite(address: 0x60_0010, bytes: [0xC1]), KbindWrite(address: 0x60_0030, bytes: [0xD1, 0xD2]),
        ]))
    }

    // MARK: R-KB-10

    @Test("R-KB-10: overlapping blocks are both written, in order")
    func overlapping() {
        var s = Self.bound(.amd64)
        let p = Self.param([(Self.page0, Self.data(8)), (Self.page0 + 4, Self.data(8, from: 0x80))], .amd64)
        #expect(Self.call(&s, p, arch: .amd64) == (.ok, [
            KbindWrite(address: Self.page0, bytes: Self.data(8)),
            KbindWrite(address: Self.page0 + 4, bytes: Self.data(8, from: 0x80)),
        ]))
    }

    // MARK: R-KB-11

    @Test("R-KB-11: a block crossing a page boundary is written as two pieces", arguments: arches)
    func pageSplit(arch: Arch) {
        let boundary = Self.page0 + arch.pageSize
        let d = Self.data(8)
        var s = Self.bound(arch)
        #expect(Self.call(&s, Self.param([(boundary - 3, d)], arch), arch: arch) == (.ok, [
            KbindWrite(address: boundary - 3, bytes: Array(d[0..<3])), KbindWrite(address: boundary, bytes: Array(d[3...])),
        ]))
        // Ending exactly at the boundary, or starting on it: one piece.
        #expect(Self.call(&s, Self.param([(boundary - 8, d)], arch), arch: arch) == (.ok, [KbindWrite(address: boundary - 8, bytes: d)]))
        #expect(Self.call(&s, Self.param([(boundary, d)], arch), arch: arch) == (.ok, [KbindWrite(address: boundary, bytes: d)]))
    }

    // MARK: R-KB-12

    @Test("R-KB-12: a fault in block 1 keeps block 0 written (unmapped → EINVAL, D-KBIND-FAULT)", arguments: arches)
    func partialBlocks(arch: Arch) {
        var s = Self.bound(arch)
        let p = Self.param([(Self.page0 + 0x10, Self.data(4)), (0x70_0000, Self.data(4))], arch)
        #expect(Self.call(&s, p, arch: arch) == (.fail(.EINVAL, "R-KB-12"), [KbindWrite(address: Self.page0 + 0x10, bytes: Self.data(4))]))
    }

    @Test("R-KB-12: a read-only mapping faults with EFAULT (D-KBIND-FAULT)", arguments: arches)
    func readOnly(arch: Arch) {
        let ro = MemoryMapping(start: 0x70_0000, end: 0x70_0000 + arch.pageSize, writable: false)
        var s = Self.bound(arch)
        let p = Self.param([(Self.page0, Self.data(4)), (0x70_0000, Self.data(4))], arch)
        #expect(Self.call(&s, p, arch: arch, mappings: Self.mappings(arch) + [ro])
            == (.fail(.EFAULT, "R-KB-12"), [KbindWrite(address: Self.page0, bytes: Self.data(4))]))
        // Block 0 itself read-only: nothing written.
        let first = Self.param([(0x70_0000, Self.data(4))], arch)
        #expect(Self.call(&s, first, arch: arch, mappings: [ro]) == (.fail(.EFAULT, "R-KB-12"), []))
    }

    @Test("R-KB-12: a fault on the second page of a split block keeps the first piece", arguments: arches)
    func partialPiece(arch: Arch) {
        let boundary = Self.page0 + arch.pageSize
        let onePage = [MemoryMapping(start: Self.page0, end: boundary, writable: true)]
        let d = Self.data(8)
        var s = Self.bound(arch)
        #expect(Self.call(&s, Self.param([(boundary - 2, d)], arch), arch: arch, mappings: onePage)
            == (.fail(.EINVAL, "R-KB-12"), [KbindWrite(address: boundary - 2, bytes: Array(d[0..<2]))]))
        let roNext = onePage + [MemoryMapping(start: boundary, end: boundary + arch.pageSize, writable: false)]
        #expect(Self.call(&s, Self.param([(boundary - 2, d)], arch), arch: arch, mappings: roNext)
            == (.fail(.EFAULT, "R-KB-12"), [KbindWrite(address: boundary - 2, bytes: Array(d[0..<2]))]))
    }

    @Test("R-KB-12, D-KBIND-MIN: a page below VM_MIN_ADDRESS is EINVAL even where a mapping covers it", arguments: arches)
    func belowMinAddress(arch: Arch) {
        let min = arch.vmMinAddress
        let low = [MemoryMapping(start: 0, end: min + arch.pageSize, writable: true)]
        let d = Self.data(8)
        var s = Self.bound(arch)
        #expect(Self.call(&s, Self.param([(0x10, d)], arch), arch: arch, mappings: low) == (.fail(.EINVAL, "R-KB-12"), []))
        #expect(Self.call(&s, Self.param([(min - 4, d)], arch), arch: arch, mappings: low) == (.fail(.EINVAL, "R-KB-12"), []))
        // The first page at VM_MIN_ADDRESS is the map's own; a fault after it keeps it written.
        #expect(Self.call(&s, Self.param([(min, d)], arch), arch: arch, mappings: low) == (.ok, [KbindWrite(address: min, bytes: d)]))
        #expect(Self.call(&s, Self.param([(min + 0x10, d), (0x10, d)], arch), arch: arch, mappings: low)
            == (.fail(.EINVAL, "R-KB-12"), [KbindWrite(address: min + 0x10, bytes: d)]))
    }

    @Test("R-KB-12, D-KBIND-HOLE: a page in sparc64's MMU hole is EINVAL even where a mapping covers it")
    func sparc64Hole() {
        let arch = Arch.sparc64
        let (first, end): (UInt64, UInt64) = (0x400_0000_0000, 0xffff_fc00_0000_0000)
        let around = [
            MemoryMapping(start: first - arch.pageSize, end: first + arch.pageSize, writable: true),
            MemoryMapping(start: end - arch.pageSize, end: end, writable: false),
            MemoryMapping(start: end, end: end + arch.pageSize, writable: true),
        ]
        let d = Self.data(8)
        var s = Self.bound(arch)
        #expect(Self.call(&s, Self.param([(first - 8, d)], arch), arch: arch, mappings: around) == (.ok, [KbindWrite(address: first - 8, bytes: d)]))
        #expect(Self.call(&s, Self.param([(first, d)], arch), arch: arch, mappings: around) == (.fail(.EINVAL, "R-KB-12"), []))
        // The piece before the hole is written; the one on it fails.
        #expect(Self.call(&s, Self.param([(first - 4, d)], arch), arch: arch, mappings: around)
            == (.fail(.EINVAL, "R-KB-12"), [KbindWrite(address: first - 4, bytes: Array(d[0..<4]))]))
        // A read-only mapping on the hole's last page: the hole decides (EINVAL, not EFAULT).
        #expect(Self.call(&s, Self.param([(end - 8, d)], arch), arch: arch, mappings: around) == (.fail(.EINVAL, "R-KB-12"), []))
        #expect(Self.call(&s, Self.param([(end, d)], arch), arch: arch, mappings: around) == (.ok, [KbindWrite(address: end, bytes: d)]))
        // No other arch has a hole: amd64 writes the hole's first address when it is mapped.
        var a = Self.bound(.amd64)
        let amd = [MemoryMapping(start: first - 0x1000, end: first + 0x1000, writable: true)]
        #expect(Self.call(&a, Self.param([(first, d)], .amd64), arch: .amd64, mappings: amd) == (.ok, [KbindWrite(address: first, bytes: d)]))
    }

    @Test("R-KB-12: validation errors write nothing even when the memory is fine (I-6)")
    func validationWritesNothing() {
        var s = Self.bound(.amd64)
        let p = Self.param([(Self.page0, Self.data(4)), (Self.page0 + 8, Self.data(4))], .amd64) + [0]
        #expect(Self.call(&s, p, arch: .amd64) == (.fail(.EINVAL, "R-KB-8"), []))
    }

    // MARK: R-KB-14

    static let pos: UInt64 = 0x7f00_0000_0000

    @Test("R-KB-14: a static PIE starts with kbind disabled")
    func staticPieDisabled() throws {
        let prog = ElfBuilder.staticPIE(arch: .amd64, sites: [site(0x1100, 86)]).build()
        let (_, state) = ProcessModel.exec(program: prog, base: dynBase, interpreter: nil, arch: .amd64, mappings: Self.mappings(.amd64))
        var s = try #require(state)
        #expect(s.kbind == KbindState(pc: Kbind.bogoPC(.amd64), cookie: 0))
        var t = s
        #expect(t.syscall(addr: dynBase + 0x1100, sysno: 86, .kbind(param: nil, psize: 0, cookie: 0)).verdict == .ok)
        let p = Self.param([(Self.page0, Self.data(4))], .amd64)
        #expect(s.syscall(addr: dynBase + 0x1100, sysno: 86, .kbind(param: p, psize: UInt64(p.count), cookie: 0)).verdict
            == .killed(.SIGILL, nil, "R-KB-3"))
        #expect(s.killedBy == .SIGILL)
    }

    @Test("R-KB-14: a static ET_EXEC keeps kbind unbound: its first call binds")
    func staticExecUnbound() throws {
        let prog = ElfBuilder.staticExec(arch: .amd64, sites: [site(0x40_0100, 86)]).build()
        let (_, state) = ProcessModel.exec(program: prog, interpreter: nil, arch: .amd64, mappings: Self.mappings(.amd64))
        var s = try #require(state)
        #expect(s.kbind == KbindState())
        let p = Self.param([(Self.page0, Self.data(4))], .amd64)
        let r = s.syscall(addr: 0x40_0100, sysno: 86, .kbind(param: p, psize: UInt64(p.count), cookie: 9))
        #expect(r == .decided(.ok, writes: [KbindWrite(address: Self.page0, bytes: Self.data(4))]))
        #expect(s.kbind == KbindState(pc: 0x40_0102, cookie: 9))
    }

    @Test("R-KB-14 with R-PT-8: in a dynamic process ld.so's kbind slot is a wildcard, but kbind binds one pc")
    func dynamicProcess() throws {
        let ld = ElfBuilder.ldso(arch: .amd64, sites: [site(0x1010, 1)]).build()
        let prog = ElfBuilder.dynamicExec(arch: .amd64).build()
        let (_, state) = ProcessModel.exec(
            program: prog, base: dynBase, interpreter: ld, interpreterBase: Self.pos, arch: .amd64, mappings: Self.mappings(.amd64))
        var s = try #require(state)
        #expect(s.kbind == KbindState())
        let p = Self.param([(Self.page0, Self.data(4))], .amd64)
        let req = SyscallRequest.kbind(param: p, psize: UInt64(p.count), cookie: 42)
        #expect(s.syscall(addr: Self.pos + 0x1ABC, sysno: 86, req).verdict == .ok)
        #expect(s.syscall(addr: Self.pos + 0x1ABC, sysno: 86, req).verdict == .ok)
        // Another ld.so address passes pin_check (wildcard) but not kbind's own check.
        #expect(s.syscall(addr: Self.pos + 0x1AC0, sysno: 86, req).verdict == .killed(.SIGILL, nil, "R-KB-3"))
    }
}
