import Foundation
import Ledger

/// What an action form of the audit page asks for: send a notice's dead deliveries again, or settle its in_doubt
/// ones as sent or resend — the operations of `gridcast ledger retry` and `gridcast ledger resolve`.
struct AuditActionRequest: Sendable, Equatable {
    /// Which action.
    enum Kind: Sendable, Equatable {
        /// `dead` → `retry`, due now, attempts reset.
        case retry
        /// `in_doubt` → `sent` (it is in the group) or `retry` (it is not: send it again).
        case resolve(Resolution)

        /// The state every selected delivery must be in.
        var requiredState: DeliveryState {
            switch self {
            case .retry: .dead
            case .resolve: .inDoubt
            }
        }
    }

    /// Why a form can't be read.
    enum Problem: Error, Sendable, Equatable {
        case missingNotice
        case noGroups
        case badResolution
        case noteTooLong
    }

    /// The longest note kept, in characters.
    static let maxNoteLength = 500

    /// The action.
    var kind: Kind
    /// The notice whose deliveries change.
    var noticeID: String
    /// The groups of the deliveries that change, without repeats, in the form's order.
    var groupIDs: [String]
    /// Why, for the record: one line, surrounding whitespace removed.
    var note: String
    /// True on the confirmation page's post: change the ledger now. False: show what would change.
    var confirmed: Bool
    /// The day the page showed (`date`), to go back to when the visitor cancels.
    var date: String?

    /// Reads the fields `notice`, `group` (repeated), `note`, `confirm`, `date` and, for ``Kind/resolve(_:)``, `as`.
    init(form: AuditForm, resolving: Bool) throws(Problem) {
        if resolving {
            guard let resolution = form.value("as").flatMap(Resolution.init(rawValue:)) else {
                throw .badResolution
            }
            kind = .resolve(resolution)
        } else {
            kind = .retry
        }
        guard let noticeID = form.value("notice"), !noticeID.isEmpty else { throw .missingNotice }
        self.noticeID = noticeID
        var seen = Set<String>()
        groupIDs = form.values("group").filter { !$0.isEmpty && seen.insert($0).inserted }
        guard !groupIDs.isEmpty else { throw .noGroups }
        note = (form.value("note") ?? "").split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
        guard note.count <= Self.maxNoteLength else { throw .noteTooLong }
        confirmed = form.value("confirm") == "yes"
        date = form.value("date")
    }
}
