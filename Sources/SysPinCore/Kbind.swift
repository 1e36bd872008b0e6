/// User memory kbind may write (the scenario's `mappings`): [start, end) ranges, writable or not.
public struct MemoryMapping: Hashable, Sendable {
    public var start: UInt64
    public var end: UInt64
    public var writable: Bool
    public init(start: UInt64, end: UInt64, writable: Bool) {
        self.start = start
        self.end = end
        self.writable = writable
    }
}

/// One piece kbind stored: `bytes` at `address`. A piece lies inside one block's data, so its
/// at most `Kbind.dataMax` bytes are held inline (a write allocates nothing).
public struct KbindWrite: Hashable, Sendable {
    public var address: UInt64
    /// The bytes; those past `count` stay zero (so the synthesized equality compares the bytes).
    private var storage = KbindData()
    private var count = 0

    /// `bytes` is at most `Kbind.dataMax` long (a piece of one block).
    public init(address: UInt64, bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count <= Kbind.dataMax, "a kbind piece is at most KBIND_DATA_MAX bytes")
        self.address = address
        withUnsafeMutableBytes(of: &storage) { dst in
            if let src = bytes.baseAddress, !bytes.isEmpty { dst.baseAddress!.copyMemory(from: src, byteCount: bytes.count) }
        }
        count = bytes.count
    }

    /// `count` bytes of `block`'s data from `from`; the range lies inside the block's data.
    init(address: UInt64, block: KbindBlock, from: Int, count: Int) {
        precondition(from >= 0 && count >= 0 && from + count <= Int(block.size))
        self = withUnsafeBytes(of: block.storage) {
            KbindWrite(address: address, bytes: UnsafeRawBufferPointer(rebasing: $0[from..<(from + count)]))
        }
    }

    /// The bytes stored (a copy).
    public var bytes: [UInt8] { withUnsafeBytes(of: storage) { Array($0.prefix(count)) } }

    /// True when the bytes stored are `other` (compared in place, no copy).
    public func hasBytes(_ other: ArraySlice<UInt8>) -> Bool {
        other.count == count && other.withUnsafeBytes { o in withUnsafeBytes(of: storage) { $0.prefix(count).elementsEqual(o) } }
    }
}

/// One block of a kbind parameter buffer: a `struct __kbind` header and its data (R-KB-9). The
/// data (at most `Kbind.dataMax` bytes, R-KB-7) is held inline, so a parse allocates nothing.
public struct KbindBlock: Hashable, Sendable {
    public var addr: UInt64
    public var size: UInt64
    /// The data bytes; those past `size` stay zero.
    var storage = KbindData()

    init(addr: UInt64, size: UInt64) {
        self.addr = addr
        self.size = size
    }

    /// True when the block's `size` data bytes are `bytes` (compared in place, no copy).
    public func hasData(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.count == Int(size) && bytes.withUnsafeBytes { b in withUnsafeBytes(of: storage) { $0.prefix(Int(size)).elementsEqual(b) } }
    }
}

/// Up to `Kbind.dataMax` (24) bytes, inline.
struct KbindData: Hashable, Sendable {
    var w0: UInt64 = 0
    var w1: UInt64 = 0
    var w2: UInt64 = 0

    /// Copies `count` ≤ 24 bytes of `buf` at `at`; the caller has checked that they lie inside it.
    mutating func load(_ buf: [UInt8], at: Int, count: Int) {
        precondition(count <= MemoryLayout<Self>.size && at >= 0 && at + count <= buf.count)
        withUnsafeMutableBytes(of: &self) { dst in
            buf.withUnsafeBytes { src in
                if count > 0 { dst.baseAddress!.copyMemory(from: src.baseAddress! + at, byteCount: count) }
            }
        }
    }
}

/// The blocks of a kbind parameter buffer, in order: at most `Kbind.blockMax` (2, R-KB-7), inline.
public struct KbindBlocks: RandomAccessCollection, Hashable, Sendable {
    private var first = KbindBlock(addr: 0, size: 0)
    private var second = KbindBlock(addr: 0, size: 0)
    public private(set) var count = 0

    public init() {}

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(position: Int) -> KbindBlock {
        precondition(position >= 0 && position < count)
        return position == 0 ? first : second
    }

    /// Adds a block; there is room for `Kbind.blockMax` (the kernel's on-stack array).
    mutating func append(_ block: KbindBlock) {
        precondition(count < Kbind.blockMax, "more than KBIND_BLOCK_MAX blocks")
        if count == 0 { first = block } else { second = block }
        count += 1
    }

    /// Fills block `i`'s data from `buf` at `at`.
    mutating func loadData(_ i: Int, from buf: [UInt8], at: Int) {
        precondition(i >= 0 && i < count)
        if i == 0 {
            first.storage.load(buf, at: at, count: Int(first.size))
        } else {
            second.storage.load(buf, at: at, count: Int(second.size))
        }
    }
}

/// kbind's per-process state (§8): the raw pc it is bound to (0 unbound, BOGO_PC disabled).
public struct KbindState: Hashable, Sendable {
    public var pc: UInt64 = 0
    public var cookie: UInt64 = 0
    public init(pc: UInt64 = 0, cookie: UInt64 = 0) {
        self.pc = pc
        self.cookie = cookie
    }
}

/// A decoded kbind parameter buffer, or the verdict that rejects it.
public enum KbindParse: Hashable, Sendable {
    case blocks(KbindBlocks)
    case rejected(Verdict)
}

public enum Kbind {
    public static let blockMax = 2
    public static let dataMax = 24

    /// BOGO_PC. Decision (SPEC §11 item 1): (u_long)-1, all-ones in pointer width, as
    /// sys/uvm/uvm_mmap.c defines it; see docs/decisions.md.
    public static func bogoPC(_ arch: Arch) -> UInt64 { arch.addressMask }

    /// R-KB-5..9: decode and validate a parameter buffer of `psize` bytes. psize is a size_t: on
    /// ILP32 arches the kernel sees its low 32 bits (R-ARCH-2), as pinsyscalls' len.
    public static func parse(_ buf: [UInt8], psize: UInt64, arch: Arch) -> KbindParse {
        let psize = psize & arch.addressMask
        let h = UInt64(arch.kbindHeaderSize)
        if psize < h || psize > UInt64(arch.kbindParamMax) { return .rejected(.fail(.EINVAL, "R-KB-5")) }
        if UInt64(buf.count) < psize { return .rejected(.fail(.EFAULT, "R-KB-6")) }
        // Every read below lies inside the first psize bytes (each is bounded by what is left of them).
        let v = ByteView(buf, endian: arch.endian)
        var s = psize
        var headers = KbindBlocks()
        while s > 0 && headers.count < blockMax {
            if s < h { return .rejected(.fail(.EINVAL, "R-KB-7")) }
            s -= h
            let at = UInt64(headers.count) * h
            let addr = v.uint(at, width: arch.pointerBytes)!
            let size = v.uint(at + UInt64(arch.pointerBytes), width: arch.pointerBytes)!
            let limit = arch.vmMaxUserAddress
            if addr == 0 || size == 0 || size > UInt64(dataMax) || addr >= limit
                || ((addr &+ size &- 1) & arch.addressMask) >= limit || s < size
            {
                return .rejected(.fail(.EINVAL, "R-KB-7"))
            }
            s -= size
            headers.append(KbindBlock(addr: addr, size: size))
        }
        if s > 0 { return .rejected(.fail(.EINVAL, "R-KB-8")) }
        // R-KB-9: data follows the last header, concatenated in block order.
        var at = UInt64(headers.count) * h
        for i in headers.indices {
            headers.loadData(i, from: buf, at: Int(at))
            at += headers[i].size
        }
        return .blocks(headers)
    }

    /// sys_kbind after the pin check passed. `addr` is the trap instruction's address; the kernel
    /// binds the raw pc, which is addr + D (CONTRACT: comparing either is equivalent).
    /// `param` nil is a NULL pointer. Returns the verdict and the pieces written, in order.
    public static func call(
        state: inout KbindState, addr: UInt64, param: [UInt8]?, psize: UInt64, cookie: UInt64,
        mappings: [MemoryMapping], arch: Arch, config: KernelConfig = .openbsd
    ) -> (Verdict, [KbindWrite]) {
        let bogo = bogoPC(arch)
        let pc = (addr &+ arch.trapDistance) & arch.addressMask
        guard let param else {
            // R-KB-1
            if state.pc == 0 {
                state.pc = bogo
                return (.ok, [])
            }
            if state.pc == bogo { return (.ok, []) }
            return (.killed(.SIGILL, nil, "R-KB-1"), [])
        }
        if state.pc == 0 {
            // R-KB-2: bound before validation, so the binding survives a failing first call.
            state.pc = pc
            state.cookie = cookie
        } else if pc != state.pc || pc == bogo || cookie != state.cookie {
            return (.killed(.SIGILL, nil, "R-KB-3"), [])
        }
        let blocks: KbindBlocks
        switch parse(param, psize: psize, arch: arch) {
        case .rejected(let v): return (v, [])
        case .blocks(let b): blocks = b
        }
        // R-KB-11/12: write block by block, split at page boundaries; stop at the first piece that
        // is not writable, keeping what was written.
        var writes: [KbindWrite] = []
        for b in blocks {
            var off: UInt64 = 0
            while off < b.size {
                let a = b.addr + off
                let pageEnd = (a / arch.pageSize + 1) * arch.pageSize
                let n = min(b.size - off, pageEnd - a)
                if let e = writeFault(a, n, mappings, arch: arch) { return (.fail(e, "R-KB-12"), writes) }
                writes.append(KbindWrite(address: a, block: b, from: Int(off), count: Int(n)))
                off += n
            }
        }
        return (.ok, writes)
    }

    /// Why the piece [a, a + n) cannot be written, or nil when it can (CONTRACT `mappings`):
    /// EINVAL when some byte lies outside every mapping (uvm_map_extract on an unmapped page),
    /// else EFAULT when some byte lies in a mapping with `"writable": false` (the copy faults on a
    /// maximum protection without write). docs/decisions.md D-KBIND-FAULT. A piece on a page below
    /// VM_MIN_ADDRESS is EINVAL whatever the mappings say: uvm_map_extract refuses a start below
    /// the map's minimum (D-KBIND-MIN), and a page in sparc64's MMU hole, where the map holds a
    /// hole entry (D-KBIND-HOLE).
    static func writeFault(_ a: UInt64, _ n: UInt64, _ mappings: [MemoryMapping], arch: Arch) -> OpenBSDErrno? {
        if a < arch.vmMinAddress { return .EINVAL }  // the piece's page starts below it too
        if arch.vaHole.contains(a) { return .EINVAL }  // a piece lies in one page; the hole is whole pages
        let end = a + n  // R-KB-7 keeps addr + size − 1 below VM_MAXUSER_ADDRESS
        var p = a
        while p < end {
            var reach = p
            for m in mappings where m.start <= p && p < m.end { reach = max(reach, m.end) }
            if reach == p { return .EINVAL }
            p = reach
        }
        if mappings.contains(where: { !$0.writable && $0.start < end && a < $0.end }) { return .EFAULT }
        return nil
    }
}
