import Foundation

/// Every fuzz input of `Corpus/<target>/` (its seeds and regressions included), read once: the
/// inputs FuzzReplay times and FuzzReplayLoop counts instructions over.
public func corpusInputs(_ target: String) -> [[UInt8]] {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    let dir = root.appendingPathComponent("Corpus/\(target)")
    var out: [[UInt8]] = []
    let walker = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: [.isRegularFileKey])
    while let url = walker?.nextObject() as? URL {
        // Scenario files (*.json, *.jsonl) are `syspin run` input, not fuzz input; dot-files are
        // temporaries of an interrupted write.
        let name = url.lastPathComponent
        guard !name.hasPrefix("."), !name.contains("."),
            (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true,
            let data = FileManager.default.contents(atPath: url.path)
        else { continue }
        out.append([UInt8](data))
    }
    return out
}
