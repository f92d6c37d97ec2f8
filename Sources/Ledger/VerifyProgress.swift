/// How far `verify` has come, reported now and then so a terminal can show it: a year's ledger takes a while.
public struct VerifyProgress: Sendable, Equatable, CustomStringConvertible {
    /// Events read (newest first), of all of them.
    public var events: Int64
    /// The number of events in the chain.
    public var eventCount: Int64
    /// Rows compared, of all of them.
    public var rows: Int
    /// The number of rows in the ledger's tables.
    public var rowCount: Int

    /// What the verification is doing, with how much of it is done: `events 40%`, then `rows 75%`.
    public var description: String {
        func percent(_ done: Int64, _ all: Int64) -> Int { all == 0 ? 100 : Int(done * 100 / all) }
        return events < eventCount
            ? "events \(percent(events, eventCount))%" : "rows \(percent(Int64(rows), Int64(rowCount)))%"
    }
}

/// Called with the progress of a verification, from whatever task runs it.
public typealias VerifyObserver = @Sendable (VerifyProgress) -> Void

extension VerifyProgress {
    /// Counts what a verification reads and tells its observer every few thousand events or rows.
    struct Reporter {
        private let observer: VerifyObserver?
        private var progress: VerifyProgress

        init(_ observer: VerifyObserver?, events: Int64, rows: Int) {
            self.observer = observer
            progress = VerifyProgress(events: 0, eventCount: events, rows: 0, rowCount: rows)
            observer?(progress)
        }

        mutating func event() {
            progress.events += 1
            if progress.events % 2048 == 0 { observer?(progress) }
        }

        mutating func row() {
            progress.rows += 1
            if progress.rows % 32768 == 0 { observer?(progress) }
        }

        /// Everything read: the last report.
        func finish() {
            observer?(progress)
        }
    }
}
