import ArgumentParser
import Fanout
import Foundation
import GridcastCore
import Ledger
import Logging
import Sinks
import Transport

/// `gridcast send`: plan one notice for the selected groups and deliver it, exactly once per group.
struct SendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send a notice to the selected groups and wait until each delivery is sent, dead or in_doubt.",
        discussion: """
            The notice comes from --text, --file (a text, or a file with front matter as in the notice library: id,
            title, to, urgent) or --notice ID (a notice of the config's library). --to, --title, --id and
            --urgent/--no-urgent, when given, take precedence over the front matter. Without an id the id is derived
            from title, text and today's date, so running the same command twice on one day sends nothing the second
            time. Exit 0 when every delivery was sent, 1 when any ended dead or in_doubt, 2 for usage or config
            errors.
            """
    )

    @OptionGroup var options: ConfigOption
    @Option(
        help: ArgumentHelp(
            "Groups: all, group:ID, tag:NAME, comma-separated for a union (default: the front matter's to:).",
            valueName: "selector"))
    var to: String?
    @Option(help: "The notice text.") var text: String?
    @Option(help: ArgumentHelp("Read the notice from a file (front matter optional).", valueName: "path"))
    var file: String?
    @Option(help: ArgumentHelp("Send this notice of the config's library (its id: line).", valueName: "id"))
    var notice: String?
    @Option(help: "The notice title (default: the front matter's title:).") var title: String?
    @Option(help: "The notice id (default: the front matter's id:, else derived from title, text and today's date).")
    var id: String?
    @Flag(
        inversion: .prefixedNo,
        help: "Mark the notice urgent (prefixed with urgent_prefix, 【紧急】 by default), or not (default: urgent:).")
    var urgent: Bool?
    @Option(
        help: ArgumentHelp(
            "A PNG or JPEG poster to send with the text (default: the front matter's image:).", valueName: "file"))
    var image: String?
    @Option(
        name: .customLong("image-url"),
        help: ArgumentHelp("The poster's public https address (default: image_url:).", valueName: "url"))
    var imageURL: String?
    @Option(
        help: ArgumentHelp("A link card's https address (default: the front matter's link: url).", valueName: "url"))
    var link: String?
    @Option(help: "The link card's title.") var linkTitle: String?
    @Option(help: "The link card's line of description.") var linkDescription: String?
    @Option(help: ArgumentHelp("The link card's picture, an https address.", valueName: "url"))
    var linkPic: String?
    @Flag(help: "Print the groups, parts per group and quiet hours; send nothing, write no ledger.") var dryRun = false
    @Option(help: "trace, debug, info, notice, warning, error or critical (default: $GRIDCAST_LOG_LEVEL or info).")
    var logLevel: String?

    func validate() throws {
        if [text, file, notice].compactMap({ $0 }).count != 1 {
            throw ValidationError("give exactly one of --text, --file and --notice")
        }
    }

    func run() async throws {
        KeyValueLogHandler.bootstrap(level: logLevel)
        let logger = Logger(label: "gridcast.send")
        let config = try options.load(consequence: "nothing was sent")
        KeyValueLogHandler.use(config.timeZone)
        let source = try resolveSource(config)
        let now = Date()
        if dryRun { return try printDryRun(config: config, source: source, now: now) }
        let store = try await openLedger(config, .create)
        let intake = NoticeIntake(config: config, sinks: SinkRegistry.standard, store: store)
        let receipt: NoticeIntake.Receipt
        do {
            let recordedID = try await source.recordedID(in: store)
            if let recordedID, source.idOrigin == .library, recordedID != source.id {
                print("notice \(source.id ?? "") was edited since it was recorded: sent as its revision \(recordedID)")
            }
            receipt = try await intake.submit(source.submission(id: recordedID), origin: "cli", now: now)
        } catch let refusal as NoticeIntake.Refusal {
            if refusal.kind == .conflict {
                let id =
                    source.id
                    ?? Notice.derivedID(title: source.title, text: source.text, on: now, in: config.timeZone)
                let recorded = try? await store.notice(id: id)?.notice
                printError("error: \(source.conflict(noticeID: id, recorded: recorded))")
            } else {
                printError("error: --\(option(for: refusal.field)): \(refusal.message)")
            }
            throw ExitStatus.usage.exitCode
        }
        let noticeID = receipt.noticeID
        // Deliveries just added are planned, so only a repeat can have nothing left to do.
        if receipt.added == 0, try await store.pending(noticeID: noticeID, now: now).isSettled {
            // "Delivered" only when every group got it: dead or in_doubt deliveries are named in the summary.
            let counts = try await store.stateCounts(noticeID: noticeID)
            let delivered = counts.keys.allSatisfy { $0 == .sent }
            print(
                delivered
                    ? "notice \(noticeID) was already delivered earlier; nothing to send"
                    : "notice \(noticeID) was sent earlier; nothing is left to send")
            return try await finish(store: store, noticeID: noticeID)
        }
        print(
            receipt.created
                ? "notice \(noticeID): planned \(receipt.deliveries) \(receipt.deliveries == 1 ? "delivery" : "deliveries")"
                : "notice \(noticeID): resuming (\(receipt.added) new, \(receipt.deliveries) in all)"
        )
        for (group, reason) in receipt.quotaRefused.sorted(by: { $0.key < $1.key }) {
            print("  quota_refused  \(group)  \(reason)")
        }
        let transport = CurlTransport(configuration: .init(maxConnections: config.dispatch.concurrency))
        let dispatcher = Dispatcher(
            store: store, transport: transport, sinks: SinkRegistry.standard, config: config, logger: logger
        )
        let settled = try await store.stateCounts(noticeID: noticeID)
        let progress = SendProgress(
            total: receipt.deliveries, alreadyDone: settled.filter { $0.key.isFinal }.values.reduce(0, +))
        do {
            StopSignal.install()
            _ = try await dispatcher.drain(noticeID: noticeID, stopRequested: { StopSignal.isRequested }) {
                progress.update($0)
            }
            // Customer groups go out as mass-message tasks their members confirm; `gridcast serve` reads the results.
            if !StopSignal.isRequested {
                try await MassTaskRunner(
                    store: store, config: config, sessions: CustomerGroupSessions(transport: transport), logger: logger
                ).runOnce()
            }
        } catch {
            await transport.shutdown()
            progress.end()
            printError("error: \(error)")
            throw ExitStatus.incomplete.exitCode
        }
        await transport.shutdown()
        progress.end()
        try await finish(store: store, noticeID: noticeID)
    }

    /// The notice from --text, --file or --notice, or exit 2 with the flag at fault.
    private func resolveSource(_ config: GridcastConfig) throws -> SendSource {
        do {
            return try SendSource.resolve(
                .init(
                    text: text, file: file, notice: notice, to: to, title: title, id: id, urgent: urgent, image: image,
                    imageURL: imageURL, link: link, linkTitle: linkTitle, linkDescription: linkDescription,
                    linkPicture: linkPic),
                config: config)
        } catch {
            for line in error.details { printError(line) }
            printError("error: --\(error.option): \(error.message); nothing was sent")
            throw ExitStatus.usage.exitCode
        }
    }

    /// The flag a refused submission field came from.
    private func option(for field: String) -> String {
        switch field {
        case "text": notice != nil ? "notice" : file != nil ? "file" : "text"
        case "to": to == nil ? (notice != nil ? "notice" : "file") + " (its to:)" : "to"
        default: field
        }
    }

    /// `--dry-run`: the plan as it would be made, refused as `send` would refuse it (exit 2).
    private func printDryRun(config: GridcastConfig, source: SendSource, now: Date) throws {
        let id = source.id ?? Notice.derivedID(title: source.title, text: source.text, on: now, in: config.timeZone)
        do {
            let notice = source.notice(id: id)
            let lines = try SendDryRun.lines(
                config: config, notice: notice, selector: try Selector(parsing: source.to), now: now)
            print(lines.joined(separator: "\n"))
        } catch {
            printError("error: \(error)")
            throw ExitStatus.usage.exitCode
        }
    }

    /// Prints the final summary from the ledger and exits 1 when anything did not get through.
    private func finish(store: any LedgerStore, noticeID: String) async throws {
        let counts = try await store.stateCounts(noticeID: noticeID)
        let total = counts.values.reduce(0, +)
        let sent = counts[.sent] ?? 0
        let dead = counts[.dead] ?? 0
        let inDoubt = counts[.inDoubt] ?? 0
        let cancelled = counts[.cancelled] ?? 0
        let accepted = counts[.accepted] ?? 0
        let awaiting = counts[.awaitingConfirmation] ?? 0
        let notPosted = [DeliveryState.quotaRefused, .notDelivered, .expired].map { counts[$0] ?? 0 }
        let unsent = total - sent - accepted - dead - inDoubt - cancelled - awaiting - notPosted.reduce(0, +)
        print(
            "notice \(noticeID): \(sent) of \(total) groups sent, \(dead) dead, \(inDoubt) in_doubt"
                + (accepted > 0 ? ", \(accepted) accepted (not confirmed)" : "")
                + (cancelled > 0 ? ", \(cancelled) cancelled" : "")
                + (notPosted[0] > 0 ? ", \(notPosted[0]) over their mass-message quota" : "")
                + (notPosted[1] > 0 ? ", \(notPosted[1]) not delivered (not the member's group)" : "")
                + (notPosted[2] > 0 ? ", \(notPosted[2]) expired unconfirmed" : ""))
        if awaiting > 0 {
            print(
                "\(awaiting) customer \(awaiting == 1 ? "group awaits" : "groups await") the member's confirmation in "
                    + "WeCom; `gridcast serve` records what WeCom reports")
        }
        if unsent > 0 {
            print("stopped before \(unsent) deliveries were sent; run the same command again to continue")
        }
        let shown = 50
        let failed = try await store.deliveries(noticeID: noticeID, states: [.dead, .inDoubt], limit: shown)
        for record in failed {
            print("  \(record.state.rawValue)  \(record.groupID)  \(record.lastError ?? "")")
        }
        if dead + inDoubt > shown { print("  … see `gridcast report daily`") }
        if dead > 0 {
            print("\(dead) \(dead == 1 ? "group" : "groups") dead: gridcast ledger retry --notice \(noticeID)")
        }
        if inDoubt > 0 {
            print("in_doubt deliveries may or may not have been posted: check those groups before resending")
            print(
                "then: gridcast ledger resolve --notice \(noticeID) --all-in-doubt --as sent|resend --note '…'")
        }
        if dead + inDoubt + unsent > 0 { throw ExitStatus.incomplete.exitCode }
    }
}

/// Opens the ledger named by the config, or exits 2 with the reason. Only ``LedgerAccess/create`` makes a new one.
func openLedger(_ config: GridcastConfig, _ access: LedgerAccess = .existing) async throws -> any LedgerStore {
    do {
        if access == .create { try refuseOldLedgerLocation(config) }
        return try await LedgerStores.open(config.ledger, access: access)
    } catch let exit as ExitCode {
        throw exit
    } catch {
        printError("error: \(error)")
        throw ExitStatus.usage.exitCode
    }
}

/// Exits 2 when a relative `ledger.path` finds no ledger beside the config but one where earlier versions put it,
/// relative to the working directory: starting a second, empty ledger would send everything again.
func refuseOldLedgerLocation(_ config: GridcastConfig) throws {
    let written = config.ledger.asWritten
    // A PostgreSQL ledger (ledger.url) has no file to have moved.
    guard config.ledger.postgres == nil, !written.hasPrefix("/") else { return }
    let cwd = FileManager.default.currentDirectoryPath
    // Made absolute before `..` is resolved: standardizing a relative URL leaves a leading `..` of its own path
    // applied to the wrong directory (a config given as `config/demo.yaml` with `ledger.path: ../var/…`).
    func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path.hasPrefix("/") ? path : cwd + "/" + path).standardized.path
    }
    let old = absolute(written)
    let new = absolute(config.ledger.path)
    let files = FileManager.default
    guard old != new, files.fileExists(atPath: old), !files.fileExists(atPath: new) else { return }
    printError(
        """
        error: ledger.path '\(written)' is taken relative to the config file: \(new)
        There is no ledger there, but there is one at \(old) (relative to the working directory, where earlier
        versions of gridcast looked). Starting a new, empty ledger would send everything again.
        With no gridcast running, move it (with its -wal and -shm files, if any):
          mkdir -p '\((new as NSString).deletingLastPathComponent)' && mv '\(old)' '\(new)' && for suffix in -wal -shm; do [ ! -e '\(old)'$suffix ] || mv '\(old)'$suffix '\(new)'$suffix; done
        or set ledger.path to an absolute path.
        """)
    throw ExitStatus.usage.exitCode
}
