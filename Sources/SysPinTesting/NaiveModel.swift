import SysPinCore

/// A deliberately naive second implementation of the pin decision (§7.2) for differential
/// testing: it keeps the raw {offset, sysno} records and answers each question by a linear scan,
/// sharing no code with `PinTableReader`, `PinRegion` or `PinCheck`.
public struct NaiveTable: Hashable, Sendable {
    /// Records in file order (offsets as stored, before rebasing).
    public var sites: [SyscallSite]
    /// Where offsets count from (the load base) and the rebasing delta the kernel applies (R-PT-9).
    public var loadBase: UInt64
    public var delta: UInt64
    /// The region's bounds (half-open).
    public var start: UInt64
    public var end: UInt64
    public var isLdso: Bool

    public init(sites: [SyscallSite], loadBase: UInt64, delta: UInt64, start: UInt64, end: UInt64, isLdso: Bool) {
        self.sites = sites
        self.loadBase = loadBase
        self.delta = delta
        self.start = start
        self.end = end
        self.isLdso = isLdso
    }

    /// What slot `sysno` ends up holding, by scanning every record: 0, all-ones, or a value.
    public func slot(_ sysno: UInt32) -> UInt32 {
        if isLdso && sysno == 86 { return 0xFFFF_FFFF }
        var seen = 0
        var value: UInt32 = 0
        for s in sites where s.sysno == sysno {
            if seen > 0 && value != 0 {
                value = 0xFFFF_FFFF
            } else {
                value = s.offset
            }
            seen += 1
        }
        if value == 0 || value == 0xFFFF_FFFF { return value }
        return value &- UInt32(truncatingIfNeeded: delta)
    }

    /// The number of slots the kernel allocates: one past the largest sysno (≥ 87 for ld.so).
    public var slotCount: Int {
        var m: UInt32 = isLdso ? 86 : 0
        for s in sites where s.sysno > m { m = s.sysno }
        return Int(m) + 1
    }

    public func contains(_ addr: UInt64) -> Bool { start <= addr && addr < end }
}

public enum NaiveModel {
    public enum Decision: Hashable, Sendable {
        case allow
        case kill(errno: OpenBSDErrno)
    }

    /// pin_check decided by scanning: same inputs as `PinCheck.check`.
    public static func decide(
        libc: NaiveTable?, main: NaiveTable?, sigtramp: UInt64?, addr: UInt64, code: UInt32, mask: UInt64
    ) -> Decision {
        var table: NaiveTable?
        if let l = libc, l.contains(addr) {
            table = l
        } else if let m = main, m.contains(addr) {
            table = m
        }
        guard let t = table else {
            if sigtramp == addr { return code == 103 ? .allow : .kill(errno: .EPERM) }
            return .kill(errno: .ENOSYS)
        }
        if Int(code) >= t.slotCount { return .kill(errno: .ENOSYS) }
        let v = t.slot(code)
        if v == 0 { return .kill(errno: .ENOSYS) }
        if v == 0xFFFF_FFFF { return .allow }
        return (t.start &+ UInt64(v)) & mask == addr ? .allow : .kill(errno: .ENOSYS)
    }

    /// The naive reading of a whole submission's pins (R-PIN-9 installs them verbatim).
    public static func submittedTable(pins: [UInt32], base: UInt64, len: UInt64) -> NaiveTable {
        var sites: [SyscallSite] = []
        for (i, v) in pins.enumerated() where v != 0 {
            // A verbatim slot: one record for a value, two records for the marker.
            sites.append(SyscallSite(offset: v == 0xFFFF_FFFF ? 1 : v, sysno: UInt32(i)))
            if v == 0xFFFF_FFFF { sites.append(SyscallSite(offset: 1, sysno: UInt32(i))) }
        }
        return NaiveTable(sites: sites, loadBase: base, delta: 0, start: base, end: base &+ len, isLdso: false)
    }
}
