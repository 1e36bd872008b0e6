/// A half-open address range [start, end); empty when end ≤ start.
public struct RefSpan: Equatable, Sendable, CustomStringConvertible {
    public var start: UInt64
    public var end: UInt64
    public init(start: UInt64, end: UInt64) {
        self.start = start
        self.end = end
    }

    public func contains(_ a: UInt64) -> Bool { start <= a && a < end }

    public var description: String { "[0x\(String(start, radix: 16)), 0x\(String(end, radix: 16)))" }
}

/// The two region policies of docs/decisions.md: a call is judged only by where its trap
/// instruction lies; its number and the pins are never read.
public enum RefRegionPolicies {
    /// D-MSYSCALL: the syscall-permitted text is the process's own pin regions: the main one (the
    /// program's, R-PT-11, or ld.so's, R-PT-12) and libc's registered one (R-PIN-9).
    /// D-LIBSYS: libsys's text, and the main region only when it is ld.so's (a dynamic program);
    /// never the program's own region, never libc's.
    /// Both: outside that text the trampoline rule stays (R-PC-5: sigreturn only); anything else
    /// is killed: SIGSEGV with EPERM (D-MSYSCALL) or SIGABRT with ENOSYS (D-LIBSYS).
    public static func check(
        libc: RefTable?, main: RefTable?, libsys: RefSpan?, mainIsLdso: Bool, sigtramp: UInt64?, addr a: UInt64,
        code: Int64, policy: RefPolicy
    ) -> RefVerdict? {
        // The permitted spans, tested in place (no list built per check).
        if policy == .msyscall {
            if let l = libc, RefSpan(start: l.start, end: l.end).contains(a) { return nil }
            if let m = main, RefSpan(start: m.start, end: m.end).contains(a) { return nil }
        } else {
            if let s = libsys, s.contains(a) { return nil }
            if mainIsLdso, let m = main, RefSpan(start: m.start, end: m.end).contains(a) { return nil }
        }
        if let t = sigtramp, t == a {
            return code == Int64(RefConst.sysSigreturn) ? nil : .killed(RefSignal.SIGABRT, RefErrno.EPERM, "R-PC-5")
        }
        if policy == .msyscall { return .killed(RefSignal.SIGSEGV, RefErrno.EPERM, "D-MSYSCALL") }
        return .killed(RefSignal.SIGABRT, RefErrno.ENOSYS, "D-LIBSYS")
    }

    /// D-LIBSYS: libsys's text at `base`. The image must pass the interpreter loader's header
    /// checks (an ET_DYN image like libc); the span runs from the lowest executable, non-writable
    /// PT_LOAD's p_vaddr truncated to its p_align to the highest p_vaddr + p_memsz (R-LD-1's
    /// normalisation), both moved by `base`. nil when the image is unreadable or has no text.
    public static func libsysText(_ image: [UInt8], base: UInt64, arch: RefArch) -> RefSpan? {
        guard case .success(let img) = RefElf.readImage(image, arch: arch, loader: .interpreter) else { return nil }
        var low = UInt64.max
        var high: UInt64 = 0
        for p in img.phdrs where p.isText {
            low = min(low, RefBytes.trunc(p.vaddr, p.align))
            high = max(high, p.vaddr &+ p.memsz)
        }
        if low >= high { return nil }
        return RefSpan(start: (base &+ low) & arch.mask, end: (base &+ high) & arch.mask)
    }
}
