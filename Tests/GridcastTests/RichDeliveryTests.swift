import Emulator
import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Sinks
import Testing
import Transport

@testable import Fanout

/// Posters and link cards, through the planner, the dispatcher, a real SQLite ledger and the emulator's checks of each
/// platform's rules (docs/rich-notices.md).
@Suite("Rich notices: posters and cards reach every group as its platform shows them", .serialized)
struct RichDeliveryTests {
    static func wecom(_ port: Int) -> [Group] { TestGroups.wecom(1, port: port, prefix: "wc") }

    @Test func aWeComGroupGetsTheTextThenThePosterThenTheCardOnce() async throws {
        let notice = RichFixtures.notice()
        let rig = try await RichNoticeRig.start(Self.wecom)
        let plan = try rig.plan(notice)
        #expect(plan.targets.map(\.parts) == [3])
        #expect(plan.targets.map(\.note) == [nil])
        let rows = try await rig.send(notice)
        #expect(rows.map(\.state) == [.sent])
        #expect(rows.map(\.partsSent) == [3])
        let received = try await rig.server.received()
        #expect(received.count == 3)
        #expect(received.first?.text == "反诈海报\n\n接到 96110 来电，请一定接听。")
        #expect(received.dropFirst().first?.image == ReceivedImage(sha256: notice.poster!.sha256, size: 67))
        #expect(received.last?.card == ReceivedCard(url: RichFixtures.card.url, title: RichFixtures.card.title))
        try await rig.close()
    }

    @Test func aGenericReceiverGetsThePosterAndTheCardInTheFirstMessage() async throws {
        let withData = RichFixtures.notice(id: "data")
        let withURL = RichFixtures.notice(id: "url", posterURL: "https://example.org/poster.png")
        let rig = try await RichNoticeRig.start { [TestGroups.generic("gen", port: $0)] }
        for notice in [withData, withURL] {
            #expect(try rig.plan(notice).targets.map(\.parts) == [1])
            #expect(try await rig.send(notice).map(\.state) == [.sent])
        }
        let received = try await rig.server.received()
        let sha = RichFixtures.poster().sha256
        #expect(
            received.map(\.image) == [
                ReceivedImage(sha256: sha, size: 67),
                ReceivedImage(sha256: sha, size: 67, url: "https://example.org/poster.png"),
            ])
        #expect(received.allSatisfy { $0.card?.url == RichFixtures.card.url })
        try await rig.close()
    }

    /// One group on each platform that shows posters and cards.
    static func everyPlatform(_ port: Int) -> [Group] {
        let base = "http://127.0.0.1:\(port)"
        return [
            TestGroups.wecom(1, port: port, prefix: "wc")[0],
            TestGroups.generic("gen", port: port),
            Group(id: "slack", name: "Slack", sink: "slack", url: "\(base)/services/T0/B0/richslack"),
            Group(
                id: "ding", name: "钉钉群", sink: "dingtalk", url: "\(base)/robot/send?access_token=dt-rich",
                secret: "SECrich-dingtalk-secret", keyword: "反诈", rate: .perSecond(1000)
            ),
            Group(
                id: "teams", name: "Teams", sink: "teams",
                url: "\(base)/workflows/rich/triggers/manual/paths/invoke?api-version=1&sig=teamsRichSig",
                rate: .perSecond(1000)
            ),
            Group(id: "discord", name: "Discord", sink: "discord", url: "\(base)/api/webhooks/4242/discordRich"),
            Group(
                id: "tg", name: "Telegram", sink: "telegram", url: "\(base)/bot4242:RICHtoken/sendMessage",
                chatID: "-1004242", rate: .perSecond(1000)
            ),
        ]
    }

    @Test func aPosterAndCardNoticeArrivesCompleteAndOnceOnEveryPlatform() async throws {
        let notice = RichFixtures.notice(posterURL: "https://example.org/poster.png")
        let rig = try await RichNoticeRig.start(Self.everyPlatform)
        let plan = try rig.plan(notice)
        #expect(plan.targets.allSatisfy { $0.note == nil }, "every poster shown")
        let rows = try await rig.send(notice)
        #expect(rows.allSatisfy { ($0.state == .sent || $0.sink == "teams") && $0.partsSent == $0.partsTotal })
        #expect(rows.filter { $0.sink == "teams" }.map(\.state) == [.accepted])
        let received = try await rig.server.received()
        for target in plan.targets {
            let got = received.filter { $0.group == target.groupID }
            #expect(got.count == target.parts, "\(target.groupID): each part once")
            #expect(try await rig.server.requestCount(group: target.groupID) == target.parts)
            #expect(got.first?.text.contains("接到 96110 来电") == true, "\(target.groupID): text first")
            let image = try #require(got.compactMap(\.image).first, "\(target.groupID): the poster")
            #expect(image.sha256 == notice.poster?.sha256 || image.url == notice.poster?.url)
            let cards = got.compactMap(\.card)
            #expect(cards.map(\.url) == [RichFixtures.card.url], "\(target.groupID): the card once")
            #expect(cards.allSatisfy { $0.title.hasSuffix(RichFixtures.card.title) })
        }
        try await rig.close()
    }

    @Test func uploadedPostersArriveWithTheirBytesIntact() async throws {
        let notice = RichFixtures.notice()
        let rig = try await RichNoticeRig.start(Self.everyPlatform)
        let plan = try rig.plan(notice)
        _ = try await rig.send(notice)
        let received = try await rig.server.received()
        let uploaded = plan.targets.filter { $0.note == nil }.map(\.groupID)
        #expect(uploaded == ["wc0000", "gen", "discord", "tg"])
        for group in uploaded {
            let images = received.filter { $0.group == group }.compactMap(\.image)
            #expect(images == [ReceivedImage(sha256: RichFixtures.poster().sha256, size: 67)], "\(group)")
        }
        #expect(try await rig.server.poster(sha256: RichFixtures.poster().sha256) == RichFixtures.png, "kept")
        try await rig.close()
    }

    @Test func aByAddressPlatformWithoutAnImageURLSaysSoInTheNote() async throws {
        let notice = RichFixtures.notice()
        let rig = try await RichNoticeRig.start(Self.everyPlatform)
        let notes = try rig.plan(notice).targets.map { "\($0.groupID): \($0.note ?? "shown")" }
        #expect(
            notes == [
                "wc0000: shown", "gen: shown",
                "slack: poster not shown: slack shows images only by address and the notice has no image_url",
                "ding: poster not shown: dingtalk shows images only by address and the notice has no image_url",
                "teams: poster not shown: teams shows images only by address and the notice has no image_url",
                "discord: shown", "tg: shown",
            ])
        try await rig.close()
    }

    /// Claims `notice` as a process called "gone" and confirms its text part.
    func claimAndConfirmTheText(_ rig: RichNoticeRig, _ notice: Notice) async throws -> ClaimedDelivery {
        _ = try await rig.store.plan(try rig.plan(notice))
        let claim = try #require(
            try await rig.store.claim(
                ClaimRequest(owner: "gone", limit: 1, noticeID: notice.id, now: Date(), timeout: .seconds(5))
            ).first)
        #expect(claim.partsTotal == 3)
        #expect(try await rig.store.recordProgress(claim, partsSent: 1, at: Date()))
        return claim
    }

    @Test func aCrashBetweenTheTextAndThePosterResumesAtThePoster() async throws {
        let notice = RichFixtures.notice()
        let rig = try await RichNoticeRig.start(Self.wecom)
        _ = try await claimAndConfirmTheText(rig, notice)
        _ = try await rig.dispatcher(dead: ["gone"]).drain(noticeID: notice.id)
        let row = try #require(try await rig.store.deliveries(noticeID: notice.id).first)
        #expect(row.state == .sent)
        #expect(row.partsSent == 3)
        let received = try await rig.server.received()
        #expect(received.map { $0.image != nil } == [true, false], "the text is not repeated; poster then card")
        #expect(received.last?.card != nil)
        try await rig.close()
    }

    @Test func aCrashWithThePosterInFlightIsInDoubtAndNothingIsResent() async throws {
        let notice = RichFixtures.notice()
        let rig = try await RichNoticeRig.start(Self.wecom)
        let claim = try await claimAndConfirmTheText(rig, notice)
        #expect(try await rig.store.markPartInFlight(claim, part: 2, of: 3, at: Date()))
        _ = try await rig.dispatcher(dead: ["gone"]).drain(noticeID: notice.id)
        let row = try #require(try await rig.store.deliveries(noticeID: notice.id).first)
        #expect(row.state == .inDoubt)
        #expect(row.partsSent == 1)
        #expect(try await rig.server.requestCount() == 0)
        try await rig.close()
    }

    @Test func aPosterWeComRefusesIsDeadAfterTheTextWithItsAnswer() async throws {
        let notice = RichFixtures.notice()
        let rig = try await RichNoticeRig.start(faults: ["wc0000": [.badImage]], Self.wecom)
        let rows = try await rig.send(notice)
        #expect(rows.map(\.state) == [.dead])
        #expect(rows.map(\.partsSent) == [1])
        #expect(rows.first?.lastError?.contains("301019") == true)
        let received = try await rig.server.received()
        #expect(received.map(\.text) == ["反诈海报\n\n接到 96110 来电，请一定接听。"], "the text arrived, the poster did not")
        try await rig.close()
    }

    @Test func aGroupWhosePlatformCantShowThePosterGetsItsLinkAndANote() async throws {
        let linked = RichFixtures.notice(id: "linked", posterURL: "https://example.org/poster.png")
        let bare = RichFixtures.notice(id: "bare")
        let rig = try await RichNoticeRig.start { port in
            let hook = "http://127.0.0.1:\(port)/open-apis/bot/v2/hook/"
            return [
                Group(
                    id: "fs", name: "飞书群", sink: "feishu", url: hook + "fs-rich", secret: "fs-rich-secret",
                    keyword: "反诈", mentionAll: true
                ),
                Group(id: "lk", name: "Lark", sink: "lark", url: hook + "lk-rich", format: .markdown),
            ]
        }
        for notice in [linked, bare] {
            let targets = try rig.plan(notice).targets
            #expect(targets.map(\.parts) == [1, 1])
            for target in targets {
                #expect(
                    target.note?.hasPrefix("poster not shown: \(target.sink) ") == true, "\(target.note ?? "no note")")
            }
            #expect(try await rig.send(notice).map(\.state) == [.sent, .sent])
        }
        #expect(try rig.plan(linked).targets.first?.note?.hasSuffix("; the text links its image_url") == true)
        #expect(try rig.plan(bare).targets.first?.note?.hasSuffix("; the text links its image_url") == false)
        let received = try await rig.server.received()
        #expect(received.count == 4)
        for group in ["fs", "lk"] {
            let texts = received.filter { $0.group == group }.map(\.text)
            #expect(texts.first?.contains("海报：https://example.org/poster.png") == true, "\(group)")
            #expect(texts.last?.contains("海报：") == false, "\(group)")
        }
        let card = ReceivedCard(url: RichFixtures.card.url, title: RichFixtures.card.title)
        #expect(received.allSatisfy { $0.card == card }, "the card's link: a post's a tag, a card's button")
        #expect(received.filter { $0.group == "fs" }.allSatisfy { $0.mentionAll })
        try await rig.close()
    }

    @Test func aPosterOverWeComsLimitIsRefusedWhenPlannedNamingTheGroup() async throws {
        let big = try Poster(bytes: RichFixtures.png + [UInt8](repeating: 0, count: 2 * 1024 * 1024))
        let notice = Notice(id: "big", title: "海报", text: "正文", poster: big)
        let rig = try await RichNoticeRig.start(Self.wecom)
        let failure = try #require(throws: Planner.Failure.self) { try rig.plan(notice) }
        #expect(
            failure.message
                == "notice 'big' can't be sent to group wc0000: its poster is 2097219 bytes and wecom takes images up to 2 MB (2097152 bytes)"
        )
        try await rig.close()
    }

    @Test(arguments: [("discord", "10 MiB", 10 * 1024 * 1024), ("telegram", "10 MB", 10 * 1024 * 1024)])
    func aPosterOverAnUploadLimitIsRefusedWhenPlanned(sink: String, label: String, limit: Int) async throws {
        let big = try Poster(bytes: RichFixtures.png + [UInt8](repeating: 0, count: limit - RichFixtures.png.count + 1))
        let fits = try Poster(bytes: RichFixtures.png + [UInt8](repeating: 0, count: limit - RichFixtures.png.count))
        let rig = try await RichNoticeRig.start { port in
            Self.everyPlatform(port).filter { $0.sink == sink }
        }
        let group = try #require(rig.config.groups.first)
        let notice = Notice(id: "big", title: "海报", text: "正文", poster: big)
        let failure = try #require(throws: Planner.Failure.self) { try rig.plan(notice) }
        #expect(
            failure.message
                == "notice 'big' can't be sent to group \(group.id): its poster is \(limit + 1) bytes and \(sink) takes images up to \(label) (\(limit) bytes)"
        )
        #expect(try rig.plan(Notice(id: "fits", title: "海报", text: "正文", poster: fits)).targets.count == 1)
        try await rig.close()
    }

    @Test func aLongNoticeSendsItsTextPartsThenThePosterThenTheCard() async throws {
        var notice = RichFixtures.notice(id: "long")
        notice.text = DispatcherTests.longText
        let rig = try await RichNoticeRig.start(Self.wecom)
        #expect(try rig.plan(notice).targets.map(\.parts) == [5])
        let rows = try await rig.send(notice)
        #expect(rows.map(\.partsSent) == [5])
        let received = try await rig.server.received()
        #expect(received.map { String($0.text.prefix(6)) } == ["(1/3) ", "(2/3) ", "(3/3) ", "", ""])
        #expect(received.map { $0.image != nil } == [false, false, false, true, false])
        #expect(received.map { $0.card != nil } == [false, false, false, false, true])
        try await rig.close()
    }

    @Test func thePosterAndCardCountAgainstMaxParts() async throws {
        var notice = RichFixtures.notice(id: "longer")
        notice.text = DispatcherTests.longText + "\n\n" + DispatcherTests.longText
        let rig = try await RichNoticeRig.start(Self.wecom)
        let failure = try #require(throws: Planner.Failure.self) { try rig.plan(notice) }
        #expect(
            failure.message
                == "notice 'longer' needs 8 parts for group wc0000 (wecom allows 2048 bytes per message, plus a poster and a card); dispatch.max_parts is 5"
        )
        try await rig.close()
    }

    @Test func theWeComEmulatorRefusesAnImageWhoseMD5IsWrong() async throws {
        let rig = try await RichNoticeRig.start(Self.wecom)
        let group = try #require(rig.config.groups.first)
        var message = OutgoingMessage(
            deliveryID: "d", notice: RichFixtures.notice(), noticeCreatedAt: Date(), group: group, text: "",
            content: .poster(RichFixtures.poster()))
        var request = try WeComSink().request(for: message, now: Date())
        let good = String(decoding: request.body, as: UTF8.self)
        request.body = Array(
            good.replacingOccurrences(of: RichFixtures.poster().md5, with: String(repeating: "0", count: 32)).utf8)
        let response = try await rig.transport.send(request).get()
        #expect(WeComSink().classify(response) == .permanent(reason: "errcode 301019: media md5 not match"))
        message.content = .card(RichFixtures.card)
        let news = try await rig.transport.send(try WeComSink().request(for: message, now: Date())).get()
        #expect(WeComSink().classify(news) == .sent)
        #expect(try await rig.server.received().count == 1)
        try await rig.close()
    }
}
