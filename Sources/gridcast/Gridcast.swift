import ArgumentParser
import Foundation
import GridcastCore

/// `gridcast`: posts the day's fraud warning into every grid chat group, once.
@main
struct Gridcast: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gridcast",
        abstract: "Broadcast anti-fraud notices to grid chat groups through their bot webhooks, exactly once.",
        discussion: """
            Exit codes: 0 success; 1 the work ran but some deliveries ended dead or in_doubt; 2 usage or config error.
            """,
        version: BuildInfo.line,
        subcommands: [
            CheckCommand.self, SendCommand.self, ServeCommand.self, ScheduleCommand.self, ReportCommand.self,
            LedgerCommand.self, WeComCommand.self,
            EmulateCommand.self,
        ]
    )

    /// Runs the command line; usage errors exit 2 (README, "Commands": exit codes), not ArgumentParser's 64.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let exit as ExitCode {
            Foundation.exit(exit.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                self.exit(withError: error)
            }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(code == .validationFailure ? ExitStatus.usage.rawValue : code.rawValue)
        }
    }
}

/// The exit codes (README, "Commands": exit codes).
enum ExitStatus: Int32 {
    case success = 0
    case incomplete = 1
    case usage = 2
    /// `serve` only: the ledger file was deleted or replaced while it ran (the systemd unit doesn't restart on it).
    case ledgerChanged = 3

    var exitCode: ExitCode { ExitCode(rawValue) }
}

/// Prints to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
