import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Testing
import Transport

@testable import Daemon

/// `DELETE /v1/notices/{id}` and `held_until`, through the real API over a real ledger.
extension APITests {
    @Test func deleteCancelsTheUnsentDeliveriesAndNamesTheOnesInFlight() async throws {
        try await withAPI { api in
            let posted = try await api.post(#"{"id":"n-cancel","text":"不转账","to":"all"}"#)
            #expect(posted.status == 202)
            let inFlight = try #require(
                try await api.store.claim(
                    ClaimRequest(
                        owner: "p", limit: 1, noticeID: "n-cancel", now: Self.now, timeout: .seconds(15),
                        leaseMargin: .seconds(30))
                ).first)

            #expect(try await api.call("DELETE", "/v1/notices/n-cancel", token: nil).status == 401)
            let response = try await api.call("DELETE", "/v1/notices/n-cancel")
            #expect(response.status == 200)
            let answer = try object(response)
            #expect((answer["cancelled"] as? [String])?.count == 2)
            #expect(answer["in_flight"] as? [String] == [inFlight.groupID])
            #expect(answer["counts"] as? [String: Int] == ["cancelled": 2, "claimed": 1])
            let rows = try await api.store.deliveries(matching: DeliveryFilter(noticeID: "n-cancel", state: .cancelled))
            #expect(rows.allSatisfy { $0.lastError == "cancelled by api: DELETE /v1/notices/n-cancel" })

            let status = try object(try await api.call("GET", "/v1/notices/n-cancel"))
            #expect(status["counts"] as? [String: Int] == ["cancelled": 2, "claimed": 1])
            #expect(status["held_until"] is NSNull)

            let unknown = try await api.call("DELETE", "/v1/notices/no-such")
            #expect(unknown.status == 404)
            #expect(try error(unknown).field == "id")
        }
    }

    @Test func aNoticeHeldByQuietHoursSaysUntilWhen() async throws {
        try await withAPI { api in
            let release = Self.now.addingTimeInterval(3 * 3600)
            let group = try #require(api.config.groups.first)
            _ = try await api.store.plan(
                Plan(
                    notice: Notice(id: "n-held", title: "T", text: "不转账"), selector: "all", origin: "api",
                    targets: [
                        PlanTarget(groupID: group.id, groupName: group.name, sink: group.sink, notBefore: release)
                    ],
                    now: Self.now))
            let status = try object(try await api.call("GET", "/v1/notices/n-held"))
            let formatter = ISO8601DateFormatter()
            #expect((status["held_until"] as? String).flatMap(formatter.date(from:)) == release)
        }
    }

    /// A city's notice has 100,000 deliveries: its status answers a page of them, with where the next starts, and
    /// the counts of all of them.
    @Test func aNoticesDeliveriesComePageByPage() async throws {
        try await withAPI { api in
            #expect(try await api.post(#"{"id":"n-pages","text":"不转账","to":"all"}"#).status == 202)
            let total = api.config.groups.count
            #expect(total >= 3)
            var seen: [String] = []
            var after: String?
            var pages = 0
            repeat {
                let path = "/v1/notices/n-pages?limit=2" + (after.map { "&after=\($0)" } ?? "")
                let page = try object(try await api.call("GET", path))
                let rows = try #require(page["deliveries"] as? [[String: Any]])
                #expect(rows.count <= 2)
                #expect(page["counts"] as? [String: Int] == ["planned": total])
                seen += rows.compactMap { $0["group_id"] as? String }
                after = page["next"] as? String
                pages += 1
            } while after != nil && pages < 100
            #expect(seen.sorted() == api.config.groups.map(\.id).sorted())
            #expect(pages == (total + 1) / 2)
            let whole = try object(try await api.call("GET", "/v1/notices/n-pages"))
            #expect((whole["deliveries"] as? [[String: Any]])?.count == total && whole["next"] is NSNull)

            for (query, field) in [("limit=0", "limit"), ("limit=10001", "limit"), ("after=dlv_nope", "after")] {
                let refused = try await api.call("GET", "/v1/notices/n-pages?\(query)")
                #expect(refused.status == 400, "\(query)")
                #expect(try error(refused).field == field, "\(query)")
            }
        }
    }
}
