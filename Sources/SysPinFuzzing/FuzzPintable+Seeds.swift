import SysPinCore

extension FuzzPintable {
    /// One linker-made image's PT_OPENBSD_SYSCALLS entries, as Corpus/manifests/linker-seeds.json
    /// lists them (ci/make-seeds).
    public struct LinkerImage {
        public var arch: String
        public var shared: Bool
        public var entries: [(offset: UInt32, sysno: UInt32)]
        public init(arch: String, shared: Bool, entries: [(offset: UInt32, sysno: UInt32)]) {
            self.arch = arch
            self.shared = shared
            self.entries = entries
        }

        /// The manifest's records (its JSON as JSONSerialization reads it), nil when one lacks a field.
        public static func list(manifest: [[String: Any]]) -> [LinkerImage]? {
            var out: [LinkerImage] = []
            for m in manifest {
                guard let arch = m["arch"] as? String, let kind = m["kind"] as? String, let entries = m["entries"] as? [[Int]] else {
                    return nil
                }
                out.append(LinkerImage(arch: arch, shared: kind == "shared", entries: entries.map { (UInt32($0[0]), UInt32($0[1])) }))
            }
            return out
        }
    }

    /// The hand-made seeds: per linker-made image, its table as a static program's (delta 0) and
    /// as loaded at its first text page (ld.so's for a shared object), over a span 16 bytes past the
    /// last site; then the edges (an empty segment, an entry at offset == len, a sysno 0, a
    /// ragged length).
    static func seeds(images: [LinkerImage]) -> [(name: String, input: Input)] {
        var out: [(name: String, input: Input)] = []
        for m in images {
            guard let arch = Arch.all.first(where: { $0.name == m.arch }), let first = m.entries.map(\.offset).min(),
                let last = m.entries.map(\.offset).max()
            else { continue }
            let segment = m.entries.flatMap { arch.endian.encode(UInt64($0.offset), width: 4) + arch.endian.encode(UInt64($0.sysno), width: 4) }
            for (isLdso, delta) in [(false, UInt64(0)), (m.shared, UInt64(first) & ~0xFFF)] {
                out.append(
                    ("\(m.arch) \(m.shared ? "shared" : "program") table\(isLdso ? " as ld.so's" : "") delta 0x\(String(delta, radix: 16))",
                     Input(arch: arch, isLdso: isLdso, policy: .openbsd, bare: false, base: 0x7F000 << 12, len: UInt64(last) + 16,
                           delta: delta, segment: segment)))
            }
        }
        let le = Endian.little
        func edge(_ name: String, _ len: UInt64, _ segment: [UInt8]) -> (name: String, input: Input) {
            (name, Input(arch: .amd64, isLdso: false, policy: .openbsd, bare: false, base: 0x400 << 12, len: len, delta: 0, segment: segment))
        }
        out += [
            edge("an empty segment", 0, []),
            edge("one entry at offset == len (accepted, never matches)", 64, le.encode(64, width: 4) + le.encode(20, width: 4)),
            edge("an entry with sysno 0", 64, le.encode(16, width: 4) + le.encode(0, width: 4)),
            edge("a ragged segment (3 bytes)", 64, [0x10, 0, 0]),
        ]
        return out
    }
}
