import Foundation
import GridcastCore
import PostgresNIO

/// How the PostgreSQL store reads `deliveries` rows as ``DeliveryRecord``s: the columns listings select and the one
/// decoder of them, shared by the queries and the operator's actions.
enum PostgresDeliveryRows {
    /// The delivery's own columns a record holds, with its notice's title (`d`: deliveries, `n`: notices).
    static let columns = """
        d.id, d.notice_id, d.group_id, d.group_name, d.sink, d.state, d.attempts, d.parts_total, d.parts_sent,
        d.planned_at, d.first_attempt_at, d.last_attempt_at, d.sent_at, d.updated_at, d.next_at, d.lease_owner,
        d.lease_until, d.last_error, d.note, n.title AS notice_title
        """

    /// The notice's poster (without its bytes) and card, as listings show them beside each delivery
    /// (`p`: the notice's poster, left-joined).
    static let noticeExtras = """
        n.poster_sha256, p.format AS poster_format, p.size AS poster_size, n.image_url, n.link_url, n.link_title,
        n.link_description, n.link_picurl
        """

    /// The record a row of ``columns`` reads as; with ``noticeExtras`` also selected, its poster and card too
    /// (without them both stay nil, as on SQLite).
    static func record(from row: PostgresRow) throws -> DeliveryRecord {
        let row = row.makeRandomAccess()
        func text(_ column: String) throws -> String { try row[column].decode(String.self) }
        func optionalText(_ column: String) throws -> String? {
            row.contains(column) ? try row[column].decode(String?.self) : nil
        }
        func int(_ column: String) throws -> Int { Int(try row[column].decode(Int64.self)) }
        func date(_ column: String) throws -> Date? {
            try row[column].decode(Int64?.self).map(Date.init(ledgerMillis:))
        }
        var poster: PosterSummary?
        if let sha256 = try optionalText("poster_sha256") {
            let size = try row.contains("poster_size") ? row["poster_size"].decode(Int64?.self) : nil
            poster = PosterSummary(
                sha256: sha256, format: try optionalText("poster_format") ?? "", size: Int(size ?? 0),
                url: try optionalText("image_url"))
        }
        var link: LinkCard?
        if let url = try optionalText("link_url") {
            link = LinkCard(
                url: url, title: try optionalText("link_title") ?? "",
                description: try optionalText("link_description") ?? "", pictureURL: try optionalText("link_picurl"))
        }
        return DeliveryRecord(
            id: try text("id"), noticeID: try text("notice_id"), noticeTitle: try text("notice_title"),
            groupID: try text("group_id"), groupName: try text("group_name"), sink: try text("sink"),
            state: DeliveryState(rawValue: try text("state")) ?? .inDoubt,
            attempts: try int("attempts"), partsTotal: try int("parts_total"), partsSent: try int("parts_sent"),
            plannedAt: Date(ledgerMillis: try row["planned_at"].decode(Int64.self)),
            firstAttemptAt: try date("first_attempt_at"), lastAttemptAt: try date("last_attempt_at"),
            sentAt: try date("sent_at"), updatedAt: Date(ledgerMillis: try row["updated_at"].decode(Int64.self)),
            nextAt: try date("next_at"), leaseOwner: try optionalText("lease_owner"),
            leaseUntil: try date("lease_until"), lastError: try optionalText("last_error"),
            note: try optionalText("note"), poster: poster, link: link
        )
    }
}
