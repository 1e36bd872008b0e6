import SysPinCore
@testable import SysPinFuzzing
import SysPinReference
import Testing

/// The kbind values read and compared in place (no copy per piece or block): `KbindWrite`'s
/// inline bytes, `RefWrite`'s slice, `RefKbind.validate`/`block` beside `RefKbind.parse`, and
/// FuzzKbind's call decoder writing into a reused buffer.
@Suite("kbind values in place")
struct KbindInPlaceTests {
    static func bytes(_ n: Int, from: UInt8 = 1) -> [UInt8] { (0..<n).map { from &+ UInt8($0) } }

    @Test("KbindWrite keeps up to 24 bytes inline: bytes, equality and hasBytes are by content")
    func kbindWriteInline() {
        for n in 0...Kbind.dataMax {
            let d = Self.bytes(n)
            let w = KbindWrite(address: 0x1000, bytes: d)
            #expect(w.bytes == d)
            #expect(w == KbindWrite(address: 0x1000, bytes: d))
            #expect(w.hasBytes(d[...]) && w.hasBytes(([0xEE] + d + [0xEE])[1..<(1 + n)]))
            #expect(!w.hasBytes((d + [0])[...]))
            if n > 0 {
                var other = d
                other[n - 1] ^= 0xFF
                #expect(w != KbindWrite(address: 0x1000, bytes: other) && !w.hasBytes(other[...]))
                #expect(w != KbindWrite(address: 0x1000, bytes: Array(d.dropLast())))
            }
            #expect(w != KbindWrite(address: 0x1001, bytes: d))
            var v = w
            v.address = 0x2000
            #expect(v.bytes == d && v != w)
        }
    }

    @Test("RefWrite compares bytes, wherever its slice lies in the buffer")
    func refWriteSlice() {
        let buf = Self.bytes(40)
        let piece = RefWrite(address: 0x2000, piece: buf[8..<16])
        #expect(piece == RefWrite(address: 0x2000, bytes: Array(buf[8..<16])))
        #expect(piece.bytes == Array(buf[8..<16]))
        #expect(piece != RefWrite(address: 0x2000, piece: buf[9..<17]))
        #expect(KbindWrite(address: 0x2000, bytes: Array(buf[8..<16])).hasBytes(piece.piece))
    }

    @Test("RefKbind.validate and block read what parse returns, and call writes the blocks' data", arguments: [Arch.amd64, .i386, .sparc64, .powerpc])
    func refValidateBlocks(_ arch: Arch) {
        let r = RefArch(arch)
        var g = FuzzEncodeTests.SplitMix(state: 7)
        let area = arch.vmMinAddress + 0x10_0000
        for _ in 0..<500 {
            var reader = FuzzReader((0..<40).map { _ in UInt8.random(in: 0...255, using: &g) })
            let (param, psize) = FuzzKbind.decodeParam(&reader, arch: arch, area: area)
            let parsed = RefKbind.parse(param, psize: psize, arch: r)
            switch (RefKbind.validate(param, psize: psize, arch: r), parsed) {
            case (.failure(let a), .failure(let b)): #expect(a == b)
            case (.success(let n), .success(let blocks)):
                #expect(n == blocks.count)
                for i in 0..<n {
                    let b = RefKbind.block(i, of: n, in: param, arch: r)
                    #expect(b.addr == blocks[i].addr && Array(param[b.data]) == blocks[i].data)
                }
                // Everything mapped and writable: the pieces are the blocks' data in order, up to
                // the first piece on sparc64's MMU hole, which no mapping can cover (D-KBIND-HOLE).
                var pc: UInt64 = 0, cookie: UInt64 = 0
                let maps = [RefMapping(start: 0, end: r.vmMaxUser, writable: true)]
                let (v, writes) = RefKbind.call(
                    pc: &pc, cookie: &cookie, trapAddr: 0x1000, param: param, psize: psize, cookie: 1, mappings: maps, arch: r)
                let data = blocks.flatMap(\.data)
                if blocks.contains(where: { !$0.data.isEmpty && $0.addr < r.holeEnd && $0.addr + UInt64($0.data.count) > r.holeFirst }) {
                    #expect(v == .fail(RefErrno.EINVAL, "R-KB-12"))
                    #expect(writes.flatMap(\.bytes).count < data.count && data.starts(with: writes.flatMap(\.bytes)))
                } else {
                    #expect(v == .ok)
                    #expect(writes.flatMap(\.bytes) == data)
                }
            default: Issue.record("validate and parse disagree on \(param) psize \(psize)")
            }
        }
    }

    @Test("FuzzKbind's call decoder gives the same call into a reused buffer as into a new one")
    func decodeCallReusedBuffer() {
        for b in FuzzEncodeTests.randomInputs(300, seed: 5) {
            var r1 = FuzzReader(b), r2 = FuzzReader(b)
            let h1 = FuzzKbind.decodeHeader(&r1)
            _ = FuzzKbind.decodeHeader(&r2)
            var reused: [UInt8] = Self.bytes(200)
            for _ in 0..<h1.ncalls {
                var fresh: [UInt8] = []
                let a = FuzzKbind.decodeCall(&r1, h1, into: &fresh)
                let c = FuzzKbind.decodeCall(&r2, h1, into: &reused)
                #expect(a.addr == c.addr && a.hasParam == c.hasParam && a.psize == c.psize && a.cookie == c.cookie)
                if a.hasParam { #expect(fresh == reused) }
            }
            #expect(r1.position == r2.position)
        }
    }
}
