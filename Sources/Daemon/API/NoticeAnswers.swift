import Foundation
import GridcastCore
import Ledger

/// The answer to `POST /v1/notices`: `{"id", "deliveries", "created", "added"}`.
struct NoticeReceiptAnswer: Codable, Equatable, Sendable {
    /// The notice's id, given or derived.
    var id: String
    /// The notice's deliveries in all (one per selected group).
    var deliveries: Int
    /// True when this request recorded the notice; false when the same id already held the same content.
    var created: Bool
    /// Deliveries this request planned: all of them for a new notice; for a known one, one per group its `to`
    /// selects that had none (a selector only ever adds groups), else 0.
    var added: Int
    /// Customer groups this request recorded `quota_refused`: they have had their quota of mass messages; every
    /// other group still gets the notice. Empty when none.
    var quotaRefused: [QuotaRefusal] = []

    /// One customer group over its quota, and why.
    struct QuotaRefusal: Codable, Equatable, Sendable {
        var group: String
        var reason: String
    }

    enum CodingKeys: String, CodingKey {
        case id, deliveries, created, added
        case quotaRefused = "quota_refused"
    }
}

/// The answer to `GET /v1/notices/{id}`: the notice and where each of its deliveries stands.
struct NoticeStatusAnswer: Codable, Equatable, Sendable {
    var id: String
    var title: String
    var urgent: Bool
    var createdAt: Date
    var deliveries: [Delivery]
    /// Deliveries per state (`planned`, `claimed`, `sent`, `accepted`, `retry`, `dead`, `in_doubt`, `cancelled`, and
    /// customer groups' `awaiting_confirmation`, `quota_refused`, `not_delivered`, `expired`), states with none left
    /// out.
    var counts: [String: Int]
    /// When planned deliveries held back (by quiet hours) go out: the latest such time; nil when none waits.
    var heldUntil: Date?
    /// The notice's poster (its identity; the bytes are at `/v1/notices/{id}/poster`), nil when it has none.
    var poster: PosterSummary?
    /// The notice's link card, nil when it has none.
    var link: LinkCard?
    /// Where the next page of `deliveries` starts (`?after=`), nil on the last page.
    var next: String?

    /// One group's delivery.
    struct Delivery: Codable, Equatable, Sendable {
        var groupID: String
        var groupName: String
        var sink: String
        var state: String
        var attempts: Int
        var partsSent: Int
        var partsTotal: Int
        var sentAt: Date?
        /// Why the latest attempt failed, as the ledger recorded it (secret-free).
        var lastError: String?
        /// What the group gets short of the whole notice (a poster it can't show), decided at planning.
        var note: String?
        /// A customer group's: the platform's msgid of the mass-message task it went out in, once created.
        var taskMsgid: String? = nil

        enum CodingKeys: String, CodingKey {
            case groupID = "group_id", groupName = "group_name", sink, state, attempts
            case partsSent = "parts_sent", partsTotal = "parts_total", sentAt = "sent_at", lastError = "last_error"
            case note
            case taskMsgid = "task_msgid"
        }

        /// Encodes `sent_at`, `last_error`, `note` and `task_msgid` as `null` when absent, so every row has every key.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(groupID, forKey: .groupID)
            try container.encode(groupName, forKey: .groupName)
            try container.encode(sink, forKey: .sink)
            try container.encode(state, forKey: .state)
            try container.encode(attempts, forKey: .attempts)
            try container.encode(partsSent, forKey: .partsSent)
            try container.encode(partsTotal, forKey: .partsTotal)
            try container.encode(sentAt, forKey: .sentAt)
            try container.encode(lastError, forKey: .lastError)
            try container.encode(note, forKey: .note)
            try container.encode(taskMsgid, forKey: .taskMsgid)
        }
    }

    enum CodingKeys: String, CodingKey {
        case id, title, urgent, createdAt = "created_at", deliveries, counts, heldUntil = "held_until", poster, link
        case next
    }

    /// Encodes `held_until` as `null` when nothing is held, so the key is always there.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(title, forKey: .title)
        try container.encode(urgent, forKey: .urgent)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(deliveries, forKey: .deliveries)
        try container.encode(counts, forKey: .counts)
        try container.encode(heldUntil, forKey: .heldUntil)
        try container.encode(poster, forKey: .poster)
        try container.encode(link, forKey: .link)
        try container.encode(next, forKey: .next)
    }
}

/// The answer to `DELETE /v1/notices/{id}`: what was cancelled, what is in flight, and the counts after.
struct NoticeCancelAnswer: Codable, Equatable, Sendable {
    var id: String
    /// Groups whose delivery was cancelled now.
    var cancelled: [String]
    /// Groups whose delivery is claimed (in flight): not cancelled, it ends as its send does.
    var inFlight: [String]
    /// Deliveries per state after the cancel, states with none left out.
    var counts: [String: Int]

    enum CodingKeys: String, CodingKey {
        case id, cancelled, inFlight = "in_flight", counts
    }

    /// The answer for a cancel's result and the notice's counts after it.
    init(id: String, result: OperatorActionResult, counts: [DeliveryState: Int]) {
        self.id = id
        cancelled = result.changed.map(\.groupID)
        inFlight = result.unchanged.filter { $0.state == .claimed }.map(\.groupID)
        self.counts = Dictionary(
            uniqueKeysWithValues: counts.filter { $0.value > 0 }.map { ($0.key.rawValue, $0.value) })
    }
}

extension NoticeStatusAnswer {
    /// The answer for a stored notice, its deliveries, its state counts and its customer groups' task msgids (by
    /// delivery id).
    init(
        notice: StoredNotice, deliveries: [DeliveryRecord], counts: [DeliveryState: Int],
        taskMsgids: [String: String] = [:], now: Date
    ) {
        self.id = notice.notice.id
        self.title = notice.notice.title
        self.urgent = notice.notice.urgent
        self.createdAt = notice.createdAt
        self.deliveries = deliveries.map {
            Delivery(
                groupID: $0.groupID, groupName: $0.groupName, sink: $0.sink, state: $0.state.rawValue,
                attempts: $0.attempts, partsSent: $0.partsSent, partsTotal: $0.partsTotal, sentAt: $0.sentAt,
                lastError: $0.lastError, note: $0.note, taskMsgid: taskMsgids[$0.id]
            )
        }
        self.counts = Dictionary(
            uniqueKeysWithValues: counts.filter { $0.value > 0 }.map { ($0.key.rawValue, $0.value) })
        poster = notice.notice.poster.map(PosterSummary.init)
        link = notice.notice.link
        heldUntil = deliveries.filter { $0.state == .planned }.compactMap(\.nextAt).filter { $0 > now }.max()
    }
}
