import Foundation

/// Paths inside the repository, found from this file's location (Tests/SysPinCoreTests/).
enum Repo {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    /// Regular files directly inside `relative`, sorted; empty when the folder does not exist.
    /// `Corpus/…` folders come from $SYSPIN_CORPUS_ROOT when it is set (`ci/coverage --corpus-root`
    /// measures another corpus, e.g. one engine's, through the same replay).
    static func files(in relative: String) -> [URL] {
        var dir = url(relative)
        if relative.hasPrefix("Corpus/"), let other = ProcessInfo.processInfo.environment["SYSPIN_CORPUS_ROOT"] {
            dir = URL(fileURLWithPath: other).appendingPathComponent(String(relative.dropFirst("Corpus/".count)))
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        // Dot-files are temporaries of an interrupted atomic write, never corpus entries.
        return names.sorted().filter { !$0.hasPrefix(".") }.map { dir.appendingPathComponent($0) }.filter {
            var isDir: ObjCBool = false
            return FileManager.default.fileExists(atPath: $0.path, isDirectory: &isDir) && !isDir.boolValue
        }
    }

    /// The `syspin` executable of the build the tests run in (SwiftPM puts it beside the test
    /// bundle).
    static var syspinBinary: URL? {
        var candidates: [URL] = []
        if let exe = Bundle.main.executableURL { candidates.append(exe.deletingLastPathComponent()) }
        candidates.append(Bundle.main.bundleURL)
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent())
        candidates.append(url(".build/debug"))
        for dir in candidates {
            let u = dir.appendingPathComponent("syspin")
            if FileManager.default.isExecutableFile(atPath: u.path) { return u }
        }
        return nil
    }
}
