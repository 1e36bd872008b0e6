import Foundation
import SysPinCore
import Testing

/// The real-linker seed images (ci/make-seeds: clang + ld.lld for every arch, as static ET_EXEC,
/// static PIE and shared object) against their manifest, Corpus/manifests/linker-seeds.json. The
/// manifest's `entries` come from the linker's symbol table (one {offset, sysno} record per trap
/// label), so they are ground truth for what the PT_OPENBSD_SYSCALLS segment holds.
struct LinkerSeed: Decodable, Sendable, CustomTestStringConvertible {
    var sha1: String
    var arch: String
    var kind: String
    var elfClass: Int
    var endian: String
    var type: String
    var entries: [[UInt32]]

    enum CodingKeys: String, CodingKey {
        case sha1, arch, kind, endian, type, entries
        case elfClass = "class"
    }

    var testDescription: String { "\(arch) \(kind) (\(sha1.prefix(8)))" }
    var isStatic: Bool { kind == "static" || kind == "static-pie" }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let manifest = root.appendingPathComponent("Corpus/manifests/linker-seeds.json")

    static let all: [LinkerSeed] = {
        guard let data = try? Data(contentsOf: manifest) else { return [] }
        return (try? JSONDecoder().decode([LinkerSeed].self, from: data)) ?? []
    }()

    func bytes() throws -> [UInt8] {
        [UInt8](try Data(contentsOf: Self.root.appendingPathComponent("Corpus/FuzzELF/seeds/\(sha1)")))
    }
}

/// What a pin slot allows, as `syspin inspect` reports it (CONTRACT: address or "multi").
private enum Allowed: Equatable, CustomStringConvertible {
    case at(UInt64)
    case multi
    var description: String {
        switch self {
        case .at(let a): return "0x" + String(a, radix: 16)
        case .multi: return "multi"
        }
    }
}

/// A deliberately separate, minimal reader of the text PT_LOADs (type, flags, vaddr, memsz,
/// align), so the expected region does not come from the core's own ELF parser.
private struct TextSegment {
    var vaddr: UInt64
    var memsz: UInt64
    var align: UInt64

    static func read(_ b: [UInt8]) -> [TextSegment] {
        let is64 = b[4] == 2
        let big = b[5] == 2
        func u(_ off: Int, _ n: Int) -> UInt64 {
            var v: UInt64 = 0
            for i in 0..<n {
                let byte = UInt64(b[off + (big ? i : n - 1 - i)])
                v = v << 8 | byte
            }
            return v
        }
        let phoff = Int(is64 ? u(32, 8) : u(28, 4))
        let phnum = Int(is64 ? u(56, 2) : u(44, 2))
        var out: [TextSegment] = []
        for i in 0..<phnum {
            let p = phoff + i * (is64 ? 56 : 32)
            let type = u(p, 4)
            let flags = is64 ? u(p + 4, 4) : u(p + 24, 4)
            guard type == 1, flags & 2 == 0, flags & 1 != 0 else { continue }  // PT_LOAD, !W, X (R-ELF-17)
            if is64 {
                out.append(TextSegment(vaddr: u(p + 16, 8), memsz: u(p + 40, 8), align: u(p + 48, 8)))
            } else {
                out.append(TextSegment(vaddr: u(p + 8, 4), memsz: u(p + 20, 4), align: u(p + 28, 4)))
            }
        }
        return out
    }
}

@Suite("Linker-made seed images (Corpus/manifests/linker-seeds.json)")
struct LinkerSeedTests {
    @Test("the manifest lists every arch in all three kinds")
    func manifestIsComplete() {
        #expect(!LinkerSeed.all.isEmpty, "cannot read \(LinkerSeed.manifest.path)")
        for arch in Arch.all.map(\.name) {
            let kinds = Set(LinkerSeed.all.filter { $0.arch == arch }.map(\.kind))
            #expect(kinds == ["static", "static-pie", "shared"], "\(arch): \(kinds.sorted())")
        }
    }

    @Test("inspect: verdict ok, header as the manifest says, entries exactly the linker's", arguments: LinkerSeed.all)
    func inspectMatchesManifest(_ seed: LinkerSeed) throws {
        let r = Inspector.inspect(try seed.bytes())
        #expect(r.verdict == .ok, "\(r.verdict) \(r.detail ?? "")")
        #expect(r.arch?.name == seed.arch)
        #expect(r.header?.elfClass.bits == seed.elfClass)
        #expect(r.header?.endian.name == seed.endian)
        #expect(r.header?.type.name == seed.type)
        let table = try #require(r.pintable, "no PT_OPENBSD_SYSCALLS segment")
        #expect(table.discardedBy == nil)
        #expect(!table.ignored)
        #expect(table.entries.map { [$0.offset, $0.sysno] } == seed.entries)
    }

    @Test("static images: pins follow R-PT-7 and R-PT-11 at load base 0", arguments: LinkerSeed.all.filter(\.isStatic))
    func staticPins(_ seed: LinkerSeed) throws {
        let bytes = try seed.bytes()
        let mask: UInt64 = seed.elfClass == 32 ? 0xFFFF_FFFF : .max

        // R-PT-11: the text span over text PT_LOADs in table order (first sets it; a lower one
        // moves the start and keeps the end; any other one sets the end).
        var t0: UInt64 = 0
        var t1: UInt64 = 0
        var first = true
        for s in TextSegment.read(bytes) {
            let addr = s.align > 1 ? s.vaddr & ~(s.align - 1) : s.vaddr
            let size = s.memsz + (s.vaddr - addr)
            if first {
                (t0, t1, first) = (addr, (addr + size) & mask, false)
            } else if addr < t0 {
                t0 = addr
            } else {
                t1 = (addr + size) & mask
            }
        }
        #expect(!first, "no text segment")

        // R-PT-4: every offset must be within len = T1 (base 0), or the table would be discarded.
        for e in seed.entries { #expect(UInt64(e[0]) <= t1, "entry \(e) past the text end") }

        // R-PT-7: duplicates (a slot already non-zero) become the marker; offset 0 leaves 0.
        var raw: [UInt32: UInt32] = [:]
        for e in seed.entries {
            let (offset, sysno) = (e[0], e[1])
            raw[sysno] = (raw[sysno] ?? 0) != 0 ? 0xFFFF_FFFF : offset
        }
        // R-PT-9: rebase by delta = T0; the allowed address is T0 + the stored value.
        var expected: [UInt32: Allowed] = [:]
        for (sysno, v) in raw where v != 0 {
            if v == 0xFFFF_FFFF {
                expected[sysno] = .multi
                continue
            }
            let stored = v &- UInt32(truncatingIfNeeded: t0)
            switch stored {
            case 0: continue
            case 0xFFFF_FFFF: expected[sysno] = .multi
            default: expected[sysno] = .at((t0 + UInt64(stored)) & mask)
            }
        }

        let table = try #require(Inspector.inspect(bytes).pintable)
        let pins = try #require(table.pins, "table discarded: \(table.discardedBy?.rawValue ?? "?")")
        var got: [UInt32: Allowed] = [:]
        for p in pins { got[p.sysno] = p.address.map(Allowed.at) ?? .multi }
        #expect(got == expected)
        #expect(table.start == t0)
        #expect(table.end == t1)
        // The linker seeds all call exit twice (two stubs), so their exit slot is the marker.
        #expect(got[1] == .multi || seed.entries.filter { $0[1] == 1 }.count < 2)
    }

    @Test("shared images read as ld.so: kbind is the wildcard (R-PT-8)", arguments: LinkerSeed.all.filter { $0.kind == "shared" })
    func sharedAsInterpreter(_ seed: LinkerSeed) throws {
        let r = Inspector.inspect(try seed.bytes(), asInterpreter: true)
        #expect(r.verdict == .ok, "\(r.verdict) \(r.detail ?? "")")
        let pins = try #require(r.pintable?.pins)
        let kbind = try #require(pins.first { $0.sysno == 86 }, "no kbind slot")
        #expect(kbind.address == nil)
    }
}
