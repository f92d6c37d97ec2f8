import ArgumentParser
import Foundation
import GridcastCore
import Reports

/// `gridcast report`: what the ledger says was sent.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Report dispatch counts from the ledger.",
        subcommands: [Daily.self, Weekly.self, Monthly.self]
    )

    /// The options every period shares.
    struct PeriodOptions: ParsableArguments {
        @OptionGroup var options: ConfigOption
        @Option(
            help: ArgumentHelp(
                "A day in the period, YYYY-MM-DD (default: today in the config's timezone).", valueName: "date"))
        var date: String?
        @Option(help: "table, json, csv or markdown.") var format: String = "table"

        func run(_ period: PeriodReport.Period) async throws {
            let config = try options.load()
            guard let format = ReportFormat(rawValue: format) else {
                printError("--format: expected table, json, csv or markdown, got '\(format)'")
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
            let report = try await PeriodReport.make(period, containing: day, store: try openLedger(config))
            print(report.rendered(as: format), terminator: "")
        }
    }

    /// `gridcast report daily`.
    struct Daily: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Notices, groups and delivery states for one day (in the config's timezone).",
            discussion: """
                A delivery counts on the local day of its latest state change: its sent time when sent, the time it
                became dead or in_doubt, otherwise its last attempt or planning time.
                """
        )
        @OptionGroup var period: PeriodOptions
        func run() async throws { try await period.run(.day) }
    }

    /// `gridcast report weekly`.
    struct Weekly: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The Monday–Sunday week containing --date.")
        @OptionGroup var period: PeriodOptions
        func run() async throws { try await period.run(.week) }
    }

    /// `gridcast report monthly`.
    struct Monthly: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The calendar month containing --date.")
        @OptionGroup var period: PeriodOptions
        func run() async throws { try await period.run(.month) }
    }
}
