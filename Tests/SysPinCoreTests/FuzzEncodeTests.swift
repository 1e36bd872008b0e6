import Foundation
@testable import SysPinFuzzing
import Testing

/// The encoders beside the structured targets' decoders (`<Target>+Encode.swift`): every seed
/// comes back from its bytes unchanged, so do inputs decoded from random bytes, and the shipped
/// Corpus/<target>/seeds hold every seed's file (`syspin seeds` writes them; nothing can drift).
@Suite("Fuzz encoders and seeds")
struct FuzzEncodeTests {
    /// A small deterministic generator (SplitMix64), so a failure names a reproducible case.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Random inputs: mostly small bytes (choices), sometimes any byte, up to 300 long.
    static func randomInputs(_ count: Int, seed: UInt64) -> [[UInt8]] {
        var g = SplitMix(state: seed)
        return (0..<count).map { _ in
            (0..<Int.random(in: 0...300, using: &g)).map { _ in
                Bool.random(using: &g) ? UInt8.random(in: 0...7, using: &g) : UInt8.random(in: 0...255, using: &g)
            }
        }
    }

    static func images() throws -> [FuzzPintable.LinkerImage] {
        let data = try Data(contentsOf: Repo.url("Corpus/manifests/linker-seeds.json"))
        let list = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        return try #require(FuzzPintable.LinkerImage.list(manifest: list))
    }

    @Test("FuzzPintable: decode(encode(seed)) == seed")
    func pintableSeeds() throws {
        for s in FuzzPintable.seeds(images: try Self.images()) {
            #expect(FuzzPintable.decode(FuzzPintable.encode(s.input)) == s.input, "\(s.name)")
        }
    }

    @Test("FuzzKbind: decode(encode(seed)) == seed")
    func kbindSeeds() {
        for s in FuzzKbind.seeds() {
            #expect(FuzzKbind.decode(FuzzKbind.encode(s.input)) == s.input, "\(s.name)")
        }
    }

    @Test("FuzzPinsyscalls: decode(encode(seed)) == seed")
    func pinsyscallsSeeds() {
        for s in FuzzPinsyscalls.seeds() {
            #expect(FuzzPinsyscalls.decode(FuzzPinsyscalls.encode(s.input)) == s.input, "\(s.name)")
        }
    }

    @Test("FuzzPinsyscalls: decode(encode(decode(b))) == decode(b) for random b")
    func pinsyscallsRandom() {
        for (i, b) in Self.randomInputs(400, seed: 3).enumerated() {
            let x = FuzzPinsyscalls.decode(b)
            #expect(FuzzPinsyscalls.decode(FuzzPinsyscalls.encode(x)) == x, "random input \(i): \(b)")
        }
    }

    @Test("FuzzScenario: decode(encode(seed)) == seed")
    func scenarioSeeds() {
        for s in FuzzScenario.seeds() {
            #expect(FuzzScenario.decode(FuzzScenario.encode(s.input)) == s.input, "\(s.name)")
        }
    }

    @Test("FuzzScenario: decode(encode(decode(b))) == decode(b) for random b")
    func scenarioRandom() {
        // Where the main program is cut shorter than its ELF header, its text and sites are gone
        // from the input and encode can only guess them (FuzzScenario+Encode.swift): a miss is
        // allowed there and nowhere else.
        for (i, b) in Self.randomInputs(300, seed: 4).enumerated() {
            let x = FuzzScenario.decode(b)
            guard FuzzScenario.decode(FuzzScenario.encode(x)) != x else { continue }
            var cut = false
            if case .brokenMain(_, let why) = x.kind { cut = why.hasPrefix("shorter than the ELF header") }
            #expect(cut, "random input \(i): \(b)")
        }
    }

    @Test("FuzzPintable: decode(encode(decode(b))) == decode(b) for random b")
    func pintableRandom() {
        for (i, b) in Self.randomInputs(400, seed: 1).enumerated() {
            let x = FuzzPintable.decode(b)
            #expect(FuzzPintable.decode(FuzzPintable.encode(x)) == x, "random input \(i): \(b)")
        }
    }

    @Test("FuzzKbind: decode(encode(decode(b))) == decode(b) for random b")
    func kbindRandom() {
        for (i, b) in Self.randomInputs(400, seed: 2).enumerated() {
            let x = FuzzKbind.decode(b)
            #expect(FuzzKbind.decode(FuzzKbind.encode(x)) == x, "random input \(i): \(b)")
        }
    }

    @Test("Every seed's file is in Corpus/<target>/seeds", arguments: FuzzSeeds.targets)
    func seedsShipped(_ target: String) throws {
        let seeds = try #require(FuzzSeeds.seeds(target: target, images: try Self.images()))
        #expect(!seeds.isEmpty)
        for s in seeds {
            let path = Repo.url("Corpus/\(target)/seeds/\(SHA1.hex(s.bytes))").path
            #expect(FileManager.default.fileExists(atPath: path), "\(target): '\(s.name)' is not in Corpus (run ci/make-seeds)")
        }
    }
}
