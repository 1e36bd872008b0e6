import Foundation
import Testing

/// The built `syspin` binary: output shape (CONTRACT.md) and exit status.
@Suite("syspin CLI", .serialized)
struct CLITests {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    func syspin(_ args: [String]) throws -> Output {
        let exe = try #require(Repo.syspinBinary, "syspin binary not built next to the tests")
        let p = Process()
        p.executableURL = exe
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    func tempFile(_ name: String, _ bytes: [UInt8]) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("syspin-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    /// The linker-made amd64 static image and its manifest entries.
    func amd64Static() throws -> (path: String, entries: [[Int]]) {
        let data = try Data(contentsOf: Repo.url("Corpus/manifests/linker-seeds.json"))
        let manifest = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        let m = try #require(manifest.first { $0["arch"] as? String == "amd64" && $0["kind"] as? String == "static" })
        let sha = try #require(m["sha1"] as? String)
        let entries = try #require(m["entries"] as? [[Int]])
        return (Repo.url("Corpus/FuzzELF/seeds/\(sha)").path, entries)
    }

    @Test("--help explains both commands and exits 0")
    func help() throws {
        let r = try syspin(["--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("inspect") && r.stdout.contains("run"))
        let i = try syspin(["inspect", "--help"])
        #expect(i.status == 0 && i.stdout.contains("--json") && i.stdout.contains("--arch"))
    }

    @Test("inspect --json prints the CONTRACT object for a linker-made image")
    func inspectJSON() throws {
        let (path, entries) = try amd64Static()
        let r = try syspin(["inspect", "--json", path])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 1)
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(obj["file"] as? String == path)
        #expect(obj["verdict"] as? String == "ok")
        #expect(obj["rule"] is NSNull)
        #expect(obj["arch"] as? String == "amd64")
        #expect(obj["class"] as? Int == 64)
        #expect(obj["endian"] as? String == "little")
        #expect(obj["type"] as? String == "EXEC")
        let pt = try #require(obj["pintable"] as? [String: Any])
        #expect(pt["entries"] as? [[Int]] == entries)
        let pins = try #require(pt["pins"] as? [String: Any])
        // Each sysno that appears once is pinned at its absolute site (ET_EXEC, base 0);
        // a repeated one is "multi" (R-PT-7, R-PT-11).
        var counts: [Int: Int] = [:]
        for e in entries { counts[e[1], default: 0] += 1 }
        for e in entries {
            if counts[e[1]] == 1 {
                #expect(pins[String(e[1])] as? Int == e[0])
            } else {
                #expect(pins[String(e[1])] as? String == "multi")
            }
        }
        #expect(pins.count == counts.count)
    }

    @Test("inspect's report names syscalls and the verdict")
    func inspectText() throws {
        let (path, _) = try amd64Static()
        let r = try syspin(["inspect", path])
        #expect(r.status == 0)
        #expect(r.stdout.contains("\(path): ok"))
        #expect(r.stdout.contains("getpid(20)"))
        #expect(r.stdout.contains("OPENBSD_SYSCALLS"))
    }

    @Test("a truncated image is a verdict, not an error: ENOEXEC by R-ELF-1")
    func truncated() throws {
        let path = try tempFile("short.elf", [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0] + [UInt8](repeating: 0, count: 20))
        let r = try syspin(["inspect", "--json", "--arch", "amd64", path])
        #expect(r.status == 0)
        #expect(r.stdout.contains("\"verdict\": \"ENOEXEC\", \"rule\": \"R-ELF-1\""))
    }

    @Test("a missing file: exit 2 and one line naming it")
    func missingFile() throws {
        let r = try syspin(["inspect", "/nonexistent/prog.elf"])
        #expect(r.status == 2)
        #expect(r.stdout.isEmpty)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.contains("/nonexistent/prog.elf") == true)
    }

    @Test("an unknown --arch: exit 2 and one line")
    func badArch() throws {
        let (path, _) = try amd64Static()
        let r = try syspin(["inspect", "--arch", "vax", path])
        #expect(r.status == 2)
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(r.stderr.contains("vax"))
    }

    @Test("run: malformed JSON is exit 2 with one line naming the file")
    func badJSON() throws {
        let path = try tempFile("broken.json", Array("{\"arch\": \"amd64\", ".utf8))
        let r = try syspin(["run", "--json", path])
        #expect(r.status == 2)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(r.stderr.contains(path))
    }

    @Test("run: a scenario missing \"program\" is exit 2 naming the key")
    func missingKey() throws {
        let path = try tempFile("noprog.json", Array("{\"arch\": \"amd64\", \"steps\": []}".utf8))
        let r = try syspin(["run", path])
        #expect(r.status == 2)
        #expect(r.stderr.contains("program"))
        #expect(r.stderr.split(separator: "\n").count == 1)
    }

    @Test("run --json prints the exec line, then one line per step")
    func runJSON() throws {
        let (path, entries) = try amd64Static()
        // getpid's site is allowed; the same number one byte later is a pin violation; the
        // step after the kill is dead.
        let getpid = try #require(entries.first { $0[1] == 20 })
        let scenario = """
            {"arch": "amd64", "program": {"path": "\(path)"},
             "steps": [{"sysno": 20, "addr": \(getpid[0])},
                       {"sysno": 20, "addr": \(getpid[0] + 1)},
                       {"sysno": 20, "addr": \(getpid[0])}]}
            """
        let file = try tempFile("s.json", Array(scenario.utf8))
        let r = try syspin(["run", "--json", file])
        #expect(r.status == 0)
        #expect(r.stdout.split(separator: "\n").map(String.init) == [
            #"{"event": "exec", "result": "ok", "signal": null, "rule": null}"#,
            #"{"event": "syscall", "step": 0, "sysno": 20, "result": "ok", "signal": null, "rule": null}"#,
            #"{"event": "syscall", "step": 1, "sysno": 20, "result": "ENOSYS", "signal": "SIGABRT", "rule": "R-PT-10"}"#,
            #"{"event": "syscall", "step": 2, "sysno": 20, "result": "dead", "signal": null, "rule": null}"#,
        ])
    }

    @Test("decode shows a fuzz input's view; replay runs its invariants (exit 0 when they hold)")
    func decodeAndReplay() throws {
        let seed = try #require(Repo.files(in: "Corpus/FuzzPintable/seeds").first)
        let d = try syspin(["decode", "--target", "FuzzPintable", seed.path])
        #expect(d.status == 0)
        #expect(d.stdout.hasPrefix("FuzzPintable input: "))
        #expect(d.stdout.contains("result: "))
        let r = try syspin(["replay", "--target", "FuzzPintable", seed.path])
        #expect(r.status == 0)
        #expect(r.stdout.contains("all invariants hold"))
        let bad = try syspin(["replay", "--target", "FuzzNothing", seed.path])
        #expect(bad.status == 2)
        #expect(bad.stderr.split(separator: "\n").count == 1)
    }

    @Test("run --policy: the marker slot accepts any in-region site under openbsd, only recorded sites under strict")
    func policy() throws {
        let (path, entries) = try amd64Static()
        // exit(1) has two sites in this image, so its slot holds the marker (R-PT-7); an address
        // between the two sites is inside the region but is no recorded site.
        let exits = entries.filter { $0[1] == 1 }.map { $0[0] }
        try #require(exits.count == 2)
        let addr = exits.min()! + 1
        let scenario = """
            {"arch": "amd64", "program": {"path": "\(path)"}, "steps": [{"sysno": 1, "addr": \(addr)}]}
            """
        let file = try tempFile("policy.json", Array(scenario.utf8))
        let openbsd = try syspin(["run", "--json", file])
        #expect(openbsd.status == 0)
        #expect(openbsd.stdout.contains(#""step": 0, "sysno": 1, "result": "ok""#))
        let strict = try syspin(["run", "--json", "--policy", "strict", file])
        #expect(strict.status == 0)
        #expect(strict.stdout.contains(#""step": 0, "sysno": 1, "result": "ENOSYS", "signal": "SIGABRT", "rule": "D-STRICT""#))
        let bad = try syspin(["run", "--policy", "lenient", file])
        #expect(bad.status == 2)
    }
}
