/// The hand-made seed inputs of the structured targets, listed as input values in
/// `<Target>+Seeds.swift` and written by the target's encoder (`<Target>+Encode.swift`):
/// `syspin seeds` stores them as Corpus/<target>/seeds/<sha1>, and a
/// test checks that decode(encode(seed)) == seed and that every file is there.
public enum FuzzSeeds {
    /// The targets with a seed list here (FuzzELF's seeds are ci/make-seeds' linker-made images).
    public static let targets = ["FuzzPintable", "FuzzPinsyscalls", "FuzzKbind", "FuzzScenario"]

    /// The seeds of `target`, named by what each one exercises; nil for a target without a list.
    /// FuzzPintable's are derived from the linker-made images (`images`).
    public static func seeds(target: String, images: [FuzzPintable.LinkerImage] = []) -> [(name: String, bytes: [UInt8])]? {
        switch target {
        case "FuzzPintable": return FuzzPintable.seeds(images: images).map { ($0.name, FuzzPintable.encode($0.input)) }
        case "FuzzPinsyscalls": return FuzzPinsyscalls.seeds().map { ($0.name, FuzzPinsyscalls.encode($0.input)) }
        case "FuzzKbind": return FuzzKbind.seeds().map { ($0.name, FuzzKbind.encode($0.input)) }
        case "FuzzScenario": return FuzzScenario.seeds().map { ($0.name, FuzzScenario.encode($0.input)) }
        default: return nil
        }
    }
}
