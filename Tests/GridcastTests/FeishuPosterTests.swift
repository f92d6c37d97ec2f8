import Emulator
import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Sinks
import Testing

@testable import Fanout

/// Feishu/Lark groups with an app (`feishu_app:`) get the poster as an image: uploaded with the app's tenant token
/// (once per app), posted by the custom bot by its `image_key` (docs/rich-notices.md).
@Suite("Feishu posters through an app's upload", .serialized)
struct FeishuPosterTests {
    static let appSecret = "feishuAppSecret-0123456789"

    static func group(_ id: String, port: Int, app: FeishuApp?, keyword: String? = nil) -> Group {
        var group = Group(
            id: id, name: "飞书\(id)", sink: "feishu", url: "http://127.0.0.1:\(port)/open-apis/bot/v2/hook/hook-\(id)",
            keyword: keyword, rate: .perSecond(1000))
        group.feishuApp = app
        return group
    }

    static func app(secret: String = appSecret) -> FeishuApp {
        FeishuApp(appID: "cli_gridcast", appSecret: secret)
    }

    @Test func twoGroupsOfOneAppGetThePosterAsAnImageUploadedOnce() async throws {
        let notice = RichFixtures.notice()
        let rig = try await RichNoticeRig.start { port in
            ["fs1", "fs2"].map { Self.group($0, port: port, app: Self.app()) }
        }
        #expect(try rig.plan(notice).targets.map(\.parts) == [2, 2])
        #expect(try rig.plan(notice).targets.map(\.note) == [nil, nil])
        let rows = try await rig.send(notice)
        #expect(rows.map(\.state) == [.sent, .sent])
        #expect(rows.map(\.partsSent) == [2, 2])
        let received = try await rig.server.received()
        let images = received.compactMap(\.image)
        #expect(
            images == [
                ReceivedImage(sha256: notice.poster!.sha256, size: 67),
                ReceivedImage(sha256: notice.poster!.sha256, size: 67),
            ])
        // The card rides on the text part, which comes before the image.
        #expect(received.filter { $0.image == nil }.allSatisfy { $0.card?.url == RichFixtures.card.url })
        let counts = try await rig.server.feishuAppCounts()
        #expect(counts.tokens == 1)
        #expect(counts.uploads == 1)
        try await rig.close()
    }

    @Test func anExpiredTenantTokenIsRenewedOnceAndThePosterStillArrives() async throws {
        let rig = try await RichNoticeRig.start { port in [Self.group("fs", port: port, app: Self.app())] }
        #expect(try await rig.send(RichFixtures.notice(id: "first")).map(\.state) == [.sent])
        try await rig.server.expireFeishuTokens()
        // Another poster (another sha256), so this notice needs a new upload with the expired token.
        var second = RichFixtures.notice(id: "second")
        second.poster = try Poster(bytes: RichFixtures.png + [0])
        #expect(try await rig.send(second).map(\.state) == [.sent])
        let counts = try await rig.server.feishuAppCounts()
        #expect(counts.tokens == 2)
        #expect(counts.uploads == 2)
        #expect(try await rig.server.received().compactMap(\.image).count == 2)
        try await rig.close()
    }

    @Test func aRefusedUploadEndsTheDeliveryDeadAfterTheTextWithoutTheSecret() async throws {
        // The emulator knows the app's real secret; gridcast is configured with another one.
        let rig = try await RichNoticeRig.start { port in [Self.group("fs", port: port, app: Self.app())] }
        var config = rig.config
        config.groups[0].feishuApp = Self.app(secret: "wrongSecret-9876543210")
        let wrong = RichNoticeRig(
            server: rig.server, store: rig.store, transport: rig.transport, config: config, directory: rig.directory)
        let rows = try await wrong.send(RichFixtures.notice())
        #expect(rows.map(\.state) == [.dead])
        #expect(rows.map(\.partsSent) == [1])
        let error = try #require(rows.first?.lastError)
        #expect(error.contains("poster upload failed: code 10014"))
        #expect(!error.contains("wrongSecret"))
        #expect(try await rig.server.received().count == 1)
        try await rig.close()
    }

    @Test func withoutAnAppOrWithAKeywordThePosterIsNotShownAndTheLedgerSaysWhy() async throws {
        let notice = RichFixtures.notice(posterURL: "https://example.org/poster.png")
        let rig = try await RichNoticeRig.start { port in
            [Self.group("bare", port: port, app: nil), Self.group("kw", port: port, app: Self.app(), keyword: "反诈")]
        }
        let plan = try rig.plan(notice)
        #expect(plan.targets.map(\.parts) == [1, 1])
        #expect(plan.targets.allSatisfy { $0.note?.hasPrefix("poster not shown:") == true })
        let rows = try await rig.send(notice)
        #expect(rows.map(\.state) == [.sent, .sent])
        #expect(rows.allSatisfy { $0.note?.hasPrefix("poster not shown:") == true })
        #expect(try await rig.server.received().allSatisfy { $0.text.contains("海报：https://example.org/poster.png") })
        #expect(try await rig.server.feishuAppCounts().uploads == 0)
        try await rig.close()
    }
}
