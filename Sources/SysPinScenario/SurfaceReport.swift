import SysPinCore

/// `syspin surface`: the table a person reads, and one JSON object per file.
public enum SurfaceReport {
    static func hex(_ v: UInt64) -> String { Hex.number(v) }

    /// One cell: where `r` accepts the number, and how many gadgets lie there.
    public static func cell(_ r: Reach) -> String {
        guard r.isReachable else { return "not reachable" }
        var parts: [String] = []
        if !r.spans.isEmpty { parts.append("any of \(r.spanBytes) B") }
        if !r.sites.isEmpty {
            let shown = r.sites.prefix(3).map(hex).joined(separator: ",") + (r.sites.count > 3 ? ",…" : "")
            parts.append((r.sites.count == 1 ? "site " : "\(r.sites.count) sites ") + shown)
        }
        return parts.joined(separator: " + ") + " · \(r.gadgets)g"
    }

    /// Numbers with the same reach under every policy share a row.
    static func groups(_ s: Surface) -> [(numbers: [Int], reaches: [Reach])] {
        var order: [[Reach]] = []
        var members: [[Reach]: [Int]] = [:]
        let count = s.policies.first?.reach.count ?? 0
        for n in 1..<max(count, 1) {
            let key = s.policies.map { $0.reach[n] }
            if members[key] == nil { order.append(key) }
            members[key, default: []].append(n)
        }
        // Single numbers first (by number), then the groups.
        return order.map { (members[$0]!, $0) }.sorted { a, b in
            (a.numbers.count > 3 ? 1 : 0, a.numbers[0]) < (b.numbers.count > 3 ? 1 : 0, b.numbers[0])
        }
    }

    /// "getpid(20)", "exit(1), write(4)", or "325 numbers: 2-3, 5-19, 21-57, …".
    static func label(_ numbers: [Int]) -> String {
        if numbers.count <= 3 { return numbers.map { SyscallNames.label(UInt32($0)) }.joined(separator: ", ") }
        var ranges: [String] = []
        var i = 0
        while i < numbers.count {
            var j = i
            while j + 1 < numbers.count && numbers[j + 1] == numbers[j] + 1 { j += 1 }
            ranges.append(i == j ? "\(numbers[i])" : "\(numbers[i])-\(numbers[j])")
            i = j + 1
        }
        return "\(numbers.count) numbers: " + ranges.prefix(3).joined(separator: ", ") + (ranges.count > 3 ? ", …" : "")
    }

    public static func text(_ s: Surface, file: String) -> String {
        var out: [String] = []
        var head = "\(file): \(s.arch.name), exec \(s.exec.resultWithNumber)"
        if let sig = s.exec.signal { head += ", killed by \(sig.name)" }
        if let r = s.exec.rule { head += " [\(r.rawValue)]" }
        if let d = s.execDetail { head += " — \(d)" }
        out.append(head)
        for r in s.trustRegions {
            out.append("  \(r.name) region \(r.span) (\(r.span.count) bytes)")
        }
        let trap = s.arch.trap
        let every = trap.alignment == 1 ? "every byte" : "every \(trap.alignment)-byte boundary"
        out.append("  trap `\(trap.assembly)` = \(Hex.encode(trap.bytes)), scanned at \(every) of the executable segments:")
        for e in s.executable {
            var line = "    \(e.image) \(e.span): \(e.gadgets.count) gadget\(e.gadgets.count == 1 ? "" : "s")"
            if !e.gadgets.isEmpty {
                line += " at " + e.gadgets.prefix(8).map(hex).joined(separator: " ") + (e.gadgets.count > 8 ? " …" : "")
            }
            out.append(line)
        }
        for n in s.notes { out.append("  note: \(n)") }
        out.append("")
        var table = [["system call"] + s.policies.map(\.policy.rawValue)]
        for g in groups(s) { table.append([label(g.numbers)] + g.reaches.map(cell)) }
        out += TextTable.render(table).map { "  " + $0 }
        out.append("  (any of N B: every address of N bytes of text; site: only that address; Ng: gadgets among them)")
        out.append("")
        out.append(
            "  usable (system call, gadget) pairs: "
                + s.policies.map { "\($0.policy.rawValue) \($0.pairs)" }.joined(separator: ", "))
        return out.joined(separator: "\n")
    }

    /// One line: the file, arch, exec verdict, regions, gadgets, and per policy the pair count
    /// and every reachable number (absent numbers are not reachable).
    public static func json(_ s: Surface, file: String) -> String {
        func spans(_ list: [TextSpan]) -> String { "[" + list.map { "[\(JSON.hex($0.start)), \(JSON.hex($0.end))]" }.joined(separator: ", ") + "]" }
        func addrs(_ list: [UInt64]) -> String { "[" + list.map(JSON.hex).joined(separator: ", ") + "]" }
        let regions = "[" + s.trustRegions.map { JSON.object([("name", JSON.string($0.name)), ("start", JSON.hex($0.span.start)), ("end", JSON.hex($0.span.end))]) }.joined(separator: ", ") + "]"
        let executable = "[" + s.executable.map {
            JSON.object([("image", JSON.string($0.image)), ("start", JSON.hex($0.span.start)), ("end", JSON.hex($0.span.end)), ("gadgets", addrs($0.gadgets))])
        }.joined(separator: ", ") + "]"
        let trap = s.arch.trap
        let policies = JSON.object(s.policies.map { p in
            let reach = p.reach.enumerated().filter { $0.element.isReachable }.map { n, r in
                (String(n), JSON.object([("spans", spans(r.spans)), ("sites", addrs(r.sites)), ("addresses", String(r.addressCount)), ("gadgets", String(r.gadgets))]))
            }
            return (p.policy.rawValue, JSON.object([("pairs", String(p.pairs)), ("syscalls", JSON.object(reach))]))
        })
        return JSON.object([
            ("file", JSON.string(file)), ("arch", JSON.string(s.arch.name)),
            ("exec", JSON.object([("result", JSON.string(s.exec.result)), ("signal", JSON.optional(s.exec.signal?.name)), ("rule", JSON.optional(s.exec.rule?.rawValue))])),
            ("regions", regions),
            ("trap", JSON.object([("assembly", JSON.string(trap.assembly)), ("bytes", JSON.string(Hex.encode(trap.bytes))), ("alignment", String(trap.alignment))])),
            ("executable", executable), ("policies", policies),
            ("notes", "[" + s.notes.map(JSON.string).joined(separator: ", ") + "]"),
        ])
    }
}
