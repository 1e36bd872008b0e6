import Foundation
import SysPinFuzzing
import Testing

/// INV-DETERMINISM, moved out of the per-exec path: every shipped input of every target, replayed
/// twice through the same entry function, must end the same way (no violation, or the same
/// invariant with the same message).
@Suite("Fuzz targets are deterministic")
struct FuzzDeterminismTests {
    static func outcome(_ entry: FuzzTargets.Entry, _ bytes: [UInt8]) -> String {
        do {
            try entry(bytes)
            return "ok"
        } catch {
            return error.description
        }
    }

    @Test("INV-DETERMINISM: the corpus replayed twice gives the same outcomes", arguments: FuzzTargets.all.map(\.name))
    func replayTwice(_ target: String) throws {
        let entry = try #require(FuzzTargets.entry(named: target))
        let files = Repo.files(in: "Corpus/\(target)/regressions") + Repo.files(in: "Corpus/\(target)/seeds")
            + Repo.files(in: "Corpus/\(target)")
        let inputs = try files.map { [UInt8](try Data(contentsOf: $0)) }
        let first = inputs.map { Self.outcome(entry, $0) }
        let second = inputs.map { Self.outcome(entry, $0) }
        for (i, f) in files.enumerated() where first[i] != second[i] {
            Issue.record("INV-DETERMINISM: \(f.path): first run \(first[i]), second run \(second[i])")
        }
    }
}
