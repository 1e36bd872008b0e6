import FuzzCorpus
import SysPinFuzzing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// Every corpus input of one fuzz target through its logic, PASSES times, for ci/fuzz-bench's
// instruction count: valgrind's totals for 1 and 3 passes, differenced and divided by twice the
// input count, are the instructions per input as executed, whatever reading the corpus costs.
// The same inputs and entry function as FuzzReplay, in the same plain release build.
//
// Usage: FuzzReplayLoop TARGET PASSES     (prints the number of inputs)

let args = CommandLine.arguments
guard args.count == 3, let entry = FuzzTargets.entry(named: args[1]), let passes = Int(args[2]), passes >= 0 else {
    print("usage: FuzzReplayLoop TARGET PASSES (TARGET one of \(FuzzTargets.all.map(\.name).joined(separator: ", ")))")
    exit(2)
}
let inputs = corpusInputs(args[1])
for _ in 0..<passes {
    for input in inputs {
        do { try entry(input) } catch {
            print("FuzzReplayLoop: \(args[1]): \(error)")
            exit(1)
        }
    }
}
print(inputs.count)
