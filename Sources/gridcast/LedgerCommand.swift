import ArgumentParser
import Foundation
import GridcastCore
import Ledger
import Reports

/// `gridcast ledger`: the send ledger (台帐), row by row.
struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "List deliveries and settle the ones in doubt.",
        subcommands: [List.self, Resolve.self]
    )

    /// `gridcast ledger list`.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One row per delivery: notice, group, state, attempts, times, parts and last error."
        )

        @OptionGroup var options: ConfigOption
        @Option(help: "Deliveries whose latest change was on this day (YYYY-MM-DD, config timezone).") var date: String?
        @Option(help: "From this day on (YYYY-MM-DD).") var since: String?
        @Option(help: "Up to and including this day (YYYY-MM-DD).") var until: String?
        @Option(help: "Only this notice.") var notice: String?
        @Option(help: "Only this group.") var group: String?
        @Option(help: "Only this state: planned, claimed, sent, retry, dead or in_doubt.") var state: String?
        @Option(help: "table, json or csv.") var format: String = "table"

        func run() async throws {
            let config = try options.load()
            var filter = DeliveryFilter(noticeID: notice, groupID: group)
            if let state {
                guard let parsed = DeliveryState(rawValue: state) else {
                    printError("--state: expected planned, claimed, sent, retry, dead or in_doubt, got '\(state)'")
                    throw ExitStatus.usage.exitCode
                }
                filter.state = parsed
            }
            if date != nil && (since != nil || until != nil) {
                printError("--date: use either --date or --since/--until")
                throw ExitStatus.usage.exitCode
            }
            func day(_ text: String?, _ option: String) throws -> LocalDay? {
                guard let text else { return nil }
                guard let day = LocalDay(parsing: text, timeZone: config.timeZone) else {
                    printError("--\(option): expected a real date as YYYY-MM-DD, got '\(text)'")
                    throw ExitStatus.usage.exitCode
                }
                return day
            }
            if let day = try day(date, "date") {
                filter.changedFrom = day.start
                filter.changedBefore = day.end
            }
            filter.changedFrom = try day(since, "since")?.start ?? filter.changedFrom
            filter.changedBefore = try day(until, "until")?.end ?? filter.changedBefore
            guard let format = ReportFormat(rawValue: format) else {
                printError("--format: expected table, json or csv, got '\(format)'")
                throw ExitStatus.usage.exitCode
            }
            let rows = try await openLedger(config).deliveries(matching: filter)
            print(LedgerListing(rows: rows, timeZone: config.timeZone).rendered(as: format), terminator: "")
        }
    }

    /// `gridcast ledger resolve`.
    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Settle an in_doubt delivery: --as sent (it is in the group) or --as resend (it is not).",
            discussion: "Who resolved it ($SUDO_USER, $USER) and --note are recorded with the delivery."
        )

        @OptionGroup var options: ConfigOption
        @Option(help: "The notice id.") var notice: String
        @Option(help: "The group id.") var group: String
        @Option(name: .customLong("as"), help: "sent or resend.") var resolution: String
        @Option(help: "Why, for the record (what the operator checked).") var note: String = ""

        func run() async throws {
            let config = try options.load()
            guard let resolution = Resolution(rawValue: resolution) else {
                printError("--as: expected sent or resend, got '\(self.resolution)'")
                throw ExitStatus.usage.exitCode
            }
            let environment = ProcessInfo.processInfo.environment
            let who = environment["SUDO_USER"] ?? environment["USER"] ?? "uid \(getuid())"
            do {
                let row = try await openLedger(config).resolve(
                    noticeID: notice, groupID: group, as: resolution, by: who, note: note, at: Date()
                )
                print("notice \(row.noticeID) → \(row.groupID): now \(row.state.rawValue) (\(row.lastError ?? ""))")
                if resolution == .resend {
                    print("it goes out with the next dispatch: gridcast serve, or run the same gridcast send again")
                }
            } catch let error as LedgerError {
                printError("error: \(error)")
                throw ExitStatus.usage.exitCode
            }
        }
    }
}
