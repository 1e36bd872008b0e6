import SysPinCore

/// Rows of left-aligned columns, each as wide as its widest cell, two spaces apart.
public enum TextTable {
    public static func render(_ rows: [[String]]) -> [String] {
        let columns = rows.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: columns)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        return rows.map { r in
            var line = ""
            for (i, c) in r.enumerated() {
                line += i == r.count - 1 ? c : c + String(repeating: " ", count: widths[i] - c.count + 2)
            }
            return line
        }
    }
}

/// `syspin run --compare-policies`: the same scenario under every policy, one row per event.
public enum CompareReport {
    /// The events of row `i` under each policy (nil where a run has fewer events).
    static func rows(_ runs: [(policy: PinPolicy, events: [RunEvent])]) -> [[RunEvent?]] {
        let n = runs.map(\.events.count).max() ?? 0
        return (0..<n).map { i in runs.map { i < $0.events.count ? $0.events[i] : nil } }
    }

    /// A table: the event, then its outcome under each policy.
    public static func text(_ runs: [(policy: PinPolicy, events: [RunEvent])]) -> String {
        var table = [["event"] + runs.map(\.policy.rawValue)]
        for row in rows(runs) {
            guard let first = row.compactMap({ $0 }).first else { continue }
            table.append([RunReport.label(first)] + row.map { $0.map(RunReport.outcomeText) ?? "-" })
        }
        return TextTable.render(table).joined(separator: "\n")
    }

    /// One JSON object per event: what `run --json` prints for it up to `result`, with the
    /// outcome under each policy in `policies` (null where that run stopped earlier).
    public static func json(_ runs: [(policy: PinPolicy, events: [RunEvent])]) -> [String] {
        rows(runs).compactMap { row -> String? in
            guard let first = row.compactMap({ $0 }).first else { return nil }
            var pairs: [(String, String)]
            switch first.kind {
            case .exec:
                pairs = [("event", JSON.string("exec"))]
            case .syscall(let step, let sysno, let addr, _):
                pairs = [("event", JSON.string("syscall")), ("step", String(step)), ("sysno", String(sysno)), ("addr", JSON.hex(addr))]
            }
            let policies = zip(runs, row).map { run, e in (run.policy.rawValue, e.map { JSON.object(RunReport.outcome($0)) } ?? "null") }
            pairs.append(("policies", JSON.object(policies)))
            return JSON.object(pairs)
        }
    }
}
