import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Testing
import Transport

/// `POST /v1/notices` with customer groups: a group that has had its quota of mass messages is named in the answer
/// and recorded `quota_refused`; every other group still gets the notice.
@Suite("API: customer groups over their mass-message quota")
struct CustomerGroupAPITests {
    static func customerGroup(_ id: String) -> GridcastCore.Group {
        var group = GridcastCore.Group(id: id, name: "居民群\(id)", sink: Group.customerGroupSink, url: "")
        group.app = "ls"
        group.owner = "zhang"
        group.chatID = "wr" + id
        return group
    }

    @Test func anUrgentAlertNamesTheGroupsOverQuotaAndStillGoesToTheOthers() async throws {
        let groups = TestGroups.wecom(1, port: 9) + [Self.customerGroup("cg1"), Self.customerGroup("cg2")]
        let app = WeComApp(id: "ls", corpID: "ww-corp", secret: "contactSecret-0001", quota: .perDay(1))
        try await APIHarness.run(groups: groups, wecomApps: [app]) { api in
            let first = try await api.post(#"{"id": "morning", "text": "早间提醒：不转账。", "to": "all"}"#)
            #expect(first.status == 202)
            let firstAnswer = try #require(try JSONSerialization.jsonObject(with: Data(first.body)) as? [String: Any])
            #expect((firstAnswer["quota_refused"] as? [Any])?.isEmpty == true)

            let urgent = try await api.post(
                #"{"id": "urgent", "text": "紧急：冒充公检法诈骗。", "to": "all", "urgent": true}"#)
            #expect(urgent.status == 202)
            let answer = try #require(try JSONSerialization.jsonObject(with: Data(urgent.body)) as? [String: Any])
            let refused = try #require(answer["quota_refused"] as? [[String: String]])
            #expect(refused.map { $0["group"] } == ["cg1", "cg2"])
            #expect(refused.allSatisfy { $0["reason"]?.contains("quota 1/day") == true })
            #expect(answer["deliveries"] as? Int == 3)
            let states = try await api.store.deliveries(noticeID: "urgent").map { ($0.groupID, $0.state) }
            #expect(states.first { $0.0 == "cg1" }?.1 == .quotaRefused)
            #expect(states.first { !$0.0.hasPrefix("cg") }?.1 == .planned, "the webhook group still gets it")
        }
    }
}
