// The second, independent model of SPEC.md. Written from SPEC.md, CONTRACT.md and
// docs/decisions.md alone; it imports nothing (not SysPinCore, not Foundation), so it cannot share
// code with the model it checks. Plain constants are restated here on purpose.
//
// Style: linear scans, plain Arrays, obvious code, one SPEC rule per comment. Speed does not matter.

/// errno numbers (SPEC §2.4, D-NUMS).
public enum RefErrno {
    public static let EPERM: Int32 = 1
    public static let ENOENT: Int32 = 2
    public static let E2BIG: Int32 = 7
    public static let ENOEXEC: Int32 = 8
    public static let ENOMEM: Int32 = 12
    public static let EACCES: Int32 = 13
    public static let EFAULT: Int32 = 14
    public static let EINVAL: Int32 = 22
    public static let ETXTBSY: Int32 = 26
    public static let ERANGE: Int32 = 34
    public static let ENOSYS: Int32 = 78
}

/// Signals (SPEC §2.5).
public enum RefSignal {
    public static let SIGILL: Int32 = 4
    public static let SIGABRT: Int32 = 6
    /// D-MSYSCALL's "bogus syscall".
    public static let SIGSEGV: Int32 = 11
}

/// Kernel constants (SPEC §2, D-NUMS, D-MAXSYS).
public enum RefConst {
    /// SYS_MAXSYSCALL (§2.2).
    public static let maxSyscall: UInt32 = 331
    public static let sysKbind: UInt32 = 86
    public static let sysSigreturn: UInt32 = 103
    public static let sysPinsyscalls: UInt32 = 158
    /// The "multiple sites" pin value (R-PT-7).
    public static let marker: UInt32 = 0xFFFF_FFFF
    /// R-PT-1: SYS_MAXSYSCALL × 2 × 8.
    public static let maxTableBytes: UInt64 = 331 * 16
    /// CONTRACT `entries`: (2 × SYS_MAXSYSCALL + 1) × 8.
    public static let entriesBytes: UInt64 = (2 * 331 + 1) * 8
    public static let maxPhnum: UInt64 = 32
    public static let maxPathLen: UInt64 = 1024
    public static let noteScanLimit: UInt64 = 1024
    public static let randomizeLimit: UInt64 = 1024 * 1024
    public static let kbindBlockMax = 2
    public static let kbindDataMax: UInt64 = 24

    public static let PT_LOAD: UInt32 = 1
    public static let PT_INTERP: UInt32 = 3
    public static let PT_NOTE: UInt32 = 4
    public static let PT_SHLIB: UInt32 = 5
    public static let PT_PHDR: UInt32 = 6
    public static let PT_OPENBSD_RANDOMIZE: UInt32 = 0x65a3_dbe6
    public static let PT_OPENBSD_SYSCALLS: UInt32 = 0x65a3_dbe9
    public static let PF_X: UInt32 = 1
    public static let PF_W: UInt32 = 2
    public static let ET_EXEC: UInt16 = 2
    public static let ET_DYN: UInt16 = 3
}

/// One row of SPEC §3 with the values of D-ARCH.
public struct RefArch: Equatable, Sendable {
    public var name: String
    public var is64: Bool
    public var bigEndian: Bool
    public var machine: UInt16
    /// D of R-ARCH-1.
    public var trapDistance: UInt64
    public var vmMin: UInt64
    public var vmMaxUser: UInt64
    public var pageSize: UInt64
    /// R-PC-1: true where an out-of-range number gets ENOSYS without pin_check.
    public var rangeCheckFirst: Bool
    /// Width of the MD handler's `code` variable: 64 (register_t on amd64, sparc64) or 32.
    public var codeBits: Int = 64
    /// Whether a 32-bit `code` is an int (all but mips64's unsigned int).
    public var codeSigned: Bool = true
    /// sparc64's SYSCALL_G2RFLAG, which its handler clears from the number first.
    public var g2rFlag: Int64 = 0
    /// First and one-past-last address of the map's hole entry (sparc64's 43-bit pmap); equal
    /// where there is none.
    public var holeFirst: UInt64 = 0
    public var holeEnd: UInt64 = 0

    /// The number the kernel checks when the trap register holds `register`.
    public func kernelCode(_ register: Int64) -> Int64 {
        let v = register & ~g2rFlag
        if codeBits == 64 { return v }
        return codeSigned ? Int64(Int32(truncatingIfNeeded: v)) : Int64(UInt32(truncatingIfNeeded: v))
    }

    /// All ones in pointer width: BOGO_PC (D-BOGO) and the wrap mask (R-ARCH-2).
    public var mask: UInt64 { is64 ? UInt64.max : 0xFFFF_FFFF }
    public var pointerBytes: Int { is64 ? 8 : 4 }
    /// sizeof(struct __kbind) (§2.3).
    public var kbindHeader: UInt64 { is64 ? 16 : 8 }
    /// P_MAX (§2.3).
    public var kbindParamMax: UInt64 { 2 * kbindHeader + 24 }

    public static let all: [RefArch] = [
        RefArch(name: "amd64", is64: true, bigEndian: false, machine: 62, trapDistance: 2, vmMin: 0x1000, vmMaxUser: 0x7f7f_ffff_c000, pageSize: 4096, rangeCheckFirst: true),
        RefArch(name: "i386", is64: false, bigEndian: false, machine: 3, trapDistance: 2, vmMin: 0x1000, vmMaxUser: 0xcf7f_e000, pageSize: 4096, rangeCheckFirst: false, codeBits: 32),
        RefArch(name: "arm64", is64: true, bigEndian: false, machine: 183, trapDistance: 12, vmMin: 0x1000, vmMaxUser: 0x7f_ffff_8000, pageSize: 4096, rangeCheckFirst: true, codeBits: 32),
        RefArch(name: "armv7", is64: false, bigEndian: false, machine: 40, trapDistance: 12, vmMin: 0x1000, vmMaxUser: 0xc000_0000, pageSize: 4096, rangeCheckFirst: false, codeBits: 32),
        RefArch(name: "riscv64", is64: true, bigEndian: false, machine: 243, trapDistance: 4, vmMin: 0x1000, vmMaxUser: 0x40_0000_0000, pageSize: 4096, rangeCheckFirst: true, codeBits: 32),
        RefArch(name: "powerpc64", is64: true, bigEndian: true, machine: 21, trapDistance: 4, vmMin: 0x1000, vmMaxUser: 0xbfff_ffff_ffff_f000, pageSize: 4096, rangeCheckFirst: true, codeBits: 32),
        RefArch(name: "powerpc", is64: false, bigEndian: true, machine: 20, trapDistance: 4, vmMin: 0x1000, vmMaxUser: 0xffff_f000, pageSize: 4096, rangeCheckFirst: true, codeBits: 32),
        RefArch(name: "sparc64", is64: true, bigEndian: true, machine: 43, trapDistance: 0, vmMin: 0x2000, vmMaxUser: 0xffff_ffff_ffff_e000, pageSize: 8192, rangeCheckFirst: true, g2rFlag: 0x400, holeFirst: 1 << 42, holeEnd: 0 &- (1 << 42)),
        RefArch(name: "mips64", is64: true, bigEndian: true, machine: 8, trapDistance: 4, vmMin: 0x4000, vmMaxUser: 0x100_0000_0000, pageSize: 16384, rangeCheckFirst: false, codeBits: 32, codeSigned: false),
        RefArch(name: "mips64el", is64: true, bigEndian: false, machine: 8, trapDistance: 4, vmMin: 0x4000, vmMaxUser: 0x100_0000_0000, pageSize: 16384, rangeCheckFirst: false, codeBits: 32, codeSigned: false),
    ]

    /// A canonical name or an alias of §3 (octeon = mips64, loongson = mips64el).
    public static func named(_ name: String) -> RefArch? {
        let canonical = name == "octeon" ? "mips64" : name == "loongson" ? "mips64el" : name
        for a in all where a.name == canonical { return a }
        return nil
    }
}

/// An outcome: errno (nil for none), signal (nil for none), deciding rule (nil for success).
public struct RefVerdict: Equatable, Sendable, CustomStringConvertible {
    public var errno: Int32?
    public var signal: Int32?
    public var rule: String?

    public init(errno: Int32?, signal: Int32?, rule: String?) {
        self.errno = errno
        self.signal = signal
        self.rule = rule
    }

    public static let ok = RefVerdict(errno: nil, signal: nil, rule: nil)

    public static func fail(_ errno: Int32, _ rule: String) -> RefVerdict {
        RefVerdict(errno: errno, signal: nil, rule: rule)
    }

    public static func killed(_ signal: Int32, _ errno: Int32?, _ rule: String) -> RefVerdict {
        RefVerdict(errno: errno, signal: signal, rule: rule)
    }

    public var isOK: Bool { errno == nil && signal == nil }

    public var description: String {
        var s = errno.map { "errno \($0)" } ?? (signal == nil ? "ok" : "killed")
        if let signal { s += " +signal \(signal)" }
        if let rule { s += " [\(rule)]" }
        return s
    }
}

/// Which pin check runs (SPEC §7.2, D-STRICT, D-MSYSCALL or D-LIBSYS).
public enum RefPolicy: Equatable, Sendable, CaseIterable {
    case openbsd
    case strict
    /// OpenBSD 6.7–7.3's msyscall(2): any number from syscall-permitted text (D-MSYSCALL).
    case msyscall
    /// The FreeBSD libsys proposal: any number from libsys's or ld.so's text only (D-LIBSYS).
    case libsys
}

/// Reads of raw bytes. Every read returns nil when any byte lies outside the buffer.
enum RefBytes {
    static func uint(_ b: [UInt8], _ at: UInt64, _ width: Int, bigEndian: Bool) -> UInt64? {
        if at > UInt64(b.count) || UInt64(width) > UInt64(b.count) - at { return nil }
        var v: UInt64 = 0
        for i in 0..<width {
            let byte = UInt64(b[Int(at) + i])
            if bigEndian {
                v = (v << 8) | byte
            } else {
                v |= byte << (8 * UInt64(i))
            }
        }
        return v
    }

    /// The bytes [at, at + n) when all of them lie inside `b`. Reading zero bytes always
    /// succeeds, wherever (a read of 0 bytes leaves nothing unread).
    static func slice(_ b: [UInt8], _ at: UInt64, _ n: UInt64) -> [UInt8]? {
        if n == 0 { return [] }
        if at > UInt64(b.count) || n > UInt64(b.count) - at { return nil }
        return Array(b[Int(at)..<Int(at + n)])
    }

    /// ELF_TRUNC: round down to `align` when align > 1.
    static func trunc(_ v: UInt64, _ align: UInt64) -> UInt64 {
        align > 1 ? v & ~(align - 1) : v
    }
}
