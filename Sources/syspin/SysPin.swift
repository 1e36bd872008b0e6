import ArgumentParser
import Foundation
import SysPinCore
import SysPinFuzzing
import SysPinScenario

/// A failure of the command itself (unreadable file, bad scenario): one line on stderr, exit 2.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

@main
struct SysPin: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "syspin",
        abstract: "A model of OpenBSD's system-call pinning: exec verdicts, pin tables, pinsyscalls(2), kbind(2).",
        discussion: """
            Rules are those of SPEC.md (ids R-…); every verdict names the errno, the signal and the rule \
            that decided it. Exit status: 0 when the command did its job (whatever the verdicts), \
            1 when `replay` reproduced a broken invariant, 2 for usage or I/O errors.
            """,
        subcommands: [Inspect.self, Run.self, SurfaceCommand.self, Decode.self, Replay.self, Seeds.self]
    )

    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch let failure as CommandFailure {
            FileHandle.standardError.write(Data("syspin: \(failure.description)\n".utf8))
            Foundation.exit(2)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            // Usage errors: one line, exit 2 (CONTRACT.md).
            let message = message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            FileHandle.standardError.write(Data("syspin: \(message) (see 'syspin --help')\n".utf8))
            Foundation.exit(2)
        }
    }
}

struct ArchOption: ExpressibleByArgument {
    var arch: Arch
    init?(argument: String) {
        guard let a = Arch.named(argument) else { return nil }
        arch = a
    }
    static var allValueStrings: [String] { Arch.acceptedNames }
}

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Judge ELF images as execve(2) would and show their PT_OPENBSD_SYSCALLS pin tables.",
        discussion: """
            For each FILE (a directory stands for the files directly inside it, sorted), prints the exec \
            verdict (\"ok\" or the errno execve returns, with the SPEC rule that decided it), the header \
            and program headers, and the pin table as the kernel builds it for a load base of 0: each \
            pinned system call with the one address it must come from, or \"multi\" for the \
            multiple-sites marker that accepts any address in the region (R-PT-7). A table the kernel \
            would discard (R-PT-1..4) is reported with its rule; a dynamic program's own table, which \
            the kernel ignores (R-ELF-16), is marked as such.
            """)

    @Option(help: "Judge the images as this arch's kernel would (default: from e_machine, class and data; an unknown machine is ENOEXEC).")
    var arch: ArchOption?

    @Flag(help: "Print one JSON object per file and line (CONTRACT.md) instead of a report.")
    var json = false

    @Flag(help: "Judge the files as the interpreter loader judges ld.so (R-ELF-18..25, R-PT-12) instead of as the execve target.")
    var interpreter = false

    @Argument(help: "ELF files or directories of them.")
    var files: [String]

    func run() throws {
        var failures: [String] = []
        for path in try expand(files) {
            guard let data = FileManager.default.contents(atPath: path) else {
                failures.append("\(path): cannot read file")
                continue
            }
            let r = Inspector.inspect([UInt8](data), arch: arch?.arch, asInterpreter: interpreter)
            print(json ? InspectReport.json(r, file: path) : InspectReport.text(r, file: path) + "\n")
        }
        if let first = failures.first {
            for f in failures.dropLast() { FileHandle.standardError.write(Data("syspin: \(f)\n".utf8)) }
            throw CommandFailure(failures.count > 1 ? failures.last! : first)
        }
    }
}

/// The files FILE... stands for: a directory means the files directly inside it, sorted.
func expand(_ paths: [String]) throws -> [String] {
    var out: [String] = []
    for p in paths {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: p, isDirectory: &isDir) else {
            throw CommandFailure("\(p): no such file or directory")
        }
        if isDir.boolValue {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: p)) ?? []
            for n in names.sorted() {
                let full = (p as NSString).appendingPathComponent(n)
                var sub: ObjCBool = false
                if FileManager.default.fileExists(atPath: full, isDirectory: &sub), !sub.boolValue { out.append(full) }
            }
        } else {
            out.append(p)
        }
    }
    return out
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a process scenario (exec, then system calls) through the enforcement core.",
        discussion: """
            SCENARIO.json names the program (and optionally ld.so and libc), the signal trampoline, \
            writable memory and a list of steps: system calls made from given trap-instruction \
            addresses, some of them pinsyscalls(2) or kbind(2) calls with arguments (CONTRACT.md). \
            Each step first passes the pin check (libc region, then the program's or ld.so's region, \
            then the trampoline). Output: the exec verdict, then one line per step with the result \
            (ok, the errno, \"killed\", or \"dead\" after the process was killed), the signal and the \
            SPEC rule; kbind steps also list the bytes written. A from_libc submission that ld.so \
            itself would refuse to make (R-LD-4) is reported as \"skipped\".

            --policy openbsd (the default) is the kernel's check: a system call whose slot holds the \
            multiple-sites marker is accepted from any address in the region (R-PC-8). --policy strict \
            accepts such a call only from a site the table recorded (at most two probes per check); its \
            kills inside a region name rule D-STRICT. A pinsyscalls submission carries sites only when built \
            \"from_libc\", so under strict the marker slots of a raw pins[] submission accept nothing.

            Two region-granular designs judge a call by where it comes from, whatever its number: \
            --policy msyscall is OpenBSD 6.7-7.3's msyscall(2) era (the program's or ld.so's text and \
            libc's registered region accept any call; elsewhere EPERM and SIGSEGV, rule D-MSYSCALL); \
            --policy libsys models FreeBSD's libsys proposal (only the text of the scenario's \"libsys\" \
            image and of ld.so accept calls, never the program's own text; rule D-LIBSYS). The \
            trampoline rule (only sigreturn, R-PC-5) holds under every policy.

            --compare-policies runs the scenario under all four and prints one table: each event's \
            outcome under each policy (with --json, one object per event with a \"policies\" object).
            """)

    @Flag(help: "Print one JSON object per line (CONTRACT.md) instead of a readable log.")
    var json = false

    @Option(help: "The pin check: openbsd (the kernel's, default), strict (marker slots accept only recorded sites), msyscall (any call from trusted text) or libsys (only from libsys's and ld.so's text).")
    var policy: PolicyOption = PolicyOption(policy: .openbsd)

    @Flag(help: "Run the scenario under every policy and print each event's outcome side by side (ignores --policy).")
    var comparePolicies = false

    @Argument(help: "The scenario file.")
    var scenario: String

    func run() throws {
        guard let data = FileManager.default.contents(atPath: scenario) else {
            throw CommandFailure("\(scenario): cannot read file")
        }
        let runs: [(policy: PinPolicy, events: [RunEvent])]
        do {
            let s = try Scenario.decode(data, file: scenario)
            let dir = URL(fileURLWithPath: scenario).deletingLastPathComponent()
            runs =
                comparePolicies
                ? try ScenarioRunner.compare(s, file: scenario, baseDirectory: dir)
                : [(policy.policy, try ScenarioRunner.run(s, file: scenario, baseDirectory: dir, policy: policy.policy))]
        } catch {
            throw CommandFailure(error.description)
        }
        if comparePolicies {
            print(json ? CompareReport.json(runs).joined(separator: "\n") : CompareReport.text(runs))
        } else {
            for e in runs[0].events { print(json ? RunReport.json(e) : RunReport.text(e)) }
        }
    }
}

struct PolicyOption: ExpressibleByArgument {
    var policy: PinPolicy
    init(policy: PinPolicy) { self.policy = policy }
    init?(argument: String) {
        guard let p = PinPolicy(rawValue: argument) else { return nil }
        policy = p
    }
    var defaultValueDescription: String { policy.rawValue }
    static var allValueStrings: [String] { PinPolicy.allCases.map(\.rawValue) }
}

struct TargetOption: ExpressibleByArgument {
    var name: String
    init?(argument: String) {
        guard FuzzTargets.entry(named: argument) != nil else { return nil }
        name = argument
    }
    static var allValueStrings: [String] { FuzzTargets.all.map(\.name) }
}

/// The fuzz input `decode` and `replay` take.
struct FuzzInputOptions: ParsableArguments {
    @Option(help: "The fuzz target whose input format FILE is in.")
    var target: TargetOption

    @Argument(help: "The input file.")
    var file: String
}

func readInput(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw CommandFailure("\(path): cannot read file")
    }
    return [UInt8](data)
}

struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what a fuzz target decodes an input file into, and what the core decided.",
        discussion: """
            For anyone holding a fuzz input (a seed, a crash artifact, a regression): prints the \
            decoded view (ELF header and program headers, pin table, pinsyscalls arguments, kbind \
            blocks, scenario steps) and the verdicts, without checking invariants.
            """)

    @OptionGroup var input: FuzzInputOptions

    func run() throws {
        let bytes = try readInput(input.file)
        print(FuzzDescribe.describe(target: input.target.name, bytes) ?? FuzzDescribe.hexDump(bytes))
    }
}

struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a fuzz input through its target's invariants in this (plain) build.",
        discussion: """
            The same entry function libFuzzer calls, without sanitizers. Exit 1 and the invariant \
            id and message when an invariant breaks; 0 when the input passes.
            """)

    @OptionGroup var input: FuzzInputOptions

    func run() throws {
        let bytes = try readInput(input.file)
        let (file, target) = (input.file, input.target.name)
        do {
            try FuzzTargets.entry(named: target)!(bytes)
            print("\(file): \(target): all invariants hold")
        } catch {
            print("\(file): \(target): \(error.id): \(error.message)")
            throw ExitCode(1)
        }
    }
}
