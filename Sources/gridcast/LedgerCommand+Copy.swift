import ArgumentParser
import Foundation
import GridcastCore
import Ledger

extension LedgerCommand {
    /// `gridcast ledger copy`.
    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy the ledger, event chain included, into a new, empty one (SQLite to PostgreSQL or back).",
            discussion: """
                Copies every notice, poster, delivery (in planning order), customer-group task and schedule firing, \
                and every event exactly as stored, in one transaction on the target: a checkpoint taken on the \
                source (`ledger verify`) verifies on the copy. The target must hold no row and no event; its schema \
                is created when absent. --to takes a postgres:// URL (password in the URL, PGPASSWORD or \
                ~/.pgpass) or the path of a new SQLite file; --to-config a config whose ledger is the target. \
                Prints what was copied, then verifies the copy: exits 0 when it verifies, 1 when it does not, and \
                2 when nothing was copied (a usage error, a target not empty, a ledger that can't be opened).
                """
        )

        @Option(name: .customLong("from"), help: ArgumentHelp("The config whose ledger is copied.", valueName: "file"))
        var from: String
        @Option(
            name: .customLong("to"),
            help: ArgumentHelp("The new ledger: a postgres:// URL or a SQLite file.", valueName: "url-or-path"))
        var to: String?
        @Option(
            name: .customLong("to-config"),
            help: ArgumentHelp("A config whose ledger is the new ledger, instead of --to.", valueName: "file"))
        var toConfig: String?

        func validate() throws {
            if (to == nil) == (toConfig == nil) { throw ValidationError("give either --to or --to-config") }
            if to?.isEmpty == true { throw ValidationError("--to: give a postgres:// URL or the path of a new file") }
        }

        func run() async throws {
            let source = try loadConfig(from, credentials: .deferred, groupsRequired: false).config.ledger
            let target = try targetSettings()
            let from = LedgerStores.location(of: source)
            let to = LedgerStores.location(of: target)
            guard from != to else {
                printError("error: the target \(to) is the source ledger")
                throw ExitStatus.usage.exitCode
            }
            let summary: LedgerCopy.Summary
            do {
                summary = try await LedgerCopy.copy(from: source, to: target)
            } catch {
                printError("error: \(error)\nnothing was copied")
                throw ExitStatus.usage.exitCode
            }
            print(
                "copied \(summary.events) events, \(summary.deliveries) deliveries from \(from) to \(to); "
                    + "head \(summary.head)")
            // The copy must extend the source's head, as any checkpoint taken before it.
            let result: LedgerVerification
            do {
                result = try await LedgerStores.verify(target, checkpoint: summary.head.seq > 0 ? summary.head : nil)
            } catch {
                printError("error: the copy could not be verified: \(error)")
                throw ExitStatus.incomplete.exitCode
            }
            switch result {
            case .ok(_, let head):
                print("verify: ok \(head)")
            case .failed(let problem):
                print("verify: FAILED: \(problem)")
                throw ExitStatus.incomplete.exitCode
            }
        }

        /// The target's ledger settings: `--to-config`'s ledger, a PostgreSQL URL or a SQLite file.
        func targetSettings() throws -> LedgerSettings {
            if let toConfig {
                return try loadConfig(toConfig, credentials: .deferred, groupsRequired: false).config.ledger
            }
            let to = to ?? ""
            guard to.hasPrefix("postgres://") || to.hasPrefix("postgresql://") else {
                return LedgerSettings(path: to)
            }
            var location: PostgresLocation
            do {
                location = try PostgresLocation(parsing: to)
            } catch {
                printError("--to: \(error.message)")
                throw ExitStatus.usage.exitCode
            }
            if location.password == nil { location.password = Self.password(for: location) }
            var settings = LedgerSettings()
            settings.postgres = location
            return settings
        }

        /// The password a URL without one logs in with, found as for a config's `ledger.url`: `PGPASSWORD`, then
        /// the password file libpq reads (unless its group or others may read it).
        static func password(for location: PostgresLocation) -> String? {
            switch PostgresPassFile.lookup(for: location, environment: ProcessInfo.processInfo.environment) {
            case .password(let password):
                return password
            case .none:
                return nil
            case .ignored(let path):
                printError("warning: password file \(path) ignored: its group or others may read it (chmod 600)")
                return nil
            }
        }
    }
}
