// Text for people: how the core's values print in reports, `syspin decode`, invariant messages
// and test failures. No decision reads any of it, so ci/coverage shows this file without counting
// it (ci/coverage-exclude.txt); the names a report's JSON carries (`Verdict.result`,
// `OpenBSDErrno.name`, `KillSignal.name`) stay with their types.

extension Arch: CustomStringConvertible {
    public var description: String { name }
}

extension SegmentType: CustomStringConvertible {
    static let names: [(SegmentType, String)] = [
        (.null, "NULL"), (.load, "LOAD"), (.dynamic, "DYNAMIC"), (.interp, "INTERP"), (.note, "NOTE"),
        (.shlib, "SHLIB"), (.phdr, "PHDR"), (.tls, "TLS"), (.gnuEHFrame, "GNU_EH_FRAME"),
        (.gnuStack, "GNU_STACK"), (.gnuRelro, "GNU_RELRO"), (.openbsdMutable, "OPENBSD_MUTABLE"),
        (.openbsdRandomize, "OPENBSD_RANDOMIZE"), (.openbsdWXNeeded, "OPENBSD_WXNEEDED"),
        (.openbsdNoBTCFI, "OPENBSD_NOBTCFI"), (.openbsdSyscalls, "OPENBSD_SYSCALLS"),
    ]

    public var name: String {
        for (t, n) in Self.names where t == self { return n }
        return "0x" + String(rawValue, radix: 16)
    }

    public var description: String { name }
}

extension ElfType: CustomStringConvertible {
    public var description: String { name }
}

extension ExecRejection: CustomStringConvertible {
    public var description: String { "\(errno.name) [\(rule.rawValue)]: \(detail)" }
}

extension ExactSite: CustomStringConvertible {
    public var description: String { "\(sysno)@+0x\(String(rel, radix: 16))" }
}

extension KillSignal: CustomStringConvertible {
    public var description: String { name }
}

extension RuleID: CustomStringConvertible {
    public var description: String { rawValue }
}

extension Verdict: CustomStringConvertible {
    /// The result with the errno's number, for people: "ENOEXEC (errno 8)".
    public var resultWithNumber: String {
        if let errno { return "\(errno.name) (errno \(errno.rawValue))" }
        return result
    }

    public var description: String {
        var s = result
        if let signal { s += " +\(signal.name)" }
        if let rule { s += " [\(rule.rawValue)]" }
        return s
    }
}

extension KbindBlock {
    /// The block's `size` data bytes as a copy, for messages and reports; decisions and the
    /// fuzzers' comparisons read them in place (`hasData`).
    public var data: [UInt8] { withUnsafeBytes(of: storage) { Array($0.prefix(Int(size))) } }
}
