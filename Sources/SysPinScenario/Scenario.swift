import Foundation
import SysPinCore

/// An unsigned integer given as a JSON number or a "0x…" / decimal string (CONTRACT: addresses
/// need 64 bits).
public struct FlexUInt: Decodable, Hashable, Sendable {
    public var value: UInt64
    public init(_ value: UInt64) { self.value = value }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let v = try? c.decode(UInt64.self) {
            value = v
        } else if let s = try? c.decode(String.self), let v = FlexUInt.parse(s) {
            value = v
        } else {
            throw DecodingError.dataCorruptedError(
                in: c, debugDescription: "expected a non-negative integer or a \"0x…\" string")
        }
    }

    public static func parse(_ s: String) -> UInt64? {
        let t = s.trimmingCharacters(in: .whitespaces)
        if t.hasPrefix("0x") || t.hasPrefix("0X") { return UInt64(t.dropFirst(2), radix: 16) }
        return UInt64(t)
    }
}

/// A register-sized integer given as a JSON number or string (sysno and npins may be negative).
/// Values from 2^63 to 2^64 − 1 ("0xFFFFFFFFFFFFFFFF") are the register's 64 bits, read as
/// signed: the kernel takes its own width of them (npins is an int, R-PIN-5).
public struct FlexInt: Decodable, Hashable, Sendable {
    public var value: Int64
    public init(_ value: Int64) { self.value = value }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let v = try? c.decode(Int64.self) {
            value = v
        } else if let u = try? c.decode(UInt64.self) {
            value = Int64(bitPattern: u)
        } else if let s = try? c.decode(String.self) {
            let neg = s.hasPrefix("-")
            guard let m = FlexUInt.parse(neg ? String(s.dropFirst()) : s), !neg || m <= UInt64(Int64.max) + 1 else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected an integer")
            }
            value = Int64(bitPattern: neg ? 0 &- m : m)
        } else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected an integer")
        }
    }
}

/// The scenario file of `syspin run` (CONTRACT.md).
public struct Scenario: Decodable, Sendable {
    public struct Image: Decodable, Sendable {
        public var path: String?
        public var hex: String?
        public var base: FlexUInt?
    }

    public struct Mapping: Decodable, Sendable {
        public var start: FlexUInt
        public var end: FlexUInt
        public var writable: Bool?
    }

    public struct PinsyscallsArgs: Decodable, Sendable {
        public var from_libc: Bool?
        public var base: FlexUInt?
        public var len: FlexUInt?
        public var npins: FlexInt?
        public var pins: [FlexUInt]?
        public var threads: Int?
    }

    public struct KbindArgs: Decodable, Sendable {
        public var param_hex: String?
        public var psize: FlexUInt?
        public var cookie: FlexUInt?
        public var null: Bool?
    }

    public struct Step: Decodable, Sendable {
        public var sysno: FlexInt
        public var addr: FlexUInt
        public var pinsyscalls: PinsyscallsArgs?
        public var kbind: KbindArgs?
    }

    public var arch: String?
    public var program: Image
    public var interpreter: Image?
    public var libc: Image?
    /// The library whose text the libsys policy trusts (D-LIBSYS); ignored by the other policies.
    public var libsys: Image?
    public var sigtramp: FlexUInt?
    public var mappings: [Mapping]?
    public var steps: [Step]
}

/// A problem with the scenario itself (not a kernel verdict): reported as one line, exit 2.
public struct ScenarioError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var message: String
    public init(file: String, _ message: String) {
        self.file = file
        self.message = message
    }
    public var description: String { "\(file): \(message)" }
}


extension Scenario {
    /// Decodes a scenario, turning Codable's errors into one line with the JSON path.
    public static func decode(_ data: Data, file: String) throws(ScenarioError) -> Scenario {
        do {
            return try JSONDecoder().decode(Scenario.self, from: data)
        } catch let DecodingError.keyNotFound(key, ctx) {
            throw ScenarioError(file: file, "missing key \"\(key.stringValue)\" at \(path(ctx.codingPath))")
        } catch let DecodingError.typeMismatch(_, ctx) {
            throw ScenarioError(file: file, "wrong type at \(path(ctx.codingPath)): \(ctx.debugDescription)")
        } catch let DecodingError.valueNotFound(_, ctx) {
            throw ScenarioError(file: file, "null value at \(path(ctx.codingPath))")
        } catch let DecodingError.dataCorrupted(ctx) {
            let under = (ctx.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            let what = ctx.codingPath.isEmpty ? "not valid JSON" : "bad value at \(path(ctx.codingPath))"
            throw ScenarioError(file: file, "\(what): \(under ?? ctx.debugDescription)")
        } catch {
            throw ScenarioError(file: file, "cannot decode scenario: \(error)")
        }
    }

    static func path(_ keys: [CodingKey]) -> String {
        if keys.isEmpty { return "top level" }
        return keys.map { k in k.intValue.map { "[\($0)]" } ?? ".\(k.stringValue)" }.joined()
            .trimmingCharacters(in: CharacterSet(charactersIn: "."))
    }
}
