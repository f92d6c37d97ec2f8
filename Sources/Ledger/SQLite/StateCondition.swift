/// SQL conditions on `deliveries.state`, written so that SQLite can use the table's partial indexes.
///
/// Since migration v6 the deliveries table has two partial indexes instead of two full ones:
/// `deliveries_unsent (state, next_at)` over every row that is not sent, and `deliveries_sent (updated_at)` over the
/// sent ones. A delivery's claim and its outcome then each touch one or two index entries instead of four, and the
/// index the claims search holds only the rows still open. SQLite uses a partial index only when the query's
/// condition implies the index's own: a state must be compared with `=` against a literal. `state IN (…)` or a bound
/// parameter would silently fall back to scanning the table, so every state condition is written here.
enum StateCondition {
    /// The states `deliveries_unsent` holds: every state but sent.
    static let unsentStates: [DeliveryState] = DeliveryState.allCases.filter { $0 != .sent }

    /// `column = 'state'`, which matches the partial index for that state.
    static func equals(_ state: DeliveryState, column: String = "state") -> String {
        "\(column) = '\(state.rawValue)'"
    }

    /// `(column = 'a' OR column = 'b' …)`: SQLite searches the index once per state.
    static func any(of states: [DeliveryState], column: String = "state") -> String {
        "(" + states.map { equals($0, column: column) }.joined(separator: " OR ") + ")"
    }

    /// A condition on `d.updated_at` for rows in any state, as one search of each partial index: the sent rows by
    /// their time, the rest (few: open work, dead and in_doubt) by state. `range` is the condition on the time,
    /// with its arguments; it appears twice, so its arguments are returned twice.
    static func changed(_ range: String, arguments: [Int64]) -> (sql: String, arguments: [Int64]) {
        let sent = equals(.sent, column: "d.state")
        let unsent = any(of: unsentStates, column: "d.state")
        return ("((\(sent) AND \(range)) OR (\(unsent) AND \(range)))", arguments + arguments)
    }
}
