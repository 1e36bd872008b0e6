import PropertyBased
import SysPinGenerators
import Testing

// Shared by the Properties* suites: runs a property with `PropertyRunner` (fixed seeds unless
// SYSPIN_PROPERTY_RANDOM=1, see PropertySettings) and turns a counterexample into one issue that
// carries the case seed, the shrunk and the original value.

/// Checks `property` over `count` generated cases; nil from the property means the case holds.
func expectProperty<Value, S>(
    _ name: String, count: Int, regressions: [UInt64] = [], shrinkBudget: Int = 4000, _ generator: Generator<Value, S>,
    function: String = #function, sourceLocation: SourceLocation = #_sourceLocation, _ property: (Value) -> String?
) {
    let filter = function.split(separator: "(").first.map(String.init) ?? function
    switch PropertyRunner.check(
        name, count: count, regressions: regressions, testFilter: filter, shrinkBudget: shrinkBudget, generator: generator,
        property: property)
    {
    case .held(_, let summary):
        print("\(name): held for \(summary)")
    case .failed(let c):
        print(c.report)
        Issue.record(Comment(rawValue: c.report), sourceLocation: sourceLocation)
    }
}
