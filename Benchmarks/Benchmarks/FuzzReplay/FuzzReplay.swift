import Benchmark
import FuzzCorpus
import SysPinFuzzing

// Every corpus input of every fuzz target (Corpus/<target>/, its regressions included) replayed
// through the target's logic — the same entry function libFuzzer calls — in a plain release build,
// with libelf linked as the fuzz build links it. One iteration replays the target's whole corpus
// once; ci/fuzz-bench divides by the input count for µs and mallocs per input.

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal], warmupIterations: 1, scalingFactor: .one,
        maxDuration: .seconds(5), maxIterations: 50)
    for (name, entry, _) in FuzzTargets.all {
        let inputs = corpusInputs(name)
        precondition(!inputs.isEmpty, "Corpus/\(name) has no inputs")
        for input in inputs {
            do { try entry(input) } catch { preconditionFailure("\(name): \(error)") }
        }
        Benchmark("FuzzReplay.\(name).inputs\(inputs.count)") { benchmark in
            for _ in benchmark.scaledIterations {
                for input in inputs { try? entry(input) }
            }
        }
    }
}
