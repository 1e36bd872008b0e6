import Foundation
import SysPinCore
import SysPinFuzzing
import Testing

/// Every fuzz input that once broke an invariant (Corpus/<target>/regressions/), every hand- or
/// linker-made seed (Corpus/<target>/seeds/) and every input of the merged corpus (Corpus/<target>/)
/// replays through the same entry function libFuzzer calls, in the plain
/// build, so a fixed crash stays fixed without sanitizers (swift-protobuf's FailCases).
@Suite("Fuzz regressions and seeds replay")
struct FuzzRegressionReplayTests {
    static let inputs: [(target: String, file: URL)] = FuzzTargets.all.flatMap { t in
        (Repo.files(in: "Corpus/\(t.name)/regressions") + Repo.files(in: "Corpus/\(t.name)/seeds")
            + Repo.files(in: "Corpus/\(t.name)")).map { (t.name, $0) }
    }

    @Test("FuzzTargets.all is Fuzzers/targets.txt, in order, and each has Fuzzers/Sources/<target>")
    func targetsMatchTheList() throws {
        let text = try String(contentsOf: Repo.url("Fuzzers/targets.txt"), encoding: .utf8)
        let listed = text.split(separator: "\n").map { $0.split(separator: "#", omittingEmptySubsequences: false)[0] }
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        #expect(listed == FuzzTargets.all.map(\.name))
        for t in listed {
            #expect(FileManager.default.fileExists(atPath: Repo.url("Fuzzers/Sources/\(t)").path), "no Fuzzers/Sources/\(t)")
        }
    }

    @Test("scenarios load images only from seeds/ or regressions/, which no corpus merge or prune touches")
    func scenariosNameStableImages() throws {
        for f in Repo.files(in: "Corpus/FuzzScenario/scenarios") where f.pathExtension == "json" {
            let text = try String(contentsOf: f, encoding: .utf8)
            for t in FuzzTargets.all.map(\.name) {
                for part in text.components(separatedBy: "\(t)/").dropFirst() {
                    #expect(part.hasPrefix("seeds/") || part.hasPrefix("regressions/"),
                        "\(f.lastPathComponent) loads \(t)/\(part.prefix(40)) from the merged corpus")
                }
            }
        }
    }

    @Test("every registered target has seeds", arguments: FuzzTargets.all.map(\.name))
    func targetHasSeeds(_ target: String) {
        #expect(!Repo.files(in: "Corpus/\(target)/seeds").isEmpty, "Corpus/\(target)/seeds has no seed inputs")
    }

    @Test("replay", arguments: inputs.map { "\($0.target)/\($0.file.lastPathComponent)" })
    func replay(_ name: String) throws {
        let input = try #require(Self.inputs.first { "\($0.target)/\($0.file.lastPathComponent)" == name })
        let entry = try #require(FuzzTargets.entry(named: input.target))
        let bytes = [UInt8](try Data(contentsOf: input.file))
        do {
            try entry(bytes)
        } catch {
            Issue.record("\(input.file.path): \(error.id): \(error.message)")
        }
    }

    #if LibElf
        static let libElfBuilt = true
    #else
        static let libElfBuilt = false
    #endif

    @Test(
        "libelf reads the same program headers as the core from every linker-made seed",
        .enabled(
            if: libElfBuilt,
            "skipped: built without the LibElf trait (needs libelf-dev; `swift test --traits LibElf` runs it, and ci/fuzz-smoke replays Corpus/FuzzELF through the libelf-linked FuzzELF)"
        ))
    func libElfAgreesOnSeeds() throws {
        #if LibElf
            #expect(!LinkerSeed.all.isEmpty)
            for seed in LinkerSeed.all {
                let bytes = try seed.bytes()
                guard case .success(let arch) = ExecRules.inferArch(bytes),
                    case .success(let image) = ExecRules.readImage(bytes, arch: arch, loader: .main)
                else {
                    Issue.record("\(seed.sha1): not a readable image")
                    continue
                }
                #expect(LibElf.programHeaders(bytes) == image.phdrs, "\(seed.sha1)")
            }
        #endif
    }

    @Test("corpus files are named by the SHA-1 of their content (CONTRACT.md)")
    func namedBySHA1() throws {
        #expect(SHA1.hex(Array("abc".utf8)) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        for t in FuzzTargets.all {
            for f in Repo.files(in: "Corpus/\(t.name)") + Repo.files(in: "Corpus/\(t.name)/seeds")
                + Repo.files(in: "Corpus/\(t.name)/regressions")
            {
                let bytes = [UInt8](try Data(contentsOf: f))
                #expect(f.lastPathComponent == SHA1.hex(bytes), "\(f.path) is not named by the SHA-1 of its content")
            }
        }
    }
}
