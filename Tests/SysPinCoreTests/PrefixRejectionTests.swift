import SysPinCore
import SysPinTesting
import Testing

/// Every proper prefix of a valid image is judged without trapping, and with the exact outcome
/// its length implies (swift-asn1's "reject every prefix" test, adapted: a prefix that still
/// holds the header and the program headers can be accepted with the pin table discarded).
@Suite("Proper prefixes of valid images")
struct PrefixRejectionTests {
    static let arches: [Arch] = [.amd64, .i386, .powerpc, .sparc64, .mips64el]
    static let sites = [site(0x40_0010, 1), site(0x40_0020, 20), site(0x40_0030, 1)]

    @Test("the builder's static layout: [ehdr][4 phdrs][note][pin table]")
    func staticLayoutByHand() throws {
        let l64 = ElfBuilder.staticExec(arch: .amd64, sites: Self.sites).assemble()
        #expect(l64.phdrTableEnd == 64 + 4 * 56)
        #expect(l64.payloadRange(of: .note) == 288..<312)
        #expect(l64.payloadRange(of: .openbsdSyscalls) == 312..<336)
        #expect(l64.bytes.count == 336)
        let l32 = ElfBuilder.staticExec(arch: .powerpc, sites: Self.sites).assemble()
        #expect(l32.phdrTableEnd == 52 + 4 * 32)
        #expect(l32.payloadRange(of: .note) == 180..<204)
        #expect(l32.payloadRange(of: .openbsdSyscalls) == 204..<228)
        #expect(l32.bytes.count == 228)
    }

    @Test("static ET_EXEC: header, phdrs, note, then pin table", arguments: arches)
    func staticPrefixes(arch: Arch) throws {
        let layout = ElfBuilder.staticExec(arch: arch, sites: Self.sites).assemble()
        let full = layout.bytes
        let note = try #require(layout.payloadRange(of: .note))
        let pins = try #require(layout.payloadRange(of: .openbsdSyscalls))
        #expect(pins.upperBound == full.count)
        #expect(mainPlan(full, arch)?.region != nil)

        for n in 0..<full.count {
            let prefix = Array(full.prefix(n))
            switch ExecLoaders.loadMain(prefix, arch: arch) {
            case .failure(let r):
                let expected: Verdict
                if n < arch.elfClass.ehdrSize {
                    expected = .fail(.ENOEXEC, "R-ELF-1")
                } else if n < layout.phdrTableEnd {
                    expected = .fail(.ENOEXEC, "R-ELF-7")
                } else if n < note.upperBound {
                    expected = .fail(.ENOEXEC, "R-ELF-12")  // the note segment's read is short
                } else {
                    Issue.record("prefix \(n) rejected: \(r)")
                    continue
                }
                #expect(r.verdict == expected, "prefix \(n)")
            case .success(let plan):
                #expect(n >= note.upperBound, "prefix \(n) accepted")
                // R-PT-3: the table is short; what could be read is reported, nothing installed.
                let whole = max(0, n - pins.lowerBound) / 8
                #expect(plan.pinTable == .discarded(rule: "R-PT-3", entries: Array(Self.sites.prefix(whole))), "prefix \(n)")
                #expect(plan.region == nil, "prefix \(n)")
            }
        }
    }

    @Test("dynamic PIE: header, phdrs, interpreter path, note", arguments: arches)
    func dynamicPrefixes(arch: Arch) throws {
        let layout = ElfBuilder.dynamicExec(arch: arch).assemble()
        let full = layout.bytes
        let interp = try #require(layout.payloadRange(of: .interp))
        let note = try #require(layout.payloadRange(of: .note))
        #expect(interp.upperBound <= note.lowerBound && note.upperBound == full.count)
        #expect(mainVerdict(full, arch, base: dynBase) == .ok)

        for n in 0..<full.count {
            let expected: Verdict
            if n < arch.elfClass.ehdrSize {
                expected = .fail(.ENOEXEC, "R-ELF-1")
            } else if n < layout.phdrTableEnd {
                expected = .fail(.ENOEXEC, "R-ELF-7")
            } else if n < interp.upperBound {
                expected = .fail(.ENOEXEC, "R-ELF-9")
            } else {
                expected = .fail(.ENOEXEC, "R-ELF-12")
            }
            #expect(mainVerdict(Array(full.prefix(n)), arch, base: dynBase) == expected, "prefix \(n)")
        }
    }

    @Test("ld.so: header and phdrs are required; a cut pin table is no error but leaves no table", arguments: arches)
    func ldsoPrefixes(arch: Arch) throws {
        let ldSites = [site(0x1010, 1), site(0x1020, 158)]
        let layout = ElfBuilder.ldso(arch: arch, sites: ldSites).assemble()
        let full = layout.bytes
        let pins = try #require(layout.payloadRange(of: .openbsdSyscalls))
        #expect(pins.upperBound == full.count)
        let program = ElfBuilder.dynamicExec(arch: arch).build()

        for n in 0..<full.count {
            let prefix = Array(full.prefix(n))
            let (outcome, state) = ProcessModel.exec(
                program: program, base: dynBase, interpreter: prefix, interpreterBase: 0x3000_0000, arch: arch)
            if n < arch.elfClass.ehdrSize {
                // SPEC R-ELF-25: a short interpreter header is reported under R-ELF-25.
                #expect(outcome.verdict == .killed(.SIGABRT, .ENOEXEC, "R-ELF-25"), "prefix \(n)")
            } else if n < layout.phdrTableEnd {
                #expect(outcome.verdict == .killed(.SIGABRT, .ENOEXEC, "R-ELF-7"), "prefix \(n)")
            } else {
                #expect(outcome.verdict == .ok, "prefix \(n)")
                #expect(state != nil && state?.main == nil, "prefix \(n)")
                let whole = max(0, n - pins.lowerBound) / 8
                #expect(outcome.interp?.pinTable == .discarded(rule: "R-PT-3", entries: Array(ldSites.prefix(whole))), "prefix \(n)")
            }
        }
    }
}
