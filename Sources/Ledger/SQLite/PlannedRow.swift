import Foundation
import GRDB
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

    /// The arguments of one row of `SQLiteLedgerStore.insertDeliveries`, in its column order.
    var values: [DatabaseValue] {
        [
            id.databaseValue, noticeID.databaseValue, groupID.databaseValue, groupName.databaseValue,
            sink.databaseValue, nextAt.databaseValue, parts.databaseValue, now.databaseValue, now.databaseValue,
            note.databaseValue,
        ]
    }

    /// Every column of `deliveries` with its declared default (nil: none, so NULL unless inserted), as
    /// `PRAGMA table_info` reports them. The image below is right only for exactly this table.
    static let schema: [(name: String, defaultValue: String?)] = [
        ("id", nil), ("notice_id", nil), ("group_id", nil), ("group_name", nil), ("sink", nil), ("state", nil),
        ("attempts", "0"), ("claim_seq", "0"), ("lease_owner", nil), ("lease_until", nil), ("next_at", nil),
        ("parts_total", "1"), ("parts_sent", "0"), ("planned_at", nil), ("first_attempt_at", nil),
        ("last_attempt_at", nil), ("sent_at", nil), ("updated_at", nil), ("last_error", nil), ("part_in_flight", nil),
        ("note", nil), ("task_id", nil),
    ]

    /// Whether the ledger's `deliveries` table has exactly the columns and defaults of ``schema``.
    static func matchesSchema(_ db: Database) throws -> Bool {
        let columns = try Row.fetchAll(db, sql: "PRAGMA table_info(deliveries)").map {
            (name: $0["name"] as String, defaultValue: $0["dflt_value"] as String?)
        }
        return columns.elementsEqual(schema) { $0.name == $1.name && $0.defaultValue == $1.defaultValue }
    }

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
