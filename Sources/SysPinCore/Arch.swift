public enum ElfClass: UInt8, Hashable, Sendable {
    case elf32 = 1
    case elf64 = 2

    public var bits: Int { self == .elf32 ? 32 : 64 }
    /// sizeof(Elf_Ehdr) / sizeof(Elf_Phdr) for this class (R-ELF-1, R-ELF-7).
    public var ehdrSize: Int { self == .elf32 ? 52 : 64 }
    public var phdrSize: Int { self == .elf32 ? 32 : 56 }
}

public enum Endian: UInt8, Hashable, Sendable {
    case little = 1
    case big = 2

    public var name: String { self == .little ? "little" : "big" }
}

/// How an MD system-call handler reads the trap register into its `code` variable (D-SYSNO-WIDTH):
/// the whole register (amd64's and sparc64's register_t), an `int` (arm64, riscv64, powerpc64 and
/// armv7, and the 32-bit register_t of i386 and powerpc), or mips64's `unsigned int`.
public enum SyscallCodeWidth: Hashable, Sendable {
    case register64
    case int32
    case uint32
}

/// Per-architecture parameters (SPEC §3). Values the SPEC marks UNVERIFIED were checked against
/// the OpenBSD tree where possible; see docs/decisions.md.
public struct Arch: Hashable, Sendable {
    public var name: String
    public var elfClass: ElfClass
    public var endian: Endian
    public var machine: UInt16
    /// R-ARCH-1: distance D from the trap instruction to the saved pc (sigcoderet − sigcodecall).
    public var trapDistance: UInt64
    /// Lowest and one-past-highest user address (R-PIN-4 map bounds, R-KB-7 user limit).
    public var vmMinAddress: UInt64
    public var vmMaxUserAddress: UInt64
    public var pageSize: UInt64
    /// R-PC-1 per arch: true where the MD handler answers an out-of-range number with ENOSYS
    /// before mi_syscall (amd64 and most others); false where it calls mi_syscall, and so
    /// pin_check, with the raw number (i386, armv7, mips64: "out of range stays on syscall0").
    public var outOfRangeSkipsPinCheck: Bool
    /// How the MD handler reads the trap register into its `code` (D-SYSNO-WIDTH).
    public var syscallCodeWidth: SyscallCodeWidth
    /// Flag bits the MD handler clears from the register first (sparc64's SYSCALL_G2RFLAG, 0x400).
    public var syscallFlagBits: Int64
    /// The MMU hole every process map holds as an entry nothing can be mapped on (sparc64's
    /// pmap_remove_holes: [2^42, 2^64 − 2^42)); empty on the other arches (D-KBIND-HOLE).
    public var vaHole: Range<UInt64>

    public init(
        name: String, elfClass: ElfClass, endian: Endian, machine: UInt16, trapDistance: UInt64,
        vmMinAddress: UInt64, vmMaxUserAddress: UInt64, pageSize: UInt64,
        outOfRangeSkipsPinCheck: Bool = true, syscallCodeWidth: SyscallCodeWidth = .register64,
        syscallFlagBits: Int64 = 0, vaHole: Range<UInt64> = 0..<0
    ) {
        self.name = name
        self.elfClass = elfClass
        self.endian = endian
        self.machine = machine
        self.trapDistance = trapDistance
        self.vmMinAddress = vmMinAddress
        self.vmMaxUserAddress = vmMaxUserAddress
        self.pageSize = pageSize
        self.outOfRangeSkipsPinCheck = outOfRangeSkipsPinCheck
        self.syscallCodeWidth = syscallCodeWidth
        self.syscallFlagBits = syscallFlagBits
        self.vaHole = vaHole
    }

    /// The system-call number the kernel judges when a step puts `register` in the trap register:
    /// the MD handler's `code` (R-PC-1 and pin_check see this value, D-SYSNO-WIDTH).
    public func syscallCode(_ register: Int64) -> Int64 {
        let r = register & ~syscallFlagBits
        switch syscallCodeWidth {
        case .register64: return r
        case .int32: return Int64(Int32(truncatingIfNeeded: r))
        case .uint32: return Int64(UInt32(truncatingIfNeeded: r))
        }
    }

    /// Pointer width in bytes (R-ARCH-2).
    public var pointerBytes: Int { elfClass == .elf32 ? 4 : 8 }
    /// All-ones in pointer width: address arithmetic wraps modulo 2^(8·pointerBytes).
    public var addressMask: UInt64 { elfClass == .elf32 ? 0xFFFF_FFFF : .max }
    /// sizeof(struct __kbind) (§2.3).
    public var kbindHeaderSize: Int { 2 * pointerBytes }
    /// KBIND_BLOCK_MAX × sizeof(__kbind) + KBIND_DATA_MAX (§2.3).
    public var kbindParamMax: Int { Kbind.blockMax * kbindHeaderSize + Kbind.dataMax }

    // Values from sys/arch/*/include/{exec,vmparam,param}.h and the MD syscall handlers; see
    // docs/decisions.md (D-ARCH). sparc64's D is 0: its saved pc stays on the trap instruction.
    public static let amd64 = Arch(
        name: "amd64", elfClass: .elf64, endian: .little, machine: 62, trapDistance: 2,
        vmMinAddress: 0x1000, vmMaxUserAddress: 0x7f7f_ffff_c000, pageSize: 4096,
        outOfRangeSkipsPinCheck: true)
    public static let i386 = Arch(
        name: "i386", elfClass: .elf32, endian: .little, machine: 3, trapDistance: 2,
        vmMinAddress: 0x1000, vmMaxUserAddress: 0xcf7f_e000, pageSize: 4096,
        outOfRangeSkipsPinCheck: false, syscallCodeWidth: .int32)
    public static let arm64 = Arch(
        name: "arm64", elfClass: .elf64, endian: .little, machine: 183, trapDistance: 12,
        vmMinAddress: 0x1000, vmMaxUserAddress: 0x7f_ffff_8000, pageSize: 4096,
        outOfRangeSkipsPinCheck: true, syscallCodeWidth: .int32)
    public static let armv7 = Arch(
        name: "armv7", elfClass: .elf32, endian: .little, machine: 40, trapDistance: 12,
        vmMinAddress: 0x1000, vmMaxUserAddress: 0xc000_0000, pageSize: 4096,
        outOfRangeSkipsPinCheck: false, syscallCodeWidth: .int32)
    public static let riscv64 = Arch(
        name: "riscv64", elfClass: .elf64, endian: .little, machine: 243, trapDistance: 4,
        vmMinAddress: 0x1000, vmMaxUserAddress: 0x40_0000_0000, pageSize: 4096,
        outOfRangeSkipsPinCheck: true, syscallCodeWidth: .int32)
    public static let powerpc64 = Arch(
        name: "powerpc64", elfClass: .elf64, endian: .big, machine: 21, trapDistance: 4,
        vmMinAddress: 0x1000, vmMaxUserAddress: 0xbfff_ffff_ffff_f000, pageSize: 4096,
        outOfRangeSkipsPinCheck: true, syscallCodeWidth: .int32)
    public static let powerpc = Arch(
        name: "powerpc", elfClass: .elf32, endian: .big, machine: 20, trapDistance: 4,
        vmMinAddress: 0x1000, vmMaxUserAddress: 0xffff_f000, pageSize: 4096,
        outOfRangeSkipsPinCheck: true, syscallCodeWidth: .int32)
    public static let sparc64 = Arch(
        name: "sparc64", elfClass: .elf64, endian: .big, machine: 43, trapDistance: 0,
        vmMinAddress: 0x2000, vmMaxUserAddress: 0xffff_ffff_ffff_e000, pageSize: 8192,
        outOfRangeSkipsPinCheck: true, syscallFlagBits: 0x400, vaHole: 0x400_0000_0000..<0xffff_fc00_0000_0000)
    public static let mips64 = Arch(
        name: "mips64", elfClass: .elf64, endian: .big, machine: 8, trapDistance: 4,
        vmMinAddress: 0x4000, vmMaxUserAddress: 0x100_0000_0000, pageSize: 16384,
        outOfRangeSkipsPinCheck: false, syscallCodeWidth: .uint32)
    public static let mips64el = Arch(
        name: "mips64el", elfClass: .elf64, endian: .little, machine: 8, trapDistance: 4,
        vmMinAddress: 0x4000, vmMaxUserAddress: 0x100_0000_0000, pageSize: 16384,
        outOfRangeSkipsPinCheck: false, syscallCodeWidth: .uint32)

    public static let all: [Arch] = [
        .amd64, .i386, .arm64, .armv7, .riscv64, .powerpc64, .powerpc, .sparc64, .mips64, .mips64el,
    ]

    /// OpenBSD port names accepted as input for a canonical arch (SPEC §3); output always uses
    /// the canonical name.
    public static let aliases: [(alias: String, arch: Arch)] = [("octeon", .mips64), ("loongson", .mips64el)]

    /// Every name `named` accepts: the canonical names, then the aliases.
    public static var acceptedNames: [String] { all.map(\.name) + aliases.map(\.alias) }

    /// The arch with this canonical name or alias.
    public static func named(_ name: String) -> Arch? {
        all.first { $0.name == name } ?? aliases.first { $0.alias == name }?.arch
    }

    /// The arch whose e_machine and byte order match, if any (CONTRACT: EI_CLASS takes no part).
    public static func matching(machine: UInt16, endian: Endian) -> Arch? {
        all.first { $0.machine == machine && $0.endian == endian }
    }
}

/// Kernel-wide parameters the SPEC asks to keep adjustable.
public struct KernelConfig: Hashable, Sendable {
    /// SYS_MAXSYSCALL: one past the last system-call number (§2.2).
    public var maxSyscall: UInt32
    /// MAXPATHLEN (R-ELF-9).
    public var maxPathLen: UInt64
    /// ELF_RANDOMIZE_LIMIT (R-ELF-15, R-ELF-22).
    public var randomizeLimit: UInt64
    /// R-PT-16: whether a static program starts with the pinsyscalls once-flag set. SPEC (and
    /// pinsyscalls(2)) say yes; the kernel source read suggests the flag is set on the old map
    /// and lost at uvmspace_exec (docs/decisions.md, D-ONCE). Default: SPEC.
    public var staticProgramsStartPinned: Bool

    public init(
        maxSyscall: UInt32 = 331, maxPathLen: UInt64 = 1024, randomizeLimit: UInt64 = 1024 * 1024,
        staticProgramsStartPinned: Bool = true
    ) {
        self.maxSyscall = maxSyscall
        self.maxPathLen = maxPathLen
        self.randomizeLimit = randomizeLimit
        self.staticProgramsStartPinned = staticProgramsStartPinned
    }

    public static let openbsd = KernelConfig()

    /// R-PT-1: the largest PT_OPENBSD_SYSCALLS p_filesz accepted (two 8-byte entries per number).
    public var maxPinTableBytes: UInt64 { UInt64(maxSyscall) * 2 * 8 }
}

/// System-call numbers the rules name (§2.2).
public enum Sysno {
    public static let exit: UInt32 = 1
    public static let execve: UInt32 = 59
    public static let kbind: UInt32 = 86
    public static let sigreturn: UInt32 = 103
    public static let pinsyscalls: UInt32 = 158
}
