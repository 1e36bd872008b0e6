import ArgumentParser
import Foundation
import SysPinCore
import SysPinScenario

struct SurfaceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "surface",
        abstract: "What an attacker who controls the program counter can still reach, under each pinning design.",
        discussion: """
            Each FILE is a program, execve'd as `run` would (ET_DYN programs at 0x20000000; with \
            --ldso at 0x40000000; --libc at 0x50000000, registered by ld.so's pinsyscalls(2) \
            submission; --libsys at 0x60000000). For every system-call number, under each policy, it \
            prints the set of trap addresses the pin check accepts: "not reachable"; "site A" (exactly \
            the recorded site, listed); or "any of N B" (every address of N bytes of text: the \
            multiple-sites marker under openbsd, R-PC-8, and every number under msyscall and libsys).

            It also scans every executable segment for the arch's trap instruction (amd64 0f05, \
            i386 cd80: at every byte, so a trap hidden inside other instructions counts; riscv64 at \
            every 2 bytes (RVC); other arches at 4) and counts, per number and policy, the gadgets \
            that would be accepted ("Ng"). The last line is the headline: for each policy, the number \
            of (system call, usable gadget) pairs. Under openbsd those are the multiple-sites weakness \
            measured on a real image; strict leaves only the recorded sites; msyscall accepts every \
            number at every gadget in trusted text; libsys trusts libsys's and ld.so's text only.

            The policies (see `syspin run --help`): openbsd, the kernel's pin check; strict, only \
            the (number, site) pairs the tables recorded; msyscall, OpenBSD 6.7-7.3's design (any \
            number from the program's or ld.so's text or libc's registered region); libsys, a model \
            of FreeBSD's libsys proposal (any number, only from libsys's and ld.so's text, never \
            from the program's own). No signal trampoline is assumed.

            Exit status 0 whatever the verdicts (an exec failure makes everything unreachable and is \
            printed); 2 with one line naming the file when a file cannot be read.
            """)

    @Option(help: "Judge the images as this arch's (default: from the program's e_machine, class and data).")
    var arch: ArchOption?

    @Flag(help: "Print one JSON object per file and line: regions, gadgets, and per policy the pair count and the reach of every reachable number.")
    var json = false

    @Option(help: "The runtime linker (needed by a program with PT_INTERP).")
    var ldso: String?

    @Option(help: "The libc.so ld.so registers with pinsyscalls(2) (dynamic programs only).")
    var libc: String?

    @Option(help: "The library whose text the libsys policy trusts.")
    var libsys: String?

    @Argument(help: "Programs (ELF files, or directories of them).")
    var files: [String]

    func run() throws {
        let extra = SurfaceImages(
            program: [], ldso: try ldso.map(readInput), libc: try libc.map(readInput), libsys: try libsys.map(readInput))
        for path in try expand(files) {
            var images = extra
            images.program = try readInput(path)
            let s: Surface
            switch arch.map({ Result<Arch, ExecRejection>.success($0.arch) }) ?? ExecRules.inferArch(images.program) {
            case .success(let a):
                s = SurfaceAnalysis.analyse(images, arch: a)
            case .failure(let r):
                print(json ? JSON.object([("file", JSON.string(path)), ("arch", "null"), ("exec", JSON.object([("result", JSON.string(r.errno.name)), ("signal", "null"), ("rule", JSON.string(r.rule.rawValue))]))]) : "\(path): exec \(r)\n")
                continue
            }
            print(json ? SurfaceReport.json(s, file: path) : SurfaceReport.text(s, file: path) + "\n")
        }
    }
}
