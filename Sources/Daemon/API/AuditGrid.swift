import Foundation
import GridcastCore
import Ledger

/// The notices × groups grid of the audit page: one row per notice, one column per group, each cell the state of
/// that notice's delivery to that group — for the deliveries a report counts on the day.
///
/// Notices are rows newest first (by when each was planned, the earliest of its deliveries'; then by id), groups are
/// columns by id (the report's order). Capped at ``maxNotices`` rows (the newest) and ``maxGroups`` columns so the
/// page stays usable on a large community; ``isTruncated`` says when rows or columns were left out.
struct AuditGrid: Sendable, Equatable {
    /// The most notices shown.
    static let maxNotices = 50
    /// The most groups shown.
    static let maxGroups = 200

    /// A group column.
    struct Column: Sendable, Equatable {
        var groupID: String
        var groupName: String
    }

    /// A delivery's cell.
    struct Cell: Sendable, Equatable {
        var state: DeliveryState
        var attempts: Int
        /// The group's platform, which tells what an error code means.
        var sink: String
        /// Why the latest attempt failed (secret-free, as recorded).
        var lastError: String?
    }

    /// A notice row: its cells by column (nil where the notice has no delivery to that group counted that day).
    struct Row: Sendable, Equatable {
        var noticeID: String
        var title: String
        var cells: [Cell?]
        /// Whether the notice carries a poster (shown as a thumbnail from `/audit/poster/{id}`).
        var hasPoster = false
        /// Its link card, if any.
        var link: LinkCard?
    }

    /// The groups shown, by id.
    var columns: [Column]
    /// The notices shown, newest first.
    var rows: [Row]
    /// Notices and groups in the day's deliveries, shown or not.
    var totalNotices: Int
    var totalGroups: Int

    /// True when some notices or groups were left out.
    var isTruncated: Bool { rows.count < totalNotices || columns.count < totalGroups }

    /// The grid of `records`, at most `maxNotices` × `maxGroups`.
    init(records: [DeliveryRecord], maxNotices: Int = AuditGrid.maxNotices, maxGroups: Int = AuditGrid.maxGroups) {
        var groupNames: [String: String] = [:]
        var noticeTitles: [String: String] = [:]
        var plannedAt: [String: Date] = [:]
        var attachments: [String: (poster: Bool, link: LinkCard?)] = [:]
        for record in records {
            attachments[record.noticeID] = (record.poster != nil, record.link)
            groupNames[record.groupID] = groupNames[record.groupID] ?? record.groupName
            noticeTitles[record.noticeID] = noticeTitles[record.noticeID] ?? record.noticeTitle
            plannedAt[record.noticeID] = min(plannedAt[record.noticeID] ?? record.plannedAt, record.plannedAt)
        }
        let groupIDs = groupNames.keys.sorted().prefix(maxGroups)
        let noticeIDs = noticeTitles.keys.sorted { left, right in
            let (leftAt, rightAt) = (plannedAt[left] ?? .distantPast, plannedAt[right] ?? .distantPast)
            return leftAt != rightAt ? leftAt > rightAt : left < right
        }.prefix(maxNotices)
        let columnIndex = Dictionary(uniqueKeysWithValues: groupIDs.enumerated().map { ($0.element, $0.offset) })
        let rowIndex = Dictionary(uniqueKeysWithValues: noticeIDs.enumerated().map { ($0.element, $0.offset) })
        var rows = noticeIDs.map {
            Row(
                noticeID: $0, title: noticeTitles[$0] ?? "", cells: Array(repeating: nil, count: groupIDs.count),
                hasPoster: attachments[$0]?.poster ?? false, link: attachments[$0]?.link)
        }
        for record in records {
            guard let row = rowIndex[record.noticeID], let column = columnIndex[record.groupID] else { continue }
            rows[row].cells[column] = Cell(
                state: record.state, attempts: record.attempts, sink: record.sink, lastError: record.lastError
            )
        }
        self.columns = groupIDs.map { Column(groupID: $0, groupName: groupNames[$0] ?? "") }
        self.rows = rows
        self.totalNotices = noticeTitles.count
        self.totalGroups = groupNames.count
    }
}
