import Foundation
import GridcastCore
import Ledger
import Scheduling
import Sinks

/// The one way a notice enters the ledger, for the CLI (`gridcast send`), the HTTP API and the scheduler alike:
/// validate, resolve the selector, derive the id when none is given, check the platforms' part limits, and record
/// the notice with one planned delivery per group in one transaction.
public struct NoticeIntake: Sendable {
    let config: GridcastConfig
    let sinks: SinkRegistry
    let store: any LedgerStore
    let respectQuietHours: Bool

    /// Creates an intake. With `respectQuietHours` (the daemon's API), non-urgent notices submitted inside
    /// `quiet_hours` are planned for the window's end; the CLI sends at once, as its operator asked.
    public init(config: GridcastConfig, sinks: SinkRegistry, store: any LedgerStore, respectQuietHours: Bool = false) {
        self.config = config
        self.sinks = sinks
        self.store = store
        self.respectQuietHours = respectQuietHours
    }

    /// A notice as submitted.
    public struct Submission: Sendable {
        public var id: String?
        public var title: String
        public var text: String
        public var to: String
        public var urgent: Bool
        /// The poster, already read and checked (docs/rich-notices.md).
        public var poster: Poster?
        /// The link card, already checked.
        public var link: LinkCard?

        public init(
            id: String? = nil, title: String = "", text: String, to: String, urgent: Bool = false,
            poster: Poster? = nil, link: LinkCard? = nil
        ) {
            self.id = id
            self.title = title
            self.text = text
            self.to = to
            self.urgent = urgent
            self.poster = poster
            self.link = link
        }
    }

    /// What recording did.
    public struct Receipt: Sendable, Equatable {
        /// The notice's id (given or derived).
        public var noticeID: String
        /// True when the notice is new; false when the same id already held the same content.
        public var created: Bool
        /// Deliveries of the notice in all.
        public var deliveries: Int
        /// Deliveries this submission added (0 when repeating an earlier one).
        public var added: Int
        /// Customer groups recorded `quota_refused` by this submission, with why; every other group gets it.
        public var quotaRefused: [String: String] = [:]
    }

    /// Why a submission was refused; `field` names the input at fault.
    public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        /// The kinds of refusal.
        public enum Kind: Sendable, Equatable {
            /// The input is invalid (unknown group or tag, empty text, too many parts…).
            case invalid
            /// The id is taken by a notice with other content.
            case conflict
        }

        public var kind: Kind
        /// The input field at fault: `text`, `to`, `id`, `title`.
        public var field: String
        public var message: String
        public var description: String { message }
    }

    /// Records a submission. Nothing is sent here: a dispatcher drains what was planned.
    public func submit(_ submission: Submission, origin: String, now: Date) async throws -> Receipt {
        let selector: Selector
        do {
            selector = try Selector(parsing: submission.to)
        } catch {
            throw Refusal(kind: .invalid, field: "to", message: error.message)
        }
        if submission.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw Refusal(kind: .invalid, field: "text", message: "text is empty")
        }
        let id =
            submission.id
            ?? Notice.derivedID(title: submission.title, text: submission.text, on: now, in: config.timeZone)
        if !Notice.isValidID(id) {
            throw Refusal(
                kind: .invalid, field: "id",
                message: "id '\(id)' is invalid: use 1–128 letters, digits, '.', '_', '-' or ':'"
            )
        }
        let notice = Notice(
            id: id, title: submission.title, text: submission.text, urgent: submission.urgent,
            poster: submission.poster, link: submission.link)
        var plan: Plan
        do {
            plan = try Planner(config: config, sinks: sinks).plan(notice, to: selector, origin: origin, now: now)
        } catch {
            let field = error.message.hasPrefix("selector") ? "to" : "text"
            throw Refusal(kind: .invalid, field: field, message: error.message)
        }
        if respectQuietHours, !notice.urgent, let quiet = config.quietHours {
            let due = quiet.release(now, in: config.timeZone)
            for index in plan.targets.indices { plan.targets[index].notBefore = due }
        }
        do {
            let result = try await store.plan(plan)
            var receipt = Receipt(
                noticeID: id, created: result.created, deliveries: result.total, added: result.added)
            receipt.quotaRefused = result.quotaRefused
            return receipt
        } catch let error as LedgerError where error.isConflict {
            throw Refusal(kind: .conflict, field: "id", message: error.description)
        }
    }
}
