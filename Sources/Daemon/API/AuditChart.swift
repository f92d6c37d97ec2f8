import Reports

/// The audit page's bar chart of daily deliveries, as inline SVG: one stacked bar per day (sent, dead, in doubt,
/// not yet settled), a y axis rounded up to 1, 2 or 5 × 10ⁿ, and a date under every fifth bar counted back from
/// the last.
///
/// Each day is a `<g class="bar">` carrying its counts as `data-` attributes and a `<title>` tooltip, also on days
/// with nothing sent, so a reader (or a test) finds exactly one bar per day.
struct AuditChart: Sendable {
    /// The days, oldest first.
    var days: [PeriodReport.DayRow]

    /// Pixels: the bar, the gap between bars, and the plot's margins and height.
    static let barWidth = 16
    static let gap = 8
    static let left = 44
    static let right = 12
    static let top = 12
    static let plotHeight = 160
    static let bottom = 28

    /// The fill of each stacked segment, bottom up.
    static let segments: [(name: String, color: String)] = [
        ("sent", "#2e7d32"), ("dead", "#c62828"), ("in_doubt", "#f9a825"), ("other", "#90a4ae"),
    ]

    /// The smallest 1, 2 or 5 × 10ⁿ at least `value` (at least 1).
    static func axisMaximum(_ value: Int) -> Int {
        var scale = 1
        while true {
            for step in [1, 2, 5] where step * scale >= value { return step * scale }
            scale *= 10
        }
    }

    /// The SVG element.
    var svg: String {
        let width = Self.left + days.count * (Self.barWidth + Self.gap) + Self.right
        let height = Self.top + Self.plotHeight + Self.bottom
        let maximum = Self.axisMaximum(days.map(\.deliveries).max() ?? 0)
        let baseline = Self.top + Self.plotHeight
        func y(_ value: Int) -> Double { Double(baseline) - Double(value) / Double(maximum) * Double(Self.plotHeight) }
        let label = "近\(days.count)日每日投递次数 Deliveries per day, last \(days.count) days"
        var out = """
            <svg id="chart" xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" \
            viewBox="0 0 \(width) \(height)" role="img" aria-label="\(AuditHTML.escape(label))">
            <title>\(AuditHTML.escape(label))</title>

            """
        for value in maximum >= 2 ? [0, maximum / 2, maximum] : [0, maximum] {
            let lineY = format(y(value))
            out += """
                <line x1="\(Self.left - 4)" y1="\(lineY)" x2="\(width - Self.right)" y2="\(lineY)" \
                stroke="#d8dee4" stroke-width="1"/>
                <text x="\(Self.left - 8)" y="\(lineY)" dy="4" text-anchor="end" font-size="11" \
                fill="#5f6b76">\(value)</text>

                """
        }
        for (index, day) in days.enumerated() {
            out += bar(day, at: Self.left + index * (Self.barWidth + Self.gap), y: y, isLast: index == days.count - 1)
            if (days.count - 1 - index) % 5 == 0 {
                let center = Self.left + index * (Self.barWidth + Self.gap) + Self.barWidth / 2
                out += """
                    <text x="\(center)" y="\(baseline + 18)" text-anchor="middle" font-size="11" \
                    fill="#5f6b76">\(AuditHTML.escape(day.date.dropFirst(5)))</text>

                    """
            }
        }
        return out + "</svg>"
    }

    /// One day's `<g>`: its tooltip and a rectangle per non-empty segment, stacked from the baseline.
    private func bar(_ day: PeriodReport.DayRow, at x: Int, y: (Int) -> Double, isLast: Bool) -> String {
        let other = max(0, day.deliveries - day.sent - day.dead - day.inDoubt)
        let values = [day.sent, day.dead, day.inDoubt, other]
        var tip = "\(day.date)：投递 \(day.deliveries) 次，成功 \(day.sent) 次，失败 \(day.dead) 次"
        if day.inDoubt > 0 { tip += "，待核实 \(day.inDoubt) 次" }
        if other > 0 { tip += "，未完成 \(other) 次" }
        var out = """
            <g class="bar\(isLast ? " current" : "")" data-date="\(AuditHTML.escape(day.date))" \
            data-deliveries="\(day.deliveries)" data-sent="\(day.sent)" data-dead="\(day.dead)" \
            data-in-doubt="\(day.inDoubt)"><title>\(AuditHTML.escape(tip))</title>
            """
        var stacked = 0
        for (segment, value) in zip(Self.segments, values) where value > 0 {
            let upper = y(stacked + value)
            let lower = y(stacked)
            out += """
                <rect class="\(segment.name)" x="\(x)" y="\(format(upper))" width="\(Self.barWidth)" \
                height="\(format(lower - upper))" fill="\(segment.color)"/>
                """
            stacked += value
        }
        if isLast {
            out += """
                <rect x="\(x - 2)" y="\(Self.top)" width="\(Self.barWidth + 4)" height="\(Self.plotHeight)" \
                fill="none" stroke="#1565c0" stroke-dasharray="3 2"/>
                """
        }
        return out + "</g>\n"
    }

    /// A coordinate with at most one decimal.
    private func format(_ value: Double) -> String {
        let tenths = (value * 10).rounded()
        return tenths.truncatingRemainder(dividingBy: 10) == 0 ? "\(Int(tenths / 10))" : "\(tenths / 10)"
    }
}
