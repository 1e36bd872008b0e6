/// OpenBSD errno numbers (sys/errno.h). An open set, like swift-system's `Errno`:
/// unknown values are representable; `name` falls back to the number.
public struct OpenBSDErrno: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let EPERM = OpenBSDErrno(rawValue: 1)
    public static let ENOENT = OpenBSDErrno(rawValue: 2)
    public static let E2BIG = OpenBSDErrno(rawValue: 7)
    public static let ENOEXEC = OpenBSDErrno(rawValue: 8)
    public static let ENOMEM = OpenBSDErrno(rawValue: 12)
    public static let EACCES = OpenBSDErrno(rawValue: 13)
    public static let EFAULT = OpenBSDErrno(rawValue: 14)
    public static let EINVAL = OpenBSDErrno(rawValue: 22)
    public static let ETXTBSY = OpenBSDErrno(rawValue: 26)
    public static let ERANGE = OpenBSDErrno(rawValue: 34)
    public static let ENOSYS = OpenBSDErrno(rawValue: 78)

    static let names: [(OpenBSDErrno, String)] = [
        (.EPERM, "EPERM"), (.ENOENT, "ENOENT"), (.E2BIG, "E2BIG"), (.ENOEXEC, "ENOEXEC"), (.ENOMEM, "ENOMEM"),
        (.EACCES, "EACCES"), (.EFAULT, "EFAULT"), (.EINVAL, "EINVAL"), (.ETXTBSY, "ETXTBSY"),
        (.ERANGE, "ERANGE"), (.ENOSYS, "ENOSYS"),
    ]

    public var name: String {
        for (e, n) in Self.names where e == self { return n }
        return "E\(rawValue)"
    }

    public var description: String { name }
}

/// Signals that end a process in this model.
public struct KillSignal: RawRepresentable, Hashable, Sendable {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let SIGILL = KillSignal(rawValue: 4)
    public static let SIGABRT = KillSignal(rawValue: 6)
    /// The msyscall era's "bogus syscall" trapsignal (D-MSYSCALL).
    public static let SIGSEGV = KillSignal(rawValue: 11)

    public var name: String {
        switch self {
        case .SIGILL: return "SIGILL"
        case .SIGABRT: return "SIGABRT"
        case .SIGSEGV: return "SIGSEGV"
        default: return "SIG\(rawValue)"
        }
    }
}

/// A SPEC rule id such as `R-ELF-2`: always a literal, held as a `StaticString`, so a verdict
/// carries its rule without building or reference-counting a string (the pin check's `Verdict`
/// costs little more than its one-byte decision). `rawValue` is the id as text.
public struct RuleID: Hashable, Sendable, ExpressibleByStringLiteral {
    public let staticString: StaticString

    @inlinable
    public init(stringLiteral value: StaticString) { staticString = value }

    /// The id as text ("R-ELF-2"), as reports and JSON print it.
    public var rawValue: String { staticString.description }

    /// Equal ids have equal text, wherever their literals are stored. The same literal compares by
    /// its address (one load each), different lengths by their counts; only ids of equal length
    /// stored apart compare their bytes.
    public static func == (a: RuleID, b: RuleID) -> Bool {
        let x = a.staticString, y = b.staticString
        if x.hasPointerRepresentation && y.hasPointerRepresentation {
            if x.utf8Start == y.utf8Start && x.utf8CodeUnitCount == y.utf8CodeUnitCount { return true }
            if x.utf8CodeUnitCount != y.utf8CodeUnitCount { return false }
        }
        return x.withUTF8Buffer { p in y.withUTF8Buffer { q in p.elementsEqual(q) } }
    }

    public func hash(into hasher: inout Hasher) {
        staticString.withUTF8Buffer { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}

/// The outcome of one kernel decision: success, an errno returned to the caller, or the process
/// killed by a signal (with the errno the kernel computed, if any). Decisions are values so they
/// can be compared, printed and serialised (swift-certificates' policy results).
public struct Verdict: Hashable, Sendable {
    /// nil when the call succeeded (or, for kills without errno, when there is none).
    public var errno: OpenBSDErrno?
    public var signal: KillSignal?
    /// The SPEC rule that decided a failure; nil for success.
    public var rule: RuleID?

    @inlinable
    public init(errno: OpenBSDErrno?, signal: KillSignal?, rule: RuleID?) {
        self.errno = errno
        self.signal = signal
        self.rule = rule
    }

    public static let ok = Verdict(errno: nil, signal: nil, rule: nil)

    @inlinable
    public static func fail(_ errno: OpenBSDErrno, _ rule: RuleID) -> Verdict {
        Verdict(errno: errno, signal: nil, rule: rule)
    }

    @inlinable
    public static func killed(_ signal: KillSignal, _ errno: OpenBSDErrno?, _ rule: RuleID) -> Verdict {
        Verdict(errno: errno, signal: signal, rule: rule)
    }

    @inlinable
    public var isOK: Bool { errno == nil && signal == nil }
    public var isKilled: Bool { signal != nil }

    /// CONTRACT.md `result`: "ok", the errno name, or "killed" for a kill without errno.
    public var result: String {
        if let errno { return errno.name }
        return signal == nil ? "ok" : "killed"
    }
}
