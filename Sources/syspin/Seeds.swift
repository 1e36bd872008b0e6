import ArgumentParser
import Foundation
import SysPinFuzzing

struct Seeds: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the hand-made seed inputs of the structured fuzz targets.",
        discussion: """
            Each seed is an input value listed in Swift beside its target's decoder \
            (Sources/SysPinFuzzing/<Target>+Seeds.swift) and turned into bytes by the target's encoder \
            (<Target>+Encode.swift; a test checks that decoding gives the value back and that every \
            seed's file is shipped). Paths are relative to the current folder (run it from the \
            repository root). Files are named by the SHA-1 of their content and \
            written atomically (a temporary file in DIR, then a rename); only missing files are \
            added, nothing is removed, so running it twice changes nothing. FuzzPintable's seeds \
            come from the linker-made images of --manifest (ci/make-seeds). Targets: \
            \(FuzzSeeds.targets.joined(separator: ", ")). ci/make-seeds runs it for all of them.
            """)

    @Option(help: "The target whose seeds to write, or 'all'.")
    var target: String = "all"

    @Option(help: "The folder to write into (default: Corpus/<target>/seeds; only with one --target).")
    var out: String?

    @Option(help: "The linker-seed manifest FuzzPintable's seeds are derived from.")
    var manifest: String = "Corpus/manifests/linker-seeds.json"

    @Flag(help: "Print each seed's SHA-1 and what it exercises instead of writing files.")
    var list = false

    func validate() throws {
        if target != "all" && !FuzzSeeds.targets.contains(target) {
            throw ValidationError("no seed list for target '\(target)' (targets: \(FuzzSeeds.targets.joined(separator: ", ")))")
        }
        if out != nil && target == "all" { throw ValidationError("--out needs one --target") }
    }

    func run() throws {
        let images = try linkerImages()
        for t in target == "all" ? FuzzSeeds.targets : [target] {
            let seeds = FuzzSeeds.seeds(target: t, images: images)!
            let dir = out ?? "Corpus/\(t)/seeds"
            var written = 0
            if !list { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
            for s in seeds {
                let sha = SHA1.hex(s.bytes)
                if list {
                    print("\(t) \(sha) \(s.name)")
                    continue
                }
                let path = "\(dir)/\(sha)"
                if FileManager.default.fileExists(atPath: path) { continue }
                let tmp = "\(dir)/.\(sha).\(getpid()).tmp"
                guard FileManager.default.createFile(atPath: tmp, contents: Data(s.bytes)), rename(tmp, path) == 0 else {
                    try? FileManager.default.removeItem(atPath: tmp)
                    throw CommandFailure("\(path): cannot write")
                }
                written += 1
            }
            if !list { print("\(t): \(seeds.count) seeds, \(written) written to \(dir)") }
        }
    }

    /// Corpus/manifests/linker-seeds.json: [{arch, kind, entries: [[offset, sysno]], …}].
    func linkerImages() throws -> [FuzzPintable.LinkerImage] {
        guard target == "all" || target == "FuzzPintable" else { return [] }
        guard let data = FileManager.default.contents(atPath: manifest),
            let list = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]]
        else { throw CommandFailure("\(manifest): cannot read the linker-seed manifest") }
        guard let images = FuzzPintable.LinkerImage.list(manifest: list) else {
            throw CommandFailure("\(manifest): an entry without arch, kind or entries")
        }
        return images
    }
}
