import ArgumentParser
import Foundation
import GridcastCore
import Ledger
import Reports

/// `gridcast ledger`: the send ledger (台帐), row by row.
struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract:
            "List deliveries, settle the ones in doubt, retry dead ones, cancel unsent ones, verify the ledger, copy it.",
        subcommands: [List.self, Resolve.self, Retry.self, Cancel.self, Verify.self, Copy.self]
    )

    /// `gridcast ledger list`.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One row per delivery: notice, group, state, attempts, times, parts and last error."
        )

        @OptionGroup var options: LedgerOptions
        @Option(help: "Deliveries whose latest change was on this day (YYYY-MM-DD, config timezone).") var date: String?
        @Option(help: "From this day on (YYYY-MM-DD).") var since: String?
        @Option(help: "Up to and including this day (YYYY-MM-DD).") var until: String?
        @Option(help: "Only this notice.") var notice: String?
        @Option(help: "Only this group.") var group: String?
        @Option(help: "Only this state: \(DeliveryState.allCases.map(\.rawValue).joined(separator: ", ")).")
        var state: String?
        @Option(help: "table, csv, json (one array) or jsonl (one object a line).") var format: String = "table"
        @Option(help: "At most this many deliveries.") var limit: Int?
        @Option(
            help: ArgumentHelp(
                "Start after this delivery: NOTICE/GROUP, the notice and group of the last row of the page before.",
                valueName: "notice/group"))
        var after: String?
        @OptionGroup var bom: CSVByteOrderMark

        /// How many rows are read at once: the listing is written as it is read, one page in memory.
        static let pageSize = 5000

        func run() async throws {
            // The ledger names its groups: the config's are read only to explain an empty listing.
            let config = try options.load(ledgerOnly: true)
            var filter = DeliveryFilter(noticeID: notice, groupID: group)
            if let state {
                guard let parsed = DeliveryState(rawValue: state) else {
                    printError(
                        "--state: expected one of \(DeliveryState.allCases.map(\.rawValue).joined(separator: ", ")), got '\(state)'"
                    )
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
            let listed: LedgerListing.Format
            switch format {
            case "markdown": listed = .table
            case let name:
                guard let parsed = LedgerListing.Format(rawValue: name) else {
                    printError("--format: expected table, csv, json or jsonl, got '\(format)'")
                    throw ExitStatus.usage.exitCode
                }
                listed = parsed
            }
            if let limit, limit < 1 {
                printError("--limit: expected a number of deliveries of 1 or more, got \(limit)")
                throw ExitStatus.usage.exitCode
            }
            let store = try await openLedger(config, .readOnly)
            var writer = LedgerListingWriter(format: listed, timeZone: config.timeZone)
            let output = FileHandle.standardOutput
            // The task msgids of the customer groups' rows, read once per notice as the pages reach it.
            var msgids: (notice: String, ids: [String: String])?
            var page = filter
            var start: String?
            if let after {
                guard let slash = after.lastIndex(of: "/"), slash != after.startIndex,
                    slash != after.index(before: after.endIndex)
                else {
                    printError("--after: expected NOTICE/GROUP (the last row's notice_id and group_id), got '\(after)'")
                    throw ExitStatus.usage.exitCode
                }
                start = DeliveryID.of(
                    noticeID: String(after[..<slash]), groupID: String(after[after.index(after: slash)...]))
            }
            page.after = start
            while true {
                page.limit = min(Self.pageSize, (limit ?? .max) - writer.count)
                let rows: [DeliveryRecord]
                do {
                    rows = try await store.deliveries(matching: page)
                } catch let error as LedgerError where error.isInvalid && start != nil && page.after == start {
                    printError("--after: no delivery of '\(after ?? "")' (notice/group) in the ledger")
                    throw ExitStatus.usage.exitCode
                }
                if page.after == start {
                    // The first page: a typo is refused before anything is written.
                    if rows.isEmpty { try await explainNothing(store) }
                    output.write(Data(((listed == .csv ? bom.prefix(for: .csv) : "") + writer.opening).utf8))
                }
                var taskMsgids: [String: String] = [:]
                for noticeID in Set(rows.map(\.noticeID)).sorted() {
                    if msgids?.notice != noticeID {
                        msgids = (noticeID, try await store.taskMessageIDs(noticeIDs: [noticeID]))
                    }
                    taskMsgids.merge(msgids!.ids) { old, _ in old }
                }
                output.write(Data(writer.page(rows, taskMsgids: taskMsgids).utf8))
                guard rows.count == page.limit, writer.count < limit ?? .max, let last = rows.last else { break }
                page.after = last.id
            }
            output.write(Data(writer.closing.utf8))
        }

        /// An empty answer for a group or notice the config and the ledger don't know is a typo, not "none".
        private func explainNothing(_ store: any LedgerStore) async throws {
            if let group, try await store.deliveries(matching: DeliveryFilter(groupID: group, limit: 1)).isEmpty,
                !(try options.load().groups.contains { $0.id == group })
            {
                printError("--group: no group '\(group)' in \(options.source)")
                throw ExitStatus.usage.exitCode
            }
            if let notice, try await store.notice(id: notice) == nil {
                printError("--notice: no notice '\(notice)' in the ledger")
                throw ExitStatus.usage.exitCode
            }
        }
    }
}

extension LedgerCommand {
    /// `gridcast ledger verify`.
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the event hash chain, replay it, and compare it with every ledger row.",
            discussion: """
                Prints `ok SEQ:HASH` (the number of events and the head's hash, as --checkpoint takes it) and exits \
                0, or prints the first discrepancy and exits 1. \
                Exits 2 when nothing could be verified: a usage error, no ledger, or a ledger this user can't \
                open (unreadable, or a WAL ledger in a directory it can't write: verify a copy instead).
                With --checkpoint SEQ:HASH or "SEQ HASH" (from the daemon's `ledger checkpoint` log line or an \
                earlier verify), \
                also proves the ledger still extends that point: truncation and wholesale rewrites fail.
                """
        )

        @OptionGroup var options: LedgerOptions
        @Option(help: ArgumentHelp("An earlier head the ledger must still extend.", valueName: "SEQ:HASH"))
        var checkpoint: String?

        func run() async throws {
            // The ledger is all verify reads of a config: its groups are not checked or kept.
            let settings = try options.load(ledgerOnly: true).ledger
            var mark: LedgerCheckpoint?
            if let checkpoint {
                // `SEQ HASH` (two words, as earlier versions printed it) is taken as well as `SEQ:HASH`.
                let words = checkpoint.split(whereSeparator: \.isWhitespace)
                let normalized = words.count == 2 ? words.joined(separator: ":") : checkpoint
                guard let parsed = LedgerCheckpoint(parsing: normalized) else {
                    printError(
                        "--checkpoint: expected SEQ:HASH (a number, a colon or a space, 64 hex digits), got '\(checkpoint)'"
                    )
                    throw ExitStatus.usage.exitCode
                }
                mark = parsed
            }
            guard await LedgerStores.exists(settings) else {
                printError("error: no ledger at \(LedgerStores.location(of: settings))")
                throw ExitStatus.usage.exitCode
            }
            let result: LedgerVerification
            do {
                // On a terminal, how far it has come, on one line that is cleared at the end; nothing in a pipe.
                let onTerminal = isatty(STDERR_FILENO) == 1
                let show: VerifyObserver = { progress in
                    FileHandle.standardError.write(Data("\rverify: \(progress)\u{1B}[K".utf8))
                }
                result = try await LedgerStores.verify(settings, checkpoint: mark, progress: onTerminal ? show : nil)
                if onTerminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            } catch {
                // Exit 1 is the tamper answer; a ledger that can't be opened has not been checked at all.
                printError(
                    "error: \(error)\nnothing was verified: this user must be able to read the ledger and, for a "
                        + "WAL ledger without its -shm file beside it, write its directory; or verify a copy")
                throw ExitStatus.usage.exitCode
            }
            switch result {
            case .ok(_, let head):
                print("ok \(head)")
            case .failed(let problem):
                print("FAILED: \(problem)")
                throw ExitStatus.incomplete.exitCode
            }
        }
    }
}
