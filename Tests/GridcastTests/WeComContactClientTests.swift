import Channels
import Foundation
import GridcastCore
import GridcastTesting
import Testing
import Transport

/// The WeCom customer-group client against a loopback server answering with WeCom's documented JSON, over the real
/// libcurl transport: request shapes, paging, token renewal, errcodes and the limits checked before sending.
@Suite struct WeComContactClientTests {
    static let secret = "corp-secret-9c1f3e5a7b2d"
    static let gettoken = "/cgi-bin/gettoken"

    static func app(_ server: WeComTestServer) -> WeComApp {
        WeComApp(id: "community", corpID: "ww0123corp", secret: secret, api: server.api)
    }

    /// `gettoken`'s documented answer with token `tok-N`, N counting the tokens issued so far.
    static func token(_ request: ReceivedRequest) -> (status: Int, json: String) {
        (200, #"{"errcode":0,"errmsg":"ok","access_token":"tok-\#(request.ordinal + 1)","expires_in":7200}"#)
    }

    static let ok = (status: 200, json: #"{"errcode":0,"errmsg":"ok"}"#)

    @Test func gettokenSendsCorpIDAndSecretAndReadsTheToken() async throws {
        try await WeComTestServer.run({ request in Self.token(request) }) { server, transport in
            let issued = try await WeComTokenIssuer(app: Self.app(server)).issue(using: transport)
            #expect(issued == IssuedToken(value: "tok-1", lifetime: .seconds(7200)))
            let request = try #require(await server.log.to(Self.gettoken).first)
            #expect(request.method == "GET")
            #expect(request.query == ["corpid": "ww0123corp", "corpsecret": Self.secret])
        }
    }

    @Test func groupChatsPagesThroughEveryOwnersGroups() async throws {
        try await WeComTestServer.run({ request in
            switch (request.path, request.json["cursor"] as? String) {
            case (Self.gettoken, _): return Self.token(request)
            case (_, nil):
                return (
                    200,
                    #"{"errcode":0,"errmsg":"ok","group_chat_list":[{"chat_id":"wrA","status":0},"#
                        + #"{"chat_id":"wrB","status":1}],"next_cursor":"page-2"}"#
                )
            default:
                return (
                    200,
                    #"{"errcode":0,"errmsg":"ok","group_chat_list":[{"chat_id":"wrC","status":0}],"next_cursor":""}"#
                )
            }
        }) { server, transport in
            let client = WeComContactClient(app: Self.app(server), transport: transport)
            let groups = try await client.allGroupChats(owners: ["zhangsan", "lisi"])
            #expect(groups.map(\.chatID) == ["wrA", "wrB", "wrC"])
            #expect(groups.map(\.status) == [0, 1, 0])
            let requests = await server.log.to("/cgi-bin/externalcontact/groupchat/list")
            #expect(requests.count == 2)
            #expect(requests.allSatisfy { $0.method == "POST" && $0.query == ["access_token": "tok-1"] })
            let first = requests[0].json
            #expect(first["status_filter"] as? Int == 0)
            #expect(first["limit"] as? Int == 1000)
            #expect(first["cursor"] == nil)
            #expect((first["owner_filter"] as? [String: Any])?["userid_list"] as? [String] == ["zhangsan", "lisi"])
            #expect(requests[1].json["cursor"] as? String == "page-2")
            #expect(requests[0].headers["content-type"] == "application/json")
            // One token for both pages.
            #expect(await server.log.to(Self.gettoken).count == 1)
        }
    }

    @Test func groupChatAsksForNamesAndCountsMembers() async throws {
        try await WeComTestServer.run({ request in
            if request.path == Self.gettoken { return Self.token(request) }
            return (
                200,
                #"{"errcode":0,"errmsg":"ok","group_chat":{"chat_id":"wrA","name":"幸福里3号楼","owner":"zhangsan","#
                    + #""create_time":1572505490,"notice":"","member_list":[{"userid":"zhangsan","type":1,"#
                    + #""join_time":1572505491,"join_scene":1,"name":"张三"},{"userid":"wmX","type":2,"#
                    + #""join_time":1572505492,"join_scene":3,"name":"李阿姨"}],"admin_list":[]}}"#
            )
        }) { server, transport in
            let client = WeComContactClient(app: Self.app(server), transport: transport)
            let group = try await client.groupChat(id: "wrA")
            #expect(group.name == "幸福里3号楼")
            #expect(group.owner == "zhangsan")
            #expect(group.memberCount == 2)
            #expect(group.memberList.map(\.name) == ["张三", "李阿姨"])
            #expect(group.createTime?.date == Date(timeIntervalSince1970: 1_572_505_490))
            let request = try #require(await server.log.to("/cgi-bin/externalcontact/groupchat/get").first)
            #expect(request.json["chat_id"] as? String == "wrA")
            #expect(request.json["need_name"] as? Int == 1)
        }
    }

    @Test func aGroupLargerThanTheDefaultBodyLimitIsReadWhole() async throws {
        let members = (0..<1500).map {
            #"{"userid":"wmMember\#($0)","type":2,"join_time":1572505491,"name":"居民\#($0)"}"#
        }
        let json =
            #"{"errcode":0,"errmsg":"ok","group_chat":{"chat_id":"wrA","name":"幸福里","owner":"zhangsan","member_list":["#
            + members.joined(separator: ",") + "]}}"
        #expect(json.utf8.count > HTTPResponse.bodyLimit)
        try await WeComTestServer.run({ request in
            request.path == Self.gettoken ? Self.token(request) : (200, json)
        }) { server, transport in
            let group = try await WeComContactClient(app: Self.app(server), transport: transport).groupChat(id: "wrA")
            #expect(group.memberCount == 1500)
        }
    }

    @Test func uploadImageSendsAMultipartMediaField() async throws {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 7, count: 64)
        try await WeComTestServer.run({ request in
            if request.path == Self.gettoken { return Self.token(request) }
            return (
                200,
                #"{"errcode":0,"errmsg":"","type":"image","media_id":"1G6nrLmr5EC3MMb","created_at":"1380000000"}"#
            )
        }) { server, transport in
            let client = WeComContactClient(app: Self.app(server), transport: transport)
            let media = try await client.uploadImage(bytes: png, filename: "poster.png", contentType: "image/png")
            #expect(media.mediaID == "1G6nrLmr5EC3MMb")
            #expect(media.createdAt.date == Date(timeIntervalSince1970: 1_380_000_000))
            let request = try #require(await server.log.to("/cgi-bin/media/upload").first)
            #expect(request.query == ["access_token": "tok-1", "type": "image"])
            let contentType = try #require(request.headers["content-type"])
            #expect(contentType.hasPrefix("multipart/form-data; boundary=gridcast-"))
            let boundary = String(contentType.dropFirst("multipart/form-data; boundary=".count))
            let head = Array(
                ("--\(boundary)\r\nContent-Disposition: form-data; name=\"media\"; filename=\"poster.png\"\r\n"
                    + "Content-Type: image/png\r\n\r\n").utf8)
            #expect(request.body == head + png + Array("\r\n--\(boundary)--\r\n".utf8))
        }
    }

    @Test func createGroupTaskSendsGroupsTextAndAttachments() async throws {
        try await WeComTestServer.run({ request in
            if request.path == Self.gettoken { return Self.token(request) }
            return (200, #"{"errcode":0,"errmsg":"ok","fail_list":["wrGone"],"msgid":"msgGCAAAXtWyujaWJHDDGi0mAAAA"}"#)
        }) { server, transport in
            let client = WeComContactClient(app: Self.app(server), transport: transport)
            let link = TaskLink(
                title: "警惕冒充客服退款诈骗", url: "https://example.org/alerts/42", desc: "三步识别",
                picurl: "https://example.org/p.png")
            let task = try await client.createGroupTask(
                sender: "zhangsan", chatIDs: ["wrA", "wrB"], text: "今日反诈提醒：不要向陌生账户转账。",
                attachments: [.image(mediaID: "MEDIA_1"), .link(link)])
            #expect(task == CreatedTask(msgid: "msgGCAAAXtWyujaWJHDDGi0mAAAA", failList: ["wrGone"]))
            let request = try #require(await server.log.to("/cgi-bin/externalcontact/add_msg_template").first)
            let json = request.json
            #expect(json["chat_type"] as? String == "group")
            #expect(json["chat_id_list"] as? [String] == ["wrA", "wrB"])
            #expect(json["sender"] as? String == "zhangsan")
            #expect((json["text"] as? [String: Any])?["content"] as? String == "今日反诈提醒：不要向陌生账户转账。")
            let attachments = try #require(json["attachments"] as? [[String: Any]])
            #expect(attachments.count == 2)
            #expect(attachments[0]["msgtype"] as? String == "image")
            #expect((attachments[0]["image"] as? [String: Any])?["media_id"] as? String == "MEDIA_1")
            #expect(attachments[1]["msgtype"] as? String == "link")
            let sentLink = try #require(attachments[1]["link"] as? [String: Any])
            #expect(sentLink["title"] as? String == "警惕冒充客服退款诈骗")
            #expect(sentLink["url"] as? String == "https://example.org/alerts/42")
            #expect(sentLink["desc"] as? String == "三步识别")
            #expect(sentLink["picurl"] as? String == "https://example.org/p.png")
            // UTF-8 as is: WeCom refuses \uXXXX escapes (errcode 40033).
            #expect(!String(decoding: request.body, as: UTF8.self).contains("\\u"))
        }
    }

    @Test func limitsAreCheckedBeforeAnythingIsSent() async throws {
        try await WeComTestServer.run({ request in Self.token(request) }) { server, transport in
            let client = WeComContactClient(app: Self.app(server), transport: transport)
            func refusal(
                chatIDs: [String] = ["wrA"], text: String = "提醒", attachments: [TaskAttachment] = []
            ) async -> AppCallError? {
                do {
                    _ = try await client.createGroupTask(
                        sender: "zhangsan", chatIDs: chatIDs, text: text, attachments: attachments)
                    return nil
                } catch {
                    return error
                }
            }
            let tooManyGroups = (0...2000).map { "wr\($0)" }
            #expect(
                await refusal(chatIDs: tooManyGroups)
                    == .invalid(field: "chat_id_list", reason: "2001 groups, at most 2000"))
            #expect(await refusal(chatIDs: [])?.field == "chat_id_list")
            #expect(
                await refusal(text: String(repeating: "诈", count: 1334))
                    == .invalid(field: "text.content", reason: "4002 bytes, at most 4000"))
            #expect(await refusal(text: String(repeating: "a", count: 4000)) != nil)  // the server answers no task
            let nine = Array(repeating: TaskAttachment.image(mediaID: "M"), count: 10)
            #expect(await refusal(attachments: nine) == .invalid(field: "attachments", reason: "10, at most 9"))
            let longTitle = TaskLink(title: String(repeating: "骗", count: 43), url: "https://example.org")
            #expect(
                await refusal(attachments: [.link(longTitle)])
                    == .invalid(field: "attachments[0].link.title", reason: "129 bytes, at most 128"))
            let longDescription = TaskLink(
                title: "t", url: "https://example.org", desc: String(repeating: "x", count: 513))
            #expect(
                await refusal(attachments: [.image(mediaID: "M"), .link(longDescription)])
                    == .invalid(field: "attachments[1].link.desc", reason: "513 bytes, at most 512"))
            #expect(await refusal(attachments: [.image(TaskImage())])?.field == "attachments[0].image")
            // Only the one task within every limit reached the server (and asked for a token first).
            #expect(await server.log.to("/cgi-bin/externalcontact/add_msg_template").count == 1)
        }
    }

    @Test func taskStatusAndSendResultsPageAndTypeTheirStatuses() async throws {
        try await WeComTestServer.run({ request in
            let first = request.json["cursor"] == nil
            switch request.path {
            case Self.gettoken: return Self.token(request)
            case "/cgi-bin/externalcontact/get_groupmsg_task":
                return first
                    ? (
                        200,
                        #"{"errcode":0,"errmsg":"ok","next_cursor":"t2","task_list":[{"userid":"zhangsan","#
                            + #""status":2,"send_time":1552536375}]}"#
                    )
                    : (200, #"{"errcode":0,"errmsg":"ok","next_cursor":"","task_list":[{"userid":"lisi","status":0}]}"#)
            default:
                return first
                    ? (
                        200,
                        #"{"errcode":0,"errmsg":"ok","next_cursor":"r2","send_list":[{"chat_id":"wrA","#
                            + #""userid":"zhangsan","status":1,"send_time":1552536375},{"chat_id":"wrB","#
                            + #""userid":"zhangsan","status":0}]}"#
                    )
                    : (
                        200,
                        #"{"errcode":0,"errmsg":"ok","send_list":[{"chat_id":"wrC","userid":"zhangsan","status":2},"#
                            + #"{"chat_id":"wrD","userid":"zhangsan","status":3}]}"#
                    )
            }
        }) { server, transport in
            let client = WeComContactClient(app: Self.app(server), transport: transport)
            let members = try await client.taskStatus(msgid: "msg1")
            #expect(members.map(\.userid) == ["zhangsan", "lisi"])
            #expect(members.map(\.status) == [.sent, .notSent])
            #expect(members[0].sendTime?.date == Date(timeIntervalSince1970: 1_552_536_375))
            #expect(members[1].sendTime == nil)
            let results = try await client.sendResults(msgid: "msg1", owner: "zhangsan")
            #expect(results.map(\.chatID) == ["wrA", "wrB", "wrC", "wrD"])
            #expect(results.map(\.status) == [.sent, .notSent, .notFriend, .quotaReached])
            #expect(results[0].sendTime?.date == Date(timeIntervalSince1970: 1_552_536_375))
            let taskRequests = await server.log.to("/cgi-bin/externalcontact/get_groupmsg_task")
            #expect(taskRequests.map { $0.json["msgid"] as? String } == ["msg1", "msg1"])
            #expect(taskRequests.map { $0.json["cursor"] as? String } == [nil, "t2"])
            #expect(taskRequests[0].json["limit"] as? Int == 1000)
            let resultRequests = await server.log.to("/cgi-bin/externalcontact/get_groupmsg_send_result")
            #expect(resultRequests.map { $0.json["userid"] as? String } == ["zhangsan", "zhangsan"])
            #expect(resultRequests.map { $0.json["cursor"] as? String } == [nil, "r2"])
        }
    }

    @Test func tasksSplitsALongWindowIntoMonthlessCalls() async throws {
        let from = Date(timeIntervalSince1970: 1_790_000_000)
        let to = from.addingTimeInterval(70 * 86_400)
        try await WeComTestServer.run({ request in
            if request.path == Self.gettoken { return Self.token(request) }
            // The same task falls on the boundary of the first two windows.
            let id = request.ordinal == 2 ? "msg3" : "msg1"
            return (
                200,
                #"{"errcode":0,"errmsg":"ok","next_cursor":"","group_msg_list":[{"msgid":"\#(id)","#
                    + #""create_time":1790000100,"create_type":0,"text":{"content":"提醒"}}]}"#
            )
        }) { server, transport in
            let client = WeComContactClient(app: Self.app(server), transport: transport)
            let records = try await client.tasks(creator: "zhangsan", from: from, to: to)
            #expect(records.map(\.msgid) == ["msg1", "msg3"])
            #expect(records[0].text?.content == "提醒")
            let requests = await server.log.to("/cgi-bin/externalcontact/get_groupmsg_list_v2")
            #expect(requests.count == 3)
            let windows = requests.map { ($0.json["start_time"] as? Int ?? 0, $0.json["end_time"] as? Int ?? 0) }
            #expect(windows.first?.0 == 1_790_000_000)
            #expect(windows.last?.1 == 1_790_000_000 + 70 * 86_400)
            #expect(windows.allSatisfy { $0.1 - $0.0 <= 28 * 86_400 && $0.0 < $0.1 })
            #expect(requests.allSatisfy { $0.json["chat_type"] as? String == "group" })
            #expect(requests.allSatisfy { $0.json["creator"] as? String == "zhangsan" })
        }
    }

    @Test func remindAndCancelNameTheTask() async throws {
        try await WeComTestServer.run({ request in
            request.path == Self.gettoken ? Self.token(request) : Self.ok
        }) { server, transport in
            let client = WeComContactClient(app: Self.app(server), transport: transport)
            try await client.remind(msgid: "msg1")
            try await client.cancel(msgid: "msg2")
            let remind = await server.log.to("/cgi-bin/externalcontact/remind_groupmsg_send")
            let cancel = await server.log.to("/cgi-bin/externalcontact/cancel_groupmsg_send")
            #expect(remind.map { $0.json["msgid"] as? String } == ["msg1"])
            #expect(cancel.map { $0.json["msgid"] as? String } == ["msg2"])
        }
    }

    @Test func anExpiredTokenIsRenewedOnceAndTheCallSentAgain() async throws {
        try await WeComTestServer.run({ request in
            switch (request.path, request.query["access_token"]) {
            case (Self.gettoken, _): return Self.token(request)
            case (_, "tok-1"): return (200, #"{"errcode":42001,"errmsg":"access_token expired, hint: [1]"}"#)
            default: return Self.ok
            }
        }) { server, transport in
            let client = WeComContactClient(app: Self.app(server), transport: transport)
            try await client.remind(msgid: "msg1")
            #expect(await server.log.to(Self.gettoken).count == 2)
            let calls = await server.log.to("/cgi-bin/externalcontact/remind_groupmsg_send")
            #expect(calls.map { $0.query["access_token"] } == ["tok-1", "tok-2"])
            // The renewed token is kept for the next call.
            try await client.cancel(msgid: "msg1")
            #expect(await server.log.to(Self.gettoken).count == 2)
        }
    }

    @Test func aTokenStillExpiredAfterRenewalIsRefusedNotRetriedForever() async throws {
        try await WeComTestServer.run({ request in
            request.path == Self.gettoken
                ? Self.token(request) : (200, #"{"errcode":40014,"errmsg":"invalid access_token"}"#)
        }) { server, transport in
            let client = WeComContactClient(app: Self.app(server), transport: transport)
            await #expect(throws: AppCallError.refused(code: 40014, message: "invalid access_token")) {
                try await client.remind(msgid: "msg1")
            }
            #expect(await server.log.to(Self.gettoken).count == 2)
            #expect(await server.log.to("/cgi-bin/externalcontact/remind_groupmsg_send").count == 2)
        }
    }

    @Test func concurrentCallsShareOneToken() async throws {
        let gate = Gate()
        try await WeComTestServer.run({ request in
            if request.path == Self.gettoken {
                await gate.pass()
                return Self.token(request)
            }
            return Self.ok
        }) { server, transport in
            let client = WeComContactClient(app: Self.app(server), transport: transport)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<8 { group.addTask { try await client.remind(msgid: "msg\(index)") } }
                // Hold the token's answer until it has been asked for: the other calls wait for the same one.
                try await waitUntilAsked(server)
                await gate.open()
                try await group.waitForAll()
            }
            #expect(await server.log.to(Self.gettoken).count == 1)
            let calls = await server.log.to("/cgi-bin/externalcontact/remind_groupmsg_send")
            #expect(calls.count == 8)
            #expect(calls.allSatisfy { $0.query["access_token"] == "tok-1" })
        }
    }

    private func waitUntilAsked(_ server: WeComTestServer) async throws {
        try await waitUntil { await !server.log.to(Self.gettoken).isEmpty }
    }

    @Test func errcodesBecomeErrorsTheCallerCanActOn() async throws {
        let answers: [String: String] = [
            "busy": #"{"errcode":-1,"errmsg":"system busy"}"#,
            "frequency": #"{"errcode":45009,"errmsg":"api freq out of limit"}"#,
            "concurrency": #"{"errcode":45033,"errmsg":"api concurrent out of limit"}"#,
            "dispatching": #"{"errcode":41063,"errmsg":"msg is sending, please try again later"}"#,
            "cancelled": #"{"errcode":41093,"errmsg":"group msg task has been cancelled"}"#,
        ]
        try await WeComTestServer.run({ request in
            if request.path == Self.gettoken { return Self.token(request) }
            return (200, answers[request.json["msgid"] as? String ?? ""] ?? "{}")
        }) { server, transport in
            let client = WeComContactClient(app: Self.app(server), transport: transport)
            func error(_ msgid: String) async -> AppCallError? {
                do {
                    try await client.remind(msgid: msgid)
                    return nil
                } catch {
                    return error
                }
            }
            #expect(await error("busy") == .busy(code: -1))
            #expect(await error("busy")?.isTransient == true)
            #expect(await error("frequency") == .rateLimited(code: 45009, pause: .seconds(60)))
            #expect(await error("concurrency") == .rateLimited(code: 45033, pause: .seconds(2)))
            #expect(await error("dispatching") == .busy(code: 41063))
            let cancelled = await error("cancelled")
            #expect(cancelled == .refused(code: 41093, message: "group msg task has been cancelled"))
            #expect(cancelled?.isTransient == false)
        }
    }

    @Test func anUntrustedIPSaysToAddThisMachinesAddress() async throws {
        try await WeComTestServer.run({ _ in
            (
                200,
                #"{"errcode":60020,"errmsg":"not allow to access from your ip, hint: [1787373915609110759172198], "#
                    + #"from ip: 112.43.40.209, more info at https://open.work.weixin.qq.com/devtool/query?e=60020"}"#
            )
        }) { server, transport in
            let client = WeComContactClient(app: Self.app(server), transport: transport)
            do throws(AppCallError) {
                try await client.remind(msgid: "msg1")
                Issue.record("60020 was taken for success")
            } catch {
                #expect(error == .untrustedIP(address: "112.43.40.209"))
                #expect(error.description.contains("112.43.40.209"))
                #expect(error.description.contains("trusted IPs"))
                #expect(!error.isTransient)
            }
            // The token was refused, so nothing else was sent.
            #expect(await server.log.requests.count == 1)
        }
    }

    @Test func secretsAndTokensNeverReachAnErrorDescription() async throws {
        try await WeComTestServer.run({ request in
            switch request.path {
            case Self.gettoken where request.ordinal == 0:
                // A careless answer that echoes the credentials, as written and percent-encoded.
                let echoed =
                    "invalid credential: corpsecret=\(request.query["corpsecret"] ?? ""), "
                    + "raw \(Self.secret.replacingOccurrences(of: "-", with: "%2D"))"
                return (200, #"{"errcode":40001,"errmsg":"\#(echoed)"}"#)
            case Self.gettoken: return Self.token(request)
            default:
                let token = request.query["access_token"] ?? ""
                return (200, #"{"errcode":40058,"errmsg":"bad msgid for token \#(token)"}"#)
            }
        }) { server, transport in
            let client = WeComContactClient(app: Self.app(server), transport: transport)
            var descriptions: [String] = []
            for _ in 0..<2 {
                do throws(AppCallError) {
                    try await client.cancel(msgid: "msg1")
                } catch {
                    descriptions.append(error.description)
                }
            }
            #expect(descriptions.count == 2)
            #expect(descriptions[0].hasPrefix("code 40001"))
            #expect(descriptions[1] == "code 40058: bad msgid for token ***")
            for description in descriptions {
                #expect(!description.contains(Self.secret))
                #expect(!description.contains("tok-"))
                #expect(!description.contains("%2D"))
            }
        }
    }

    @Test func feishuTenantTokenPostsTheAppCredentials() async throws {
        try await WeComTestServer.run({ request in
            request.ordinal == 0
                ? (200, #"{"code":0,"msg":"ok","tenant_access_token":"t-caecc734c2e3328a","expire":7200}"#)
                : (400, #"{"code":10014,"msg":"app secret invalid: feishu-secret-55aa"}"#)
        }) { server, transport in
            let app = FeishuApp(appID: "cli_a1b2c3", appSecret: "feishu-secret-55aa", api: server.api)
            let issuer = FeishuTokenIssuer(app: app, api: app.baseURL(forWebhook: ""))
            #expect(
                try await issuer.issue(using: transport)
                    == IssuedToken(value: "t-caecc734c2e3328a", lifetime: .seconds(7200)))
            let request = try #require(await server.log.requests.first)
            #expect(request.method == "POST")
            #expect(request.path == "/open-apis/auth/v3/tenant_access_token/internal")
            #expect(request.headers["content-type"] == "application/json; charset=utf-8")
            #expect(request.json["app_id"] as? String == "cli_a1b2c3")
            #expect(request.json["app_secret"] as? String == "feishu-secret-55aa")
            await #expect(throws: AppCallError.refused(code: 10014, message: "app secret invalid: ***")) {
                try await issuer.issue(using: transport)
            }
        }
    }
}

extension AppCallError {
    /// The field a request was refused for before sending, nil for any other error.
    fileprivate var field: String? {
        if case .invalid(let field, _) = self { field } else { nil }
    }
}
