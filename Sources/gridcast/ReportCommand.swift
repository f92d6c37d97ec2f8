import ArgumentParser
import Foundation
import GridcastCore
import Reports

/// `gridcast report`: what the ledger says was sent.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Report dispatch counts from the ledger.",
        subcommands: [Daily.self]
    )

    /// `gridcast report daily`.
    struct Daily: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Notices, groups and delivery states for one day (in the config's timezone).",
            discussion: """
                A delivery counts on the local day of its latest state change: its sent time when sent, the time it
                became dead or in_doubt, otherwise its last attempt or planning time.
                """
        )

        @OptionGroup var options: ConfigOption
        @Option(help: ArgumentHelp("The day, YYYY-MM-DD (default: today in the config's timezone).", valueName: "date"))
        var date: String?
        @Option(help: "table, json or csv.") var format: String = "table"

        func run() async throws {
            let config = try options.load()
            guard let format = ReportFormat(rawValue: format) else {
                printError("--format: expected table, json or csv, got '\(format)'")
                throw ExitStatus.usage.exitCode
            }
            let day: LocalDay
            if let date {
                guard let parsed = LocalDay(parsing: date, timeZone: config.timeZone) else {
                    printError("--date: expected a real date as YYYY-MM-DD, got '\(date)'")
                    throw ExitStatus.usage.exitCode
                }
                day = parsed
            } else {
                day = LocalDay(date: Date(), timeZone: config.timeZone)
            }
            let store = try openLedger(config)
            let report = try await DailyReport.make(day: day, store: store)
            print(report.rendered(as: format), terminator: "")
        }
    }
}
