import ArgumentParser
import Foundation
import GridcastCore
import Ledger
import Reports

/// `gridcast report`: what the ledger says was sent.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Report dispatch counts from the ledger.",
        subcommands: [Daily.self, Weekly.self, Monthly.self, Yearly.self, Range.self]
    )

    /// The options every period shares.
    struct PeriodOptions: ParsableArguments {
        @OptionGroup var options: LedgerOptions
        @Option(
            help: ArgumentHelp(
                "A day in the period, YYYY-MM-DD (default: today in the config's timezone).", valueName: "date"))
        var date: String?
        @Option(help: "table, json, csv or markdown.") var format: String = "table"
        @OptionGroup var bom: CSVByteOrderMark
        @Option(
            help: ArgumentHelp(
                "Only these groups' figures: all, group:ID, tag:NAME, comma-separated.", valueName: "selector"))
        var to: String?
        @Flag(help: "List the groups (of --to) that received nothing in the period.") var includeIdle = false
        @Flag(help: "Table and markdown: every day of a week or month, also those without deliveries.")
        var allDays = false

        func run(_ period: PeriodReport.Period, since: String? = nil, until: String? = nil) async throws {
            if !options.hasConfig && (to != nil || includeIdle) {
                printError("\(to != nil ? "--to" : "--include-idle"): needs --config (the groups and tags are there)")
                throw ExitStatus.usage.exitCode
            }
            // Without --to or --include-idle a report reads no groups: the ledger names them (a city's 100,000
            // cost 80 MiB and most of a second to read).
            let config = try options.load(ledgerOnly: to == nil && !includeIdle)
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
            var selected = config.groups
            if let to {
                do {
                    selected = try Selector(parsing: to).resolve(in: config.groups)
                } catch {
                    printError("--to: \(error)")
                    throw ExitStatus.usage.exitCode
                }
            }
            var days = PeriodReport.days(of: period, containing: day)
            if period == .range {
                func parse(_ text: String?, _ option: String) throws -> LocalDay {
                    guard let text, let parsed = LocalDay(parsing: text, timeZone: config.timeZone) else {
                        printError("--\(option): expected a real date as YYYY-MM-DD, got '\(text ?? "")'")
                        throw ExitStatus.usage.exitCode
                    }
                    return parsed
                }
                let (first, last) = (try parse(since, "since"), try parse(until, "until"))
                days = PeriodReport.days(from: first, through: last)
                guard !days.isEmpty else {
                    printError("--until: \(last) comes before --since \(first)")
                    throw ExitStatus.usage.exitCode
                }
            }
            var report = try await PeriodReport.make(
                period, asked: period == .range ? days[0] : day, days: days,
                store: try await openLedger(config, .readOnly), groups: to == nil ? nil : Set(selected.map(\.id))
            )
            report.scope(selector: to, groups: selected.map { ($0.id, $0.name) }, listingIdle: includeIdle)
            let output = FileHandle.standardOutput
            output.write(Data(bom.prefix(for: format).utf8))
            report.write(as: format, allDays: allDays) { output.write(Data($0)) }
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

    /// `gridcast report yearly`.
    struct Yearly: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The calendar year containing --date (年度总结).")
        @OptionGroup var period: PeriodOptions
        func run() async throws { try await period.run(.year) }
    }

    /// `gridcast report range`.
    struct Range: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Any run of days: --since YYYY-MM-DD --until YYYY-MM-DD, both included.")
        @OptionGroup var period: PeriodOptions
        @Option(help: "The first day, YYYY-MM-DD.") var since: String
        @Option(help: "The last day, YYYY-MM-DD (included).") var until: String
        func run() async throws { try await period.run(.range, since: since, until: until) }
    }
}

/// `--no-bom`: CSV output starts with a UTF-8 byte order mark (Excel on a Chinese Windows otherwise reads it in the
/// system code page and garbles the names) unless a script asks for the bare text.
struct CSVByteOrderMark: ParsableArguments {
    @Flag(name: .customLong("no-bom"), help: "CSV without the UTF-8 byte order mark Excel needs (for scripts).")
    var omitted = false

    /// What goes before output in `format`: the mark for CSV unless omitted, else nothing.
    func prefix(for format: ReportFormat) -> String {
        format == .csv && !omitted ? ReportFormat.byteOrderMark : ""
    }
}
