import Foundation
import PropertyBased
import SysPinCore

/// The random source every generator here draws from: a `SeededRandomNumberGenerator` (the
/// library's protocol) that records each 64-bit draw, and can replay a recorded (or shrunk)
/// sequence before falling back to a seeded xoshiro256** stream.
///
/// Recording is what makes shrinking generic: a failing case is reduced by editing its draws
/// (deleting runs, zeroing and halving values) and regenerating, so every generator built from
/// the library's primitives shrinks without a hand-written shrinker (Hypothesis' approach), and
/// a shrunk case is still produced by the same generator code.
public struct ChoiceStream: SeededRandomNumberGenerator {
    /// What determines the rest of the stream: the draws still to replay, then the fallback.
    public struct Seed: Hashable, Sendable {
        public var replay: [UInt64]
        public var fallback: UInt64
    }

    var replay: [UInt64]
    var index = 0
    var fallback: Xoshiro
    var fallbackSeed: UInt64
    /// Every value returned so far, in order.
    public private(set) var drawn: [UInt64] = []

    /// A fresh stream for the case with this seed.
    public init(caseSeed: UInt64) {
        self.init(replay: [], fallbackSeed: caseSeed)
    }

    public init(replay: [UInt64], fallbackSeed: UInt64) {
        self.replay = replay
        self.fallbackSeed = fallbackSeed
        var s = fallbackSeed
        fallback = Xoshiro(seed: (splitmix64(&s), splitmix64(&s), splitmix64(&s), splitmix64(&s)))
    }

    public init?(seed: Seed) {
        self.init(replay: seed.replay, fallbackSeed: seed.fallback)
    }

    public init() {
        var sys = SystemRandomNumberGenerator()
        self.init(caseSeed: sys.next())
    }

    public var currentSeed: Seed {
        Seed(replay: Array(replay.dropFirst(index)), fallback: fallbackSeed)
    }

    public mutating func next() -> UInt64 {
        let v = index < replay.count ? replay[index] : fallback.next()
        index += 1
        drawn.append(v)
        return v
    }
}

/// How the property tests pick their cases, from the environment:
///
/// - default: a fixed base seed per property (derived from its name), so `swift test` and
///   `ci/gate` see the same cases every run;
/// - `SYSPIN_PROPERTY_RANDOM=1`: a random base seed, printed (nightly, `ci/properties-long`);
/// - `SYSPIN_PROPERTY_BASE=0x…`: that base seed (to rerun a printed random run);
/// - `SYSPIN_PROPERTY_SEED=0x…`: only the case with that seed (reproduces a printed failure);
/// - `SYSPIN_PROPERTY_SCALE=N`: N times the usual number of cases.
public struct PropertySettings: Sendable {
    public var randomBase: Bool
    public var base: UInt64?
    public var onlySeed: UInt64?
    public var scale: Int

    public static var current: PropertySettings {
        let env = ProcessInfo.processInfo.environment
        func number(_ key: String) -> UInt64? {
            guard let s = env[key]?.trimmingCharacters(in: .whitespaces), !s.isEmpty else { return nil }
            if s.hasPrefix("0x") || s.hasPrefix("0X") { return UInt64(s.dropFirst(2), radix: 16) }
            return UInt64(s)
        }
        return PropertySettings(
            randomBase: env["SYSPIN_PROPERTY_RANDOM"].map { $0 != "0" && !$0.isEmpty } ?? false,
            base: number("SYSPIN_PROPERTY_BASE"), onlySeed: number("SYSPIN_PROPERTY_SEED"),
            scale: max(1, Int(number("SYSPIN_PROPERTY_SCALE") ?? 1)))
    }

    /// The fixed base seed of a property: FNV-1a of its name.
    public static func fixedBase(for name: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in name.utf8 {
            h ^= UInt64(b)
            h &*= 0x0000_0100_0000_01B3
        }
        return h
    }
}

/// A failing case: where it came from, and what shrinking made of it.
public struct Counterexample<Value>: @unchecked Sendable {
    public var property: String
    public var caseSeed: UInt64
    /// Which case of the run (regression seeds come first), or nil when replayed alone.
    public var caseIndex: Int?
    public var original: Value
    public var originalReason: String
    public var originalDraws: Int
    public var shrunk: Value
    public var shrunkReason: String
    public var shrunkDraws: [UInt64]
    public var shrinkSteps: Int
    /// The base seed of the run (to rerun all of it), when it was not fixed.
    public var randomBase: UInt64?
    /// What `swift test --filter` takes to select the property's test.
    public var testFilter: String

    public var report: String {
        var s = "\(property): counterexample (case seed 0x\(hex(caseSeed))"
        if let caseIndex { s += ", case \(caseIndex)" }
        if let randomBase { s += ", random base 0x\(hex(randomBase))" }
        s += ")\n"
        s += "  shrunk (\(shrinkSteps) steps, \(originalDraws) → \(shrunkDraws.count) draws): \(shrunk)\n"
        s += "    because: \(shrunkReason)\n"
        s += "  original: \(original)\n"
        s += "    because: \(originalReason)\n"
        s += "  reproduce: SYSPIN_PROPERTY_SEED=0x\(hex(caseSeed)) swift test --filter '\(testFilter)'\n"
        s += "  shrunk draws: [\(shrunkDraws.map { "0x" + hex($0) }.joined(separator: ", "))]"
        return s
    }
}

func hex(_ v: UInt64) -> String { String(v, radix: 16) }

public enum PropertyOutcome<Value>: @unchecked Sendable {
    /// Every case passed.
    case held(cases: Int, summary: String)
    case failed(Counterexample<Value>)
}

/// Runs a property over generated cases and shrinks the first failure.
public enum PropertyRunner {
    /// - Parameters:
    ///   - name: the property's name; fixes the base seed.
    ///   - testFilter: what selects its test in `swift test --filter` (default: `name`).
    ///   - count: how many cases (times `SYSPIN_PROPERTY_SCALE`).
    ///   - regressions: case seeds that once failed; replayed first, every run.
    ///   - generator: a generator built from the library's primitives.
    ///   - shrinkBudget: at most this many property evaluations while shrinking a failure (a
    ///     property that costs a second per case sets it low, so a failure is reported in bounded time).
    ///   - property: nil when the case passes, else why it fails.
    public static func check<Value, S>(
        _ name: String, count: Int, regressions: [UInt64] = [], settings: PropertySettings = .current,
        testFilter: String? = nil, shrinkBudget: Int = 4000, generator: Generator<Value, S>, property: (Value) -> String?
    ) -> PropertyOutcome<Value> {
        var seeds: [UInt64]
        var randomBase: UInt64?
        let summary: String
        if let only = settings.onlySeed {
            seeds = [only]
            summary = "1 case, seed 0x\(hex(only))"
        } else {
            var base = settings.base ?? PropertySettings.fixedBase(for: name)
            if settings.randomBase && settings.base == nil {
                var sys = SystemRandomNumberGenerator()
                base = sys.next()
            }
            if settings.randomBase || settings.base != nil { randomBase = base }
            var state = base
            seeds = regressions
            for _ in 0..<(count * settings.scale) { seeds.append(splitmix64(&state)) }
            summary = "\(seeds.count) cases (\(regressions.count) regression seeds), base 0x\(hex(base))"
                + (randomBase != nil ? " (SYSPIN_PROPERTY_BASE=0x\(hex(base)) reruns them)" : " (fixed)")
        }
        for (i, seed) in seeds.enumerated() {
            var stream = ChoiceStream(caseSeed: seed)
            let value = generator.run(using: &stream)
            guard let reason = property(value) else { continue }
            let (shrunk, shrunkReason, draws, steps) = shrink(
                draws: stream.drawn, value: value, reason: reason, fallbackSeed: seed, generator: generator,
                property: property, budget: shrinkBudget)
            return .failed(
                Counterexample(
                    property: name, caseSeed: seed, caseIndex: settings.onlySeed == nil ? i : nil, original: value,
                    originalReason: reason, originalDraws: stream.drawn.count, shrunk: shrunk,
                    shrunkReason: shrunkReason, shrunkDraws: draws, shrinkSteps: steps, randomBase: randomBase,
                    testFilter: testFilter ?? name))
        }
        return .held(cases: seeds.count, summary: summary)
    }

    /// Replays recorded draws (e.g. a shrunk counterexample kept as a regression).
    public static func replay<Value, S>(_ draws: [UInt64], generator: Generator<Value, S>) -> Value {
        var stream = ChoiceStream(replay: draws, fallbackSeed: 0)
        return generator.run(using: &stream)
    }

    /// Shortlex order on draw sequences: shorter, or as long and lexicographically smaller.
    static func simpler(_ a: [UInt64], than b: [UInt64]) -> Bool {
        if a.count != b.count { return a.count < b.count }
        for (x, y) in zip(a, b) where x != y { return x < y }
        return false
    }

    /// Greedy reduction of the draw sequence; every accepted candidate is strictly simpler, so
    /// this terminates; `budget` bounds the property evaluations.
    static func shrink<Value, S>(
        draws: [UInt64], value: Value, reason: String, fallbackSeed: UInt64, generator: Generator<Value, S>,
        property: (Value) -> String?, budget: Int = 4000
    ) -> (Value, String, [UInt64], Int) {
        var best = draws
        var bestValue = value
        var bestReason = reason
        var steps = 0
        var evaluations = 0

        func attempt(_ candidate: [UInt64]) -> Bool {
            guard evaluations < budget, simpler(candidate, than: best) else { return false }
            evaluations += 1
            // Past the candidate's end the stream falls back to a fixed pseudo-random sequence.
            var stream = ChoiceStream(replay: candidate, fallbackSeed: fallbackSeed ^ 0x5348_5249_4E4B)
            let v = generator.run(using: &stream)
            guard let r = property(v) else { return false }
            // What the generator actually consumed: a prefix of the candidate, or the candidate
            // and some fallback draws.
            let actual = stream.drawn
            guard simpler(actual, than: best) else { return false }
            best = actual
            bestValue = v
            bestReason = r
            steps += 1
            return true
        }

        var improved = true
        while improved && evaluations < budget {
            improved = false
            // 1. Delete runs of draws, longest first.
            for size in [32, 16, 8, 4, 2, 1] {
                var i = 0
                while i + size <= best.count && evaluations < budget {
                    var c = best
                    c.removeSubrange(i..<i + size)
                    if attempt(c) { improved = true } else { i += max(1, size / 2) }
                }
            }
            // 2. Lower each draw: zero, then successively smaller fractions of it.
            var i = 0
            while i < best.count && evaluations < budget {
                let v = best[i]
                if v != 0 {
                    for shift in [64, 48, 32, 24, 16, 12, 8, 6, 4, 3, 2, 1] {
                        var c = best
                        c[i] = shift >= 64 ? 0 : v >> UInt64(shift)
                        if c[i] < v && attempt(c) {
                            improved = true
                            break
                        }
                    }
                    if best[i] == v && v > 1 {
                        var c = best
                        c[i] = v - 1
                        if attempt(c) { improved = true }
                    }
                }
                i += 1
            }
        }
        return (bestValue, bestReason, best, steps)
    }
}
