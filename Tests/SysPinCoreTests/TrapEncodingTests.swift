import Foundation
import SysPinCore
import Testing

/// D-SURFACE: the trap pattern `syspin surface` scans for is what the assembler emits for the
/// instruction libc's stubs use, on every arch (sparc64 through ci/seeds/seedtool.py, since this
/// clang has no SPARC backend).
@Suite("D-SURFACE: trap encodings come from the assembler")
struct TrapEncodingTests {
    static let llvmBin = URL(fileURLWithPath: "/opt/swift/usr/bin")
    /// Clang's triple prefix per arch (ci/make-seeds' table).
    static let triples = [
        "amd64": "x86_64", "i386": "i386", "arm64": "aarch64", "armv7": "armv7", "riscv64": "riscv64",
        "powerpc64": "powerpc64", "powerpc": "powerpc", "mips64": "mips64", "mips64el": "mips64el",
    ]

    static func run(_ tool: URL, _ args: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = tool
        p.arguments = args
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: e, as: UTF8.self))
    }

    /// The .text bytes of an object file (llvm-objcopy -O binary).
    static func textBytes(_ object: URL, dir: URL) throws -> [UInt8] {
        let bin = dir.appendingPathComponent(object.lastPathComponent + ".bin")
        let (status, err) = try run(llvmBin.appendingPathComponent("llvm-objcopy"), ["-O", "binary", "--only-section=.text", object.path, bin.path])
        try #require(status == 0, "llvm-objcopy: \(err)")
        return [UInt8](try Data(contentsOf: bin))
    }

    @Test("Each arch's trap pattern equals the assembler's encoding of its trap instruction")
    func trapsFromAssembler() throws {
        let clang = Self.llvmBin.appendingPathComponent("clang")
        guard FileManager.default.isExecutableFile(atPath: clang.path) else {
            print("TrapEncodingTests: skipped: \(clang.path) is absent, no assembler to compare with")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("syspin-trap-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for arch in Arch.all {
            let trap = arch.trap
            let object = dir.appendingPathComponent("\(arch.name).o")
            let assembled: [UInt8]
            if let triple = Self.triples[arch.name] {
                let source = dir.appendingPathComponent("\(arch.name).s")
                try "\t.text\n\t\(trap.assembly)\n".write(to: source, atomically: true, encoding: .utf8)
                let (status, err) = try Self.run(clang, ["--target=\(triple)-unknown-openbsd", "-c", source.path, "-o", object.path])
                try #require(status == 0, "\(arch): clang: \(err)")
                assembled = try Self.textBytes(object, dir: dir)
            } else {
                #expect(arch.name == "sparc64")
                // seedtool's sparc64 stub: mov n, %g1; t 0; retl; nop. The trap is the second word.
                let source = dir.appendingPathComponent("sparc64.s")
                try ".text\nstub s, 00, 1\n".write(to: source, atomically: true, encoding: .utf8)
                let python = URL(fileURLWithPath: "/usr/bin/env")
                let (status, err) = try Self.run(python, ["python3", Repo.url("ci/seeds/seedtool.py").path, "sparc64-as", source.path, object.path])
                try #require(status == 0, "seedtool sparc64-as: \(err)")
                assembled = Array(try Self.textBytes(object, dir: dir).dropFirst(4).prefix(4))
                #expect(trap.assembly == "t 0", "the instruction sparc64.S writes")
            }
            #expect(assembled == trap.bytes, "\(arch): assembler \(Hex.encode(assembled)), scanner \(Hex.encode(trap.bytes))")
            #expect(trap.alignment == (["amd64", "i386"].contains(arch.name) ? 1 : arch.name == "riscv64" ? 2 : 4))
        }
    }
}
