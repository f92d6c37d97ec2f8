import Foundation
import GridcastCore

/// One planned delivery as a plan inserts it: the ten values bound, and the full row image its event logs, written
/// from those values and the table's defaults so that a new notice's rows need not be read back.
struct PlannedRow {
    let id: String
    let noticeID: String
    let groupID: String
    let groupName: String
    let sink: String
    let nextAt: Int64
    let parts: Int
    let now: Int64
    let note: String?

    init(plan: Plan, target: PlanTarget) {
        id = DeliveryID.of(noticeID: plan.notice.id, groupID: target.groupID)
        noticeID = plan.notice.id
        groupID = target.groupID
        groupName = target.groupName
        sink = target.sink
        nextAt = (target.notBefore ?? plan.now).ledgerMillis
        parts = target.parts
        now = plan.now.ledgerMillis
        note = target.note
    }

    /// Every column of `deliveries` with its declared default (nil: none, so NULL unless inserted), as
    /// SQLite's `PRAGMA table_info` reports them (the PostgreSQL store's table has the same). The image below is right only for exactly this table.
    static let schema: [(name: String, defaultValue: String?)] = [
        ("id", nil), ("notice_id", nil), ("group_id", nil), ("group_name", nil), ("sink", nil), ("state", nil),
        ("attempts", "0"), ("claim_seq", "0"), ("lease_owner", nil), ("lease_until", nil), ("next_at", nil),
        ("parts_total", "1"), ("parts_sent", "0"), ("planned_at", nil), ("first_attempt_at", nil),
        ("last_attempt_at", nil), ("sent_at", nil), ("updated_at", nil), ("last_error", nil), ("part_in_flight", nil),
        ("note", nil), ("task_id", nil),
    ]

    /// The row's full image as it reads back: the values inserted, every other column at its default, in the
    /// order of ``schema`` (``layout``).
    var imageValues: [LedgerValue] {
        [
            .text(id), .text(noticeID), .text(groupID), .text(groupName), .text(sink),
            .text(DeliveryState.planned.rawValue), .integer(0), .integer(0), .null, .null, .integer(nextAt),
            .integer(Int64(parts)), .integer(0), .integer(now), .null, .null, .null, .integer(now), .null, .null,
            note.map(LedgerValue.text) ?? .null, .null,
        ]
    }

    /// The layout of ``imageValues``.
    static let layout = CanonicalJSON.Layout(table: "deliveries", columns: schema.map(\.name))

    /// The row's full image, as ``imageValues``.
    var image: RowImage {
        let layout = Self.layout
        let values = imageValues
        return RowImage(
            table: "deliveries", columns: layout.order.map { layout.names[$0] }, values: layout.order.map { values[$0] }
        )
    }
}
