import Foundation
import Testing

/// `syspin surface` and `syspin run --policy … / --compare-policies` through the built binary.
extension CLITests {
    /// Every linker-made seed of the manifest, with its arch and kind.
    func linkerSeeds() throws -> [(path: String, arch: String, kind: String, entries: [[Int]])] {
        let data = try Data(contentsOf: Repo.url("Corpus/manifests/linker-seeds.json"))
        let manifest = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        return manifest.compactMap { m in
            guard let sha = m["sha1"] as? String, let arch = m["arch"] as? String, let kind = m["kind"] as? String,
                let entries = m["entries"] as? [[Int]]
            else { return nil }
            return (Repo.url("Corpus/FuzzELF/seeds/\(sha)").path, arch, kind, entries)
        }
    }

    @Test("surface --json on every linker-made seed: per policy pairs; openbsd's recorded sites are gadgets that accept their numbers")
    func surfaceOnLinkerSeeds() throws {
        let policies = ["openbsd", "strict", "msyscall", "libsys"]
        for seed in try linkerSeeds() {
            let r = try syspin(["surface", "--json", seed.path])
            #expect(r.status == 0, "\(seed.path): \(r.stderr)")
            let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            #expect(obj["arch"] as? String == seed.arch)
            let p = try #require(obj["policies"] as? [String: [String: Any]])
            #expect(Set(p.keys) == Set(policies))
            let exec = try #require(obj["exec"] as? [String: Any])
            guard exec["result"] as? String == "ok" else {
                // A shared object run as a program: whatever exec says, nothing is reachable.
                #expect(seed.kind == "shared", "\(seed.path): \(exec)")
                for name in policies { #expect(p[name]?["pairs"] as? Int == 0) }
                continue
            }
            let pairs = policies.map { p[$0]?["pairs"] as? Int ?? -1 }
            // strict ≤ openbsd ≤ msyscall; a static program's own text is no libsys text.
            #expect(pairs[1] <= pairs[0] && pairs[0] <= pairs[2], "\(seed.path): \(pairs)")
            #expect(pairs[3] == 0)
            // Every recorded site holds a trap the scanner found, and strict accepts exactly those.
            let gadgets = try #require(obj["executable"] as? [[String: Any]]).flatMap { $0["gadgets"] as? [String] ?? [] }
            #expect(gadgets.count >= Set(seed.entries.map { $0[0] }).count, "\(seed.path)")
            #expect(pairs[1] == Set(seed.entries.map { "\($0[0])/\($0[1])" }).count, "\(seed.path): strict pairs")
            let text = try syspin(["surface", seed.path])
            #expect(text.status == 0 && text.stdout.contains("usable (system call, gadget) pairs: openbsd \(pairs[0]), strict \(pairs[1])"))
        }
    }

    @Test("surface: the amd64 static seed's multi-site exit is reachable from every gadget under openbsd, from its two sites under strict")
    func surfaceAmd64Static() throws {
        let (path, _) = try amd64Static()
        let r = try syspin(["surface", "--json", path])
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let p = try #require(obj["policies"] as? [String: [String: Any]])
        let open = try #require((p["openbsd"]?["syscalls"] as? [String: [String: Any]])?["1"])
        let strict = try #require((p["strict"]?["syscalls"] as? [String: [String: Any]])?["1"])
        #expect(open["gadgets"] as? Int == 6 && (open["spans"] as? [[String]])?.count == 1)
        #expect(strict["gadgets"] as? Int == 2 && (strict["sites"] as? [String]) == ["0x2011b9", "0x2011fd"])
        #expect(p["msyscall"]?["pairs"] as? Int == 330 * 6)
    }

    @Test("surface: a missing file is one line naming it, exit 2")
    func surfaceMissingFile() throws {
        let r = try syspin(["surface", "/nonexistent/prog"])
        #expect(r.status == 2)
        #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("/nonexistent/prog"))
        let (path, _) = try amd64Static()
        let l = try syspin(["surface", "--libsys", "/nonexistent/libsys.so", path])
        #expect(l.status == 2 && l.stderr.contains("/nonexistent/libsys.so"))
    }

    @Test("run --compare-policies on every shipped scenario: one row per event, a policies object per JSON line")
    func comparePolicies() throws {
        let scenarios = Repo.files(in: "Corpus/FuzzScenario/scenarios").filter { $0.pathExtension == "json" }
        #expect(!scenarios.isEmpty)
        for s in scenarios {
            let plain = try syspin(["run", "--json", s.path])
            let r = try syspin(["run", "--compare-policies", "--json", s.path])
            #expect(r.status == 0, "\(s.lastPathComponent): \(r.stderr)")
            let lines = r.stdout.split(separator: "\n")
            #expect(lines.count == plain.stdout.split(separator: "\n").count, "\(s.lastPathComponent)")
            for (line, single) in zip(lines, plain.stdout.split(separator: "\n")) {
                let obj = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                let one = try #require(try JSONSerialization.jsonObject(with: Data(single.utf8)) as? [String: Any])
                let p = try #require(obj["policies"] as? [String: Any])
                #expect(Set(p.keys) == ["openbsd", "strict", "msyscall", "libsys"])
                // The openbsd column is `run`'s own output.
                let o = try #require(p["openbsd"] as? [String: Any])
                #expect(o["result"] as? String == one["result"] as? String && "\(o["rule"] ?? "")" == "\(one["rule"] ?? "")")
            }
            let text = try syspin(["run", "--compare-policies", s.path])
            #expect(text.status == 0 && text.stdout.hasPrefix("event") && text.stdout.contains("libsys"))
        }
    }

    @Test("run --policy msyscall / libsys: a scenario's libsys image is trusted under libsys only")
    func runRegionPolicies() throws {
        let (path, _) = try amd64Static()
        let shared = try #require(try linkerSeeds().first { $0.arch == "amd64" && $0.kind == "shared" }).path
        // Step 0 from the static program's text, step 1 from libsys's text ([0x60001000, 0x600014e4)).
        let scenario = """
            {"arch": "amd64", "program": {"path": "\(path)"},
             "libsys": {"path": "\(shared)", "base": "0x60000000"},
             "steps": [{"sysno": 5, "addr": "0x201100"}, {"sysno": 5, "addr": "0x60001454"}]}
            """
        let file = try tempFile("s.json", Array(scenario.utf8))
        func lines(_ policy: String) throws -> [String] {
            try syspin(["run", "--json", "--policy", policy, file]).stdout.split(separator: "\n").map(String.init)
        }
        let m = try lines("msyscall")
        #expect(m.count == 3 && m[1].contains(#""result": "ok""#) && m[2].contains(#""result": "EPERM", "signal": "SIGSEGV", "rule": "D-MSYSCALL""#), "\(m)")
        let l = try lines("libsys")
        #expect(l.count == 3 && l[1].contains(#""result": "ENOSYS", "signal": "SIGABRT", "rule": "D-LIBSYS""#) && l[2].contains(#""result": "dead""#), "\(l)")
        let o = try lines("openbsd")
        #expect(o.count == 3 && o[1].contains(#""rule": "R-PC-7""#), "\(o)")
        // libsys given as something that is no ET_DYN: a scenario error, exit 2.
        let bad = try tempFile("b.json", Array(scenario.replacingOccurrences(of: shared, with: path).utf8))
        let r = try syspin(["run", "--policy", "libsys", bad])
        #expect(r.status == 2 && r.stderr.contains("libsys is not a readable amd64 ET_DYN image"))
    }
}
