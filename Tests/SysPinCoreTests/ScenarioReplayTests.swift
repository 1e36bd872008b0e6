import Foundation
import SysPinScenario
import Testing

/// The hand-written process scenarios in Corpus/FuzzScenario/scenarios. Each `<name>.json` is a
/// `syspin run` scenario (CONTRACT.md) and `<name>.expected.jsonl` holds exactly the lines
/// `syspin run --json` must print for it; every expected line was derived by hand from SPEC.md
/// (and docs/decisions.md where SPEC leaves a fact UNVERIFIED), not recorded from the tool.
/// The replay runs in-process through the same decode → run → report path as the CLI.
private enum ScenarioCorpus {
    /// Tests/SysPinCoreTests/<this file> → repository root.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let directory = root.appendingPathComponent("Corpus/FuzzScenario/scenarios")

    /// Scenario names (file names without ".json"), sorted.
    static let names: [String] = {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(".json".count)) }.sorted()
    }()

    static func scenario(_ name: String) -> URL { directory.appendingPathComponent(name + ".json") }
    static func expected(_ name: String) -> URL { directory.appendingPathComponent(name + ".expected.jsonl") }
}

@Suite("Scenario replay (Corpus/FuzzScenario/scenarios)")
struct ScenarioReplayTests {
    @Test("at least 45 scenarios, each with an .expected.jsonl")
    func corpusIsComplete() {
        #expect(
            ScenarioCorpus.names.count >= 45,
            "only \(ScenarioCorpus.names.count) scenarios in \(ScenarioCorpus.directory.path)")
        for name in ScenarioCorpus.names {
            #expect(
                FileManager.default.fileExists(atPath: ScenarioCorpus.expected(name).path),
                "\(name).json has no \(name).expected.jsonl")
        }
        // No orphaned expectations either.
        let files = (try? FileManager.default.contentsOfDirectory(atPath: ScenarioCorpus.directory.path)) ?? []
        for f in files where f.hasSuffix(".expected.jsonl") {
            let name = String(f.dropLast(".expected.jsonl".count))
            #expect(ScenarioCorpus.names.contains(name), "\(f) has no \(name).json")
        }
    }

    @Test("replay matches the expected lines", arguments: ScenarioCorpus.names)
    func replay(_ name: String) throws {
        let url = ScenarioCorpus.scenario(name)
        let data = try Data(contentsOf: url)
        let scenario = try Scenario.decode(data, file: url.path)
        let events = try ScenarioRunner.run(scenario, file: url.path, baseDirectory: ScenarioCorpus.directory)
        let got = events.map(RunReport.json)

        let text = try String(contentsOf: ScenarioCorpus.expected(name), encoding: .utf8)
        var expected = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if expected.last == "" { expected.removeLast() }

        for i in 0..<min(got.count, expected.count) where got[i] != expected[i] {
            Issue.record(
                """
                \(name): first difference at line \(i + 1) of \(name).expected.jsonl
                  expected: \(expected[i])
                  got:      \(got[i])
                """)
            return
        }
        if got.count != expected.count {
            let extra =
                got.count > expected.count
                ? "first extra line: \(got[expected.count])"
                : "first missing line: \(expected[got.count])"
            Issue.record("\(name): expected \(expected.count) lines, got \(got.count); \(extra)")
        }
    }
}
