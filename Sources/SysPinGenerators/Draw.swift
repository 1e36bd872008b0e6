import PropertyBased

/// The random source inside a generator's run closure (the library's type).
public typealias DrawSource = any SeededRandomNumberGenerator

/// Small draws written in terms of the library's generators. Conventions that make shrinking by
/// lowering draws work (`PropertyRunner.shrink`): the simplest choice is always the lowest value,
/// index 0 of a list, or the first weight of `weighted`.
public enum Draw {
    public static func int(_ range: ClosedRange<Int>, _ rng: inout DrawSource) -> Int {
        Gen.int(in: range).run(using: &rng)
    }

    public static func u64(_ range: ClosedRange<UInt64>, _ rng: inout DrawSource) -> UInt64 {
        Gen.uint64(in: range).run(using: &rng)
    }

    public static func u32(_ range: ClosedRange<UInt32>, _ rng: inout DrawSource) -> UInt32 {
        Gen.uint32(in: range).run(using: &rng)
    }

    /// One of `options`; the first is the simplest.
    public static func pick<T>(_ options: [T], _ rng: inout DrawSource) -> T {
        options[int(0...(options.count - 1), &rng)]
    }

    /// An index chosen with the given weights; index 0 is the simplest.
    public static func weighted(_ weights: [Int], _ rng: inout DrawSource) -> Int {
        let total = weights.reduce(0, +)
        var r = int(0...(total - 1), &rng)
        for (i, w) in weights.enumerated() {
            if r < w { return i }
            r -= w
        }
        return weights.count - 1
    }

    /// True with probability `percent`/100; false (the simpler answer) on a zero draw.
    public static func chance(_ percent: Int, _ rng: inout DrawSource) -> Bool {
        int(0...99, &rng) >= 100 - percent
    }

    /// `count` random bytes.
    public static func bytes(_ count: Int, _ rng: inout DrawSource) -> [UInt8] {
        Gen.uint8().array(of: count).run(using: &rng)
    }
}
