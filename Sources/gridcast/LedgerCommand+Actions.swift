import ArgumentParser
import Foundation
import GridcastCore
import Ledger

/// The operator's actions on deliveries: each change is recorded in the ledger with who made it, why and when.
extension LedgerCommand {
    /// `gridcast ledger resolve`.
    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Settle in_doubt deliveries: --as sent (it is in the group) or --as resend (it is not).",
            discussion: """
                Give the groups with --group (repeatable) or take every in_doubt delivery of the notice with \
                --all-in-doubt. Each delivery is recorded with who resolved it ($SUDO_USER, $USER), --note and \
                the time. Nothing is resolved when a named group has no in_doubt delivery of the notice.
                """
        )

        @OptionGroup var options: LedgerOptions
        @Option(help: "The notice id.") var notice: String
        @Option(help: ArgumentHelp("A group id (repeatable).", valueName: "id")) var group: [String] = []
        @Flag(help: "Every in_doubt delivery of the notice.") var allInDoubt = false
        @Option(name: .customLong("as"), help: "sent or resend.") var resolution: String
        @Option(help: "Why, for the record (what the operator checked).") var note: String = ""

        func validate() throws {
            if group.isEmpty == !allInDoubt { throw ValidationError("give either --group or --all-in-doubt") }
        }

        func run() async throws {
            let config = try options.load()
            guard let resolution = Resolution(rawValue: resolution) else {
                printError("--as: expected sent or resend, got '\(self.resolution)'")
                throw ExitStatus.usage.exitCode
            }
            let store = try await openLedger(config)
            let deliveries = try await knownDeliveries(of: notice, in: store)
            var targets: [String] = []
            if allInDoubt {
                targets = deliveries.filter { $0.state == .inDoubt }.map(\.groupID)
                if targets.isEmpty {
                    print("notice \(notice): no in_doubt deliveries; nothing to resolve")
                    return
                }
            } else {
                for groupID in unique(group) {
                    guard let row = deliveries.first(where: { $0.groupID == groupID }) else {
                        printError("error: --group \(groupID): notice \(notice) has no delivery to this group")
                        throw ExitStatus.usage.exitCode
                    }
                    guard row.state == .inDoubt else {
                        printError(
                            "error: --group \(groupID): its delivery of notice \(notice) is \(row.state.rawValue), "
                                + "not in_doubt; nothing was resolved")
                        throw ExitStatus.usage.exitCode
                    }
                    targets.append(groupID)
                }
            }
            let who = operatorName()
            let now = Date()
            for groupID in targets {
                do {
                    let row = try await store.resolve(
                        noticeID: notice, groupID: groupID, as: resolution, by: who, note: note, at: now)
                    print("notice \(row.noticeID) → \(row.groupID): now \(row.state.rawValue) (\(row.lastError ?? ""))")
                } catch let error as LedgerError {
                    printError("error: --group \(groupID): \(error)")
                    throw ExitStatus.usage.exitCode
                }
            }
            if resolution == .resend {
                print("it goes out with the next dispatch: gridcast serve, or run the same gridcast send again")
            }
        }
    }

    /// `gridcast ledger retry`.
    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send dead deliveries again: the same deliveries, due now, with their attempts reset.",
            discussion: """
                Without --group, every dead delivery of the notice (--state dead). Who ($SUDO_USER, $USER), --note \
                and the time are recorded with each delivery; the notice is still one notice in reports.
                """
        )

        @OptionGroup var options: LedgerOptions
        @Option(help: "The notice id.") var notice: String
        @Option(help: ArgumentHelp("A group id (repeatable); its delivery must be dead.", valueName: "id"))
        var group: [String] = []
        @Option(help: "Only deliveries in this state: dead (the default when no --group is given).") var state: String?
        @Option(help: "Why, for the record (what was fixed).") var note: String = ""

        func validate() throws {
            if !group.isEmpty && state != nil { throw ValidationError("give either --group or --state") }
        }

        func run() async throws {
            let config = try options.load()
            if let state, state != DeliveryState.dead.rawValue {
                printError("--state: only dead deliveries can be retried, got '\(state)'")
                throw ExitStatus.usage.exitCode
            }
            let store = try await openLedger(config)
            _ = try await knownDeliveries(of: notice, in: store)
            let result: OperatorActionResult
            do {
                result = try await store.retry(
                    DeliverySelection(noticeID: notice, groupIDs: unique(group)), by: operatorName(), note: note,
                    at: Date())
            } catch let error as LedgerError {
                printError("error: --group: \(error)")
                throw ExitStatus.usage.exitCode
            }
            guard !result.changed.isEmpty else {
                print("notice \(notice): no dead deliveries; nothing to retry")
                return
            }
            let count = result.changed.count
            print(
                "notice \(notice): \(count) \(count == 1 ? "delivery" : "deliveries") due again: "
                    + result.changed.map(\.groupID).joined(separator: ", "))
            print("it goes out with the next dispatch: gridcast serve, or run the same gridcast send again")
        }
    }

    /// `gridcast ledger cancel`.
    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "End a notice's unsent deliveries (planned, retry) as cancelled: they are never sent.",
            discussion: """
                Without --group, every unsent delivery of the notice. Claimed deliveries are in flight and are not \
                cancelled (exit 1 when any was selected). Who ($SUDO_USER, $USER), --note and the time are recorded.
                """
        )

        @OptionGroup var options: LedgerOptions
        @Option(help: "The notice id.") var notice: String
        @Option(help: ArgumentHelp("A group id (repeatable).", valueName: "id")) var group: [String] = []
        @Option(help: "Why, for the record.") var note: String = ""

        func run() async throws {
            let config = try options.load()
            let store = try await openLedger(config)
            _ = try await knownDeliveries(of: notice, in: store)
            let result: OperatorActionResult
            do {
                result = try await store.cancel(
                    DeliverySelection(noticeID: notice, groupIDs: unique(group)), by: operatorName(), note: note,
                    at: Date())
            } catch let error as LedgerError {
                printError("error: --group: \(error)")
                throw ExitStatus.usage.exitCode
            }
            let count = result.changed.count
            print(
                "notice \(notice): \(count) \(count == 1 ? "delivery" : "deliveries") cancelled"
                    + (count == 0 ? "" : ": " + result.changed.map(\.groupID).joined(separator: ", ")))
            let inFlight = result.unchanged.filter { $0.state == .claimed }
            for row in inFlight {
                print("  \(row.groupID): claimed (in flight), not cancelled: it ends as its send does")
            }
            if !group.isEmpty {
                for row in result.unchanged where row.state != .claimed {
                    print("  \(row.groupID): already \(row.state.rawValue), nothing to cancel")
                }
            }
            if !inFlight.isEmpty { throw ExitStatus.incomplete.exitCode }
        }
    }
}

/// Who is acting, for the ledger's record: the user behind sudo, else the login user, else the uid.
func operatorName() -> String {
    let environment = ProcessInfo.processInfo.environment
    return environment["SUDO_USER"] ?? environment["USER"] ?? "uid \(getuid())"
}

/// The notice's deliveries, or exit 2 when the ledger has no such notice.
private func knownDeliveries(of noticeID: String, in store: any LedgerStore) async throws -> [DeliveryRecord] {
    guard try await store.notice(id: noticeID) != nil else {
        printError("error: --notice \(noticeID): no such notice in the ledger")
        throw ExitStatus.usage.exitCode
    }
    return try await store.deliveries(noticeID: noticeID)
}

/// `values` without repeats, in their order.
private func unique(_ values: [String]) -> [String] {
    var seen = Set<String>()
    return values.filter { seen.insert($0).inserted }
}
