import SysPinCore

/// A broken invariant. `id` is stable (e.g. `INV-PIN-COMPLETE`) so crashes group by invariant;
/// the fuzz entry prints `"\(id): \(message)"` and aborts, tests report it as a failure.
public struct InvariantViolation: Error, CustomStringConvertible, Sendable {
    public var id: String
    public var message: String
    public init(_ id: String, _ message: String) {
        self.id = id
        self.message = message
    }
    public var description: String { "\(id): \(message)" }
}

@inline(__always)
func require(_ condition: Bool, _ id: String, _ message: @autoclosure () -> String) throws(InvariantViolation) {
    if !condition { throw InvariantViolation(id, message()) }
}

/// Reads structured values off the front of a fuzz input (like LLVM's FuzzedDataProvider);
/// past the end every read returns zero, so any byte string decodes.
public struct FuzzReader {
    public let bytes: [UInt8]
    public private(set) var position = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var remaining: Int { bytes.count - position }
    public var isAtEnd: Bool { position >= bytes.count }

    public mutating func u8() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    public mutating func uint(_ width: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<width { v |= UInt64(u8()) << (8 * UInt64(i)) }
        return v
    }

    public mutating func u16() -> UInt16 { UInt16(truncatingIfNeeded: uint(2)) }
    public mutating func u32() -> UInt32 { UInt32(truncatingIfNeeded: uint(4)) }
    public mutating func u64() -> UInt64 { uint(8) }
    public mutating func bool() -> Bool { u8() & 1 == 1 }

    /// A value in 0..<n (n > 0).
    public mutating func below(_ n: Int) -> Int { Int(u16()) % n }

    public mutating func take(_ n: Int) -> [UInt8] {
        let k = max(0, min(n, remaining))
        defer { position += k }
        return Array(bytes[position..<position + k])
    }

    public mutating func rest() -> [UInt8] { take(remaining) }

    /// Appends the next `n` bytes (fewer at the end) to `out` without a temporary array, and
    /// returns how many there were: the bytes `take(n)` would return.
    @discardableResult
    public mutating func append(_ n: Int, to out: inout [UInt8]) -> Int {
        let k = max(0, min(n, remaining))
        out.append(contentsOf: bytes[position..<position + k])
        position += k
        return k
    }

    public mutating func arch() -> Arch { Arch.all[Int(u8()) % Arch.all.count] }

    /// One of `xs`, chosen by one byte.
    mutating func pick<T>(_ xs: [T]) -> T { xs[Int(u8()) % xs.count] }
}

extension Verdict {
    var brief: String { description }
}
