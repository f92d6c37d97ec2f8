import Fanout
import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Logging
import Prometheus
import Reports
import ServiceLifecycle
import Sinks
import Testing
import Transport

@testable import Daemon

/// The HTTP API of `gridcast serve`, served for real on a loopback port over a real SQLite ledger and called with
/// the libcurl transport.
@Suite("HTTP API: auth, idempotent intake, validation, notice states, report, metrics")
struct APITests {
    static let token = APIHarness.token
    static let now = APIHarness.now

    typealias Harness = APIHarness

    /// Starts the API on port 0 with `groups` (three WeCom groups by default, never contacted), runs `body`, stops.
    func withAPI(
        groups: [GridcastCore.Group] = TestGroups.wecom(3, port: 9),
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        _ body: (Harness) async throws -> Void
    ) async throws {
        try await APIHarness.run(groups: groups, registry: registry, body)
    }

    /// The JSON body as a dictionary.
    func object(_ response: HTTPResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    /// The answer of `POST /v1/notices`.
    func receipt(_ response: HTTPResponse) throws -> NoticeReceiptAnswer {
        try JSONDecoder().decode(NoticeReceiptAnswer.self, from: Data(response.body))
    }

    /// The `{"error", "field"}` body of an error answer.
    func error(_ response: HTTPResponse) throws -> APIError.Body {
        #expect(response.header("content-type")?.hasPrefix("application/json") == true)
        return try JSONDecoder().decode(APIError.Body.self, from: Data(response.body))
    }

    // MARK: - Authentication

    @Test func healthzAnswersWithoutAToken() async throws {
        try await withAPI { api in
            let response = try await api.call("GET", "/healthz", token: nil)
            #expect(response.status == 200)
            #expect(response.bodyText == "ok")
        }
    }

    @Test func everyOtherRouteNeedsTheBearerToken() async throws {
        try await withAPI { api in
            let wrong = "api-token-7f3c9e1b5a2d4c6e8f0b"
            let attempts: [(String, String, String?, [HTTPHeader])] = [
                ("GET", "/metrics", nil, []),
                ("GET", "/metrics", wrong, []),
                ("GET", "/metrics", String(Self.token.dropLast()), []),
                ("GET", "/metrics", Self.token + "x", []),
                ("GET", "/v1/notices/n1", nil, [HTTPHeader("Authorization", "Basic \(Self.token)")]),
                ("GET", "/v1/notices/n1", nil, [HTTPHeader("Authorization", Self.token)]),
                ("GET", "/v1/reports/daily", "", []),
                ("POST", "/v1/notices", wrong, []),
                ("GET", "/no/such/route", nil, []),
            ]
            for (method, path, token, headers) in attempts {
                let response = try await api.call(method, path, token: token, headers: headers)
                #expect(response.status == 401, "\(method) \(path)")
                #expect(response.header("www-authenticate")?.hasPrefix("Bearer") == true)
                #expect(
                    try error(response) == APIError.Body(error: "missing or wrong bearer token", field: "authorization")
                )
                #expect(!response.bodyText.contains(Self.token))
                #expect(!response.bodyText.contains(wrong))
                #expect(!response.headers.values.contains { $0.contains(Self.token) || $0.contains(wrong) })
            }
            // The scheme is case-insensitive; with the right token an unknown route is a JSON 404.
            let lowercase = try await api.call(
                "GET", "/no/such/route", token: nil, headers: [HTTPHeader("Authorization", "bearer \(Self.token)")]
            )
            #expect(lowercase.status == 404)
            #expect(try error(lowercase).field == nil)
        }
    }

    @Test func tokenComparisonLooksAtEveryByte() {
        let expected = Array("s3cret-token".utf8)
        #expect(ConstantTimeComparison.equal("s3cret-token"[...], expected))
        #expect(!ConstantTimeComparison.equal("s3cret-tokeN"[...], expected))
        #expect(!ConstantTimeComparison.equal("s3cret-token-s3cret-token"[...], expected))
        #expect(!ConstantTimeComparison.equal("s3cret"[...], expected))
        #expect(!ConstantTimeComparison.equal(""[...], expected))
        #expect(!ConstantTimeComparison.equal(""[...], []))
        #expect(BearerTokenMiddleware<APIRequestContext>.bearerToken(in: ["Bearer  abc "]) == "abc")
        #expect(BearerTokenMiddleware<APIRequestContext>.bearerToken(in: ["Bearer abc", "Bearer abc"]) == nil)
        #expect(BearerTokenMiddleware<APIRequestContext>.bearerToken(in: ["Token abc"]) == nil)
        #expect(!String(describing: APISettings(token: Self.token)).contains(Self.token))
        #expect(!String(reflecting: APISettings(token: Self.token)).contains(Self.token))
    }

    // MARK: - POST /v1/notices

    @Test func sameNoticeTwiceIsAcceptedOnceAndOtherContentConflicts() async throws {
        try await withAPI { api in
            let notice = #"{"id": "alert-1", "title": "紧急提醒", "text": "冒充公检法的电话一律挂断。", "to": "all", "urgent": true}"#
            let first = try await api.post(notice)
            #expect(first.status == 202)
            #expect(try receipt(first) == NoticeReceiptAnswer(id: "alert-1", deliveries: 3, created: true, added: 3))

            let again = try await api.post(notice)
            #expect(again.status == 200)
            #expect(try receipt(again) == NoticeReceiptAnswer(id: "alert-1", deliveries: 3, created: false, added: 0))

            let other = try await api.post(#"{"id": "alert-1", "text": "另一条内容", "to": "all"}"#)
            #expect(other.status == 409)
            #expect(try error(other).field == "id")
            #expect(try await api.store.deliveries(noticeID: "alert-1").count == 3)

            // Without an id the id is derived from the content and the day: a repeat is the same notice.
            let derived = try await api.post(#"{"text": "不点击陌生链接。", "to": "tag:even"}"#)
            #expect(derived.status == 202)
            let id = try receipt(derived).id
            #expect(id.hasPrefix("n-20261128-"))
            #expect(try receipt(derived).deliveries == 2)
            let derivedAgain = try await api.post(#"{"text": "不点击陌生链接。", "to": "tag:even"}"#)
            #expect(derivedAgain.status == 200)
            #expect(try receipt(derivedAgain) == NoticeReceiptAnswer(id: id, deliveries: 2, created: false, added: 0))
        }
    }

    /// A selector is additive: re-posting an id with the same content and a wider `to` plans the newly selected
    /// groups (never a second delivery to a group that has one) and says how many it added, with 202 since new
    /// work was accepted; `created` stays false, as the notice existed.
    @Test func repostingAnIDWithAWiderSelectorSaysHowManyDeliveriesItAdded() async throws {
        try await withAPI { api in
            let first = try await api.post(#"{"id": "alert-w", "text": "冒充客服退款的都是骗子。", "to": "tag:even"}"#)
            #expect(first.status == 202)
            #expect(try object(first)["added"] as? Int == 2)

            let wider = try await api.post(#"{"id": "alert-w", "text": "冒充客服退款的都是骗子。", "to": "all"}"#)
            #expect(wider.status == 202)
            let answer = try object(wider)
            #expect(answer["created"] as? Bool == false)
            #expect(answer["added"] as? Int == 1, "\(answer)")
            #expect(answer["deliveries"] as? Int == 3)
            #expect(try await api.store.deliveries(noticeID: "alert-w").count == 3)

            let again = try await api.post(#"{"id": "alert-w", "text": "冒充客服退款的都是骗子。", "to": "all"}"#)
            #expect(again.status == 200)
            #expect(try object(again)["added"] as? Int == 0)
            let narrower = try await api.post(#"{"id": "alert-w", "text": "冒充客服退款的都是骗子。", "to": "group:g0000"}"#)
            #expect(narrower.status == 200, "a narrower selector cancels nothing")
            #expect(try object(narrower)["added"] as? Int == 0)
            #expect(try await api.store.deliveries(noticeID: "alert-w").count == 3)
        }
    }

    @Test func invalidNoticesAre422NamingTheField() async throws {
        try await withAPI { api in
            let cases: [(String, String)] = [
                (#"{"text": "不转账", "to": "group:nope"}"#, "to"),
                (#"{"text": "不转账", "to": "tag:nope"}"#, "to"),
                (#"{"text": "不转账", "to": "everyone"}"#, "to"),
                (#"{"text": "   ", "to": "all"}"#, "text"),
                (#"{"text": "", "to": "all"}"#, "text"),
                (#"{"to": "all"}"#, "text"),
                (#"{"text": "不转账"}"#, "to"),
                (#"{"text": null, "to": "all"}"#, "text"),
                (#"{"id": "bad id!", "text": "不转账", "to": "all"}"#, "id"),
                (#"{"text": "不转账", "to": "all", "urgnet": true}"#, "urgnet"),
            ]
            for (json, field) in cases {
                let response = try await api.post(json)
                #expect(response.status == 422, "\(json)")
                #expect(try error(response).field == field, "\(json)")
                // A refusal names groups and tags by id, never by URL.
                #expect(!response.bodyText.contains("127.0.0.1"))
            }
            #expect(try await api.store.pending(noticeID: nil, now: Self.now).isSettled)
        }
    }

    @Test func unreadableBodiesAre400() async throws {
        try await withAPI { api in
            let cases: [(String, String?)] = [
                (#"{"text": "不转账", "to": "all""#, nil),
                ("not json", nil),
                ("", nil),
                (#"["text", "to"]"#, nil),
                (#"{"text": 42, "to": "all"}"#, "text"),
                (#"{"text": "不转账", "to": ["all"]}"#, "to"),
                (#"{"text": "不转账", "to": "all", "urgent": "yes"}"#, "urgent"),
                (#"{"text": "不转账", "to": "all", "title": false}"#, "title"),
            ]
            for (json, field) in cases {
                let response = try await api.post(json)
                #expect(response.status == 400, "\(json)")
                #expect(try error(response).field == field, "\(json)")
            }
        }
    }

    /// A notice's body may carry a poster, so its limit is 3 MiB (docs/rich-notices.md); over it, 413 unread.
    @Test func noticeBodiesOver3MiBAre413() async throws {
        try await withAPI { api in
            let huge = #"{"to": "all", "text": ""# + String(repeating: "不", count: 1_200_000) + #""}"#
            #expect(huge.utf8.count > 3 * 1024 * 1024)
            let response = try await api.call("POST", "/v1/notices", body: Array(huge.utf8))
            #expect(response.status == 413)
            #expect(try error(response).field == nil)
            // Just over the limit is refused too; the connection stays usable afterwards.
            let over = try await api.call(
                "POST", "/v1/notices", body: Array(repeating: UInt8(ascii: " "), count: 3 * 1024 * 1024 + 1)
            )
            #expect(over.status == 413)
            #expect(try await api.call("GET", "/healthz", token: nil).status == 200)
            #expect(try await api.store.pending(noticeID: nil, now: Self.now).isSettled)
        }
    }

    // MARK: - GET /v1/notices/{id}

    @Test func noticeStatusShowsEachGroupsDelivery() async throws {
        try await withAPI { api in
            #expect(try await api.post(#"{"id": "n1", "title": "五不", "text": "不回拨、不轻信", "to": "all"}"#).status == 202)
            // One delivery sent, one dead, one still planned.
            let claims = try await api.store.claim(
                ClaimRequest(owner: "test", limit: 2, noticeID: "n1", now: Self.now, timeout: .seconds(15))
            ).sorted { $0.groupID < $1.groupID }
            #expect(claims.count == 2)
            let lost = try await api.store.record([
                DeliveryOutcome(claim: claims[0], result: .sent, partsSent: 1, error: nil, at: Self.now),
                DeliveryOutcome(
                    claim: claims[1], result: .dead, partsSent: 0, error: "HTTP 400 errcode 93000", at: Self.now),
            ])
            #expect(lost.isEmpty)

            let response = try await api.call("GET", "/v1/notices/n1")
            #expect(response.status == 200)
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            let answer = try decoder.decode(NoticeStatusAnswer.self, from: Data(response.body))
            #expect(answer.id == "n1")
            #expect(answer.title == "五不")
            #expect(answer.urgent == false)
            #expect(answer.createdAt == Self.now)
            #expect(answer.counts == ["sent": 1, "dead": 1, "planned": 1])
            #expect(answer.deliveries.map(\.groupID) == ["g0000", "g0001", "g0002"])
            #expect(answer.deliveries.map(\.state) == ["sent", "dead", "planned"])
            #expect(
                answer.deliveries[0]
                    == .init(
                        groupID: "g0000", groupName: "网格群0", sink: "wecom", state: "sent", attempts: 1, partsSent: 1,
                        partsTotal: 1, sentAt: Self.now, lastError: nil, note: nil))
            #expect(answer.deliveries[1].lastError == "HTTP 400 errcode 93000")
            #expect(answer.deliveries[2].attempts == 0)
            // Every row has every key, absent values as null; times are ISO 8601 in the config's zone, with the offset.
            let raw = try object(response)
            #expect(raw["created_at"] as? String == "2026-11-28T10:00:00+08:00")
            let rows = try #require(raw["deliveries"] as? [[String: Any]])
            for row in rows {
                #expect(
                    Set(row.keys) == [
                        "group_id", "group_name", "sink", "state", "attempts", "parts_sent", "parts_total", "sent_at",
                        "last_error", "note", "task_msgid",
                    ])
            }
            #expect(rows[0]["sent_at"] as? String == "2026-11-28T10:00:00+08:00")
            #expect(rows[0]["last_error"] is NSNull)
            #expect(rows[2]["sent_at"] is NSNull)
            // Groups by id and name only: no webhook URL, no bot key.
            #expect(!response.bodyText.contains("key-"))
            #expect(!response.bodyText.contains("127.0.0.1"))
        }
    }

    @Test func unknownNoticeIs404() async throws {
        try await withAPI { api in
            for path in ["/v1/notices/nope", "/v1/notices/bad%20id"] {
                let response = try await api.call("GET", path)
                #expect(response.status == 404)
                #expect(try error(response).field == "id")
            }
        }
    }

    // MARK: - GET /v1/reports/daily

    @Test func dailyReportIsTheReportJSON() async throws {
        try await withAPI { api in
            #expect(try await api.post(#"{"id": "n1", "text": "不转账", "to": "all"}"#).status == 202)
            let claims = try await api.store.claim(
                ClaimRequest(owner: "test", limit: 3, noticeID: "n1", now: Self.now, timeout: .seconds(15))
            )
            _ = try await api.store.record(
                claims.map { DeliveryOutcome(claim: $0, result: .sent, partsSent: 1, error: nil, at: Self.now) }
            )
            let day = LocalDay(date: Self.now, timeZone: api.config.timeZone)
            let expected = try await PeriodReport.make(day: day, store: api.store)
            #expect(expected.sent == 3)

            for path in ["/v1/reports/daily", "/v1/reports/daily?date=2026-11-28"] {
                let response = try await api.call("GET", path)
                #expect(response.status == 200)
                #expect(response.header("content-type")?.hasPrefix("application/json") == true)
                // Byte for byte what `gridcast report daily --format json` prints.
                #expect(response.bodyText == expected.json)
                let keys = Set(try object(response).keys)
                #expect(
                    keys == [
                        "period", "date", "from", "to", "timezone", "notices", "groups", "deliveries", "sent",
                        "pending",
                        "retry", "dead", "in_doubt", "cancelled", "accepted", "by_day", "by_group", "by_notice",
                        "failures", "tasks_created", "awaiting_confirmation", "quota_refused", "not_delivered",
                        "expired",
                    ])
            }
            let yesterday = try await api.call("GET", "/v1/reports/daily?date=2026-11-27")
            #expect(try JSONDecoder().decode(PeriodReport.self, from: Data(yesterday.body)).deliveries == 0)

            for bad in ["2026-02-30", "yesterday", "2026-1-5", ""] {
                let response = try await api.call("GET", "/v1/reports/daily?date=\(bad)")
                #expect(response.status == 400, "\(bad)")
                #expect(try error(response).field == "date")
            }
        }
    }

    @Test func weeklyAndMonthlyReportsAreTheirReportJSON() async throws {
        try await withAPI { api in
            #expect(try await api.post(#"{"id": "n1", "text": "不转账", "to": "all"}"#).status == 202)
            let day = LocalDay(date: Self.now, timeZone: api.config.timeZone)
            for (route, period) in [("weekly", PeriodReport.Period.week), ("monthly", .month)] {
                let expected = try await PeriodReport.make(period, containing: day, store: api.store)
                #expect(expected.deliveries == 3)
                for query in ["", "?date=\(day)"] {
                    let response = try await api.call("GET", "/v1/reports/\(route)\(query)")
                    #expect(response.status == 200)
                    #expect(response.bodyText == expected.json, "\(route)\(query)")
                }
                let bad = try await api.call("GET", "/v1/reports/\(route)?date=2026-02-30")
                #expect(bad.status == 400)
                #expect(try error(bad).field == "date")
                #expect(try await api.call("GET", "/v1/reports/\(route)", token: nil).status == 401)
            }
        }
    }

    // MARK: - GET /metrics

    @Test func metricsRenderTheRegistry() async throws {
        let registry = PrometheusCollectorRegistry()
        let deliveries = MetricNameDescriptor(
            namespace: "gridcast", subsystem: "test", metricName: "deliveries", unitName: "total",
            helpText: "Deliveries by sink and outcome."
        )
        registry.makeCounter(descriptor: deliveries, labels: [("sink", "wecom"), ("outcome", "sent")])
            .increment(by: Int64(7))
        try await withAPI(registry: registry) { api in
            let response = try await api.call("GET", "/metrics")
            #expect(response.status == 200)
            #expect(response.header("content-type")?.hasPrefix("text/plain; version=0.0.4") == true)
            #expect(response.bodyText.contains("# HELP gridcast_test_deliveries_total Deliveries by sink and outcome."))
            #expect(response.bodyText.contains("# TYPE gridcast_test_deliveries_total counter"))
            #expect(response.bodyText.contains(#"gridcast_test_deliveries_total{sink="wecom",outcome="sent"} 7"#))
        }
    }
}
