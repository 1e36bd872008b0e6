import SysPinGenerators
import Testing

@Suite("property runner")
struct PropertyRunnerTests {
    /// A failing property is shrunk with at most `shrinkBudget` evaluations after the failing
    /// case: a costly property (the surface's brute force) reports its failure in bounded time.
    @Test("shrinking stops at the shrink budget")
    func shrinkBudget() throws {
        func evaluations(budget: Int?) -> (Int, PropertyOutcome<PinCheckCase>) {
            var n = 0
            // Fails on every case, so every shrink candidate fails too and only the budget ends it early.
            let property: (PinCheckCase) -> String? = { _ in
                n += 1
                return "fails"
            }
            let outcome = budget.map {
                PropertyRunner.check("shrink budget", count: 50, shrinkBudget: $0, generator: CallGen.checkCase(), property: property)
            } ?? PropertyRunner.check("shrink budget", count: 50, generator: CallGen.checkCase(), property: property)
            return (n, outcome)
        }
        let (capped, cappedOutcome) = evaluations(budget: 10)
        let (full, fullOutcome) = evaluations(budget: nil)
        guard case .failed(let c) = cappedOutcome, case .failed = fullOutcome else {
            Issue.record("a property that fails on every case did not fail")
            return
        }
        // The first case fails; then at most 10 shrink evaluations.
        #expect(c.caseIndex == 0)
        #expect(capped <= 1 + 10)
        #expect(full > capped, "the default budget shrinks further (\(full) evaluations against \(capped))")
    }
}
