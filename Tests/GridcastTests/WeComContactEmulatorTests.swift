import Emulator
import Foundation
import GridcastCore
import GridcastTesting
import Testing
import Transport

/// The emulated WeCom customer-contact API through a real loopback server and libcurl, with requests built by hand:
/// tokens, customer groups, uploads, mass-message tasks, the member's confirmation, quotas, reminders, cancelling,
/// the task list's time window, untrusted IPs and the faults a client must survive.
@Suite("Emulator: WeCom customer-group mass messaging")
struct WeComContactEmulatorTests {
    static let corpID = "ww-town-corp"
    static let secret = "town-secret-0001"

    static func app(quota: MassMessageQuota = .daysOfMonth) -> WeComApp {
        WeComApp(id: "town", corpID: corpID, secret: secret, quota: quota)
    }

    static func customerGroup(_ id: String, chat: String, owner: String) -> Group {
        var group = Group(id: id, name: "星海\(id)群", sink: "wecom-customer-group", url: "https://qyapi.weixin.qq.com")
        group.chatID = chat
        group.owner = owner
        group.app = "town"
        return group
    }

    /// Three groups of member `li`, one of `wang`.
    static let groups = [
        customerGroup("cg1", chat: "wrChat1", owner: "li"), customerGroup("cg2", chat: "wrChat2", owner: "li"),
        customerGroup("cg3", chat: "wrChat3", owner: "li"), customerGroup("cg4", chat: "wrChat4", owner: "wang"),
    ]

    /// A client of the emulator that speaks raw HTTP.
    struct Client {
        let port: Int
        let transport: CurlTransport

        func raw(
            _ method: String, _ path: String, headers: [HTTPHeader] = [], body: [UInt8] = []
        ) async throws
            -> Result<HTTPResponse, TransportError>
        {
            await transport.send(
                HTTPRequest(
                    method: method, url: "http://127.0.0.1:\(port)\(path)", headers: headers, body: body,
                    timeout: .seconds(5)))
        }

        /// The JSON object a call answered (HTTP 200 expected).
        func call(_ method: String, _ path: String, json: String? = nil) async throws -> JSON {
            let headers = json == nil ? [] : [HTTPHeader("Content-Type", "application/json")]
            let response = try await raw(method, path, headers: headers, body: Array((json ?? "").utf8)).get()
            #expect(response.status == 200, "\(path): \(response.bodyText)")
            return JSON(response.bodyText)
        }

        func token() async throws -> String {
            let answer = try await call("GET", "/cgi-bin/gettoken?corpid=\(corpID)&corpsecret=\(secret)")
            return try #require(answer.string("access_token"))
        }

        func post(_ call: String, token: String, _ json: String) async throws -> JSON {
            try await self.call("POST", "/cgi-bin/externalcontact/\(call)?access_token=\(token)", json: json)
        }

        func control(_ path: String, method: String = "POST") async throws -> JSON {
            try await call(method, "/_emulator/wecom/\(path)")
        }

        func upload(
            _ bytes: [UInt8], token: String, type: String = "image", filename: String = "poster.png"
        )
            async throws -> JSON
        {
            let boundary = "gridcast-test-boundary"
            var body = Array(
                ("--\(boundary)\r\nContent-Disposition: form-data; name=\"media\"; filename=\"\(filename)\"; "
                    + "filelength=\(bytes.count)\r\nContent-Type: image/png\r\n\r\n").utf8)
            body += bytes + Array("\r\n--\(boundary)--\r\n".utf8)
            let response = try await raw(
                "POST", "/cgi-bin/media/upload?access_token=\(token)&type=\(type)",
                headers: [HTTPHeader("Content-Type", "multipart/form-data; boundary=\(boundary)")], body: body
            ).get()
            return JSON(response.bodyText)
        }

        /// Creates a text task from `sender` for `chats`.
        func create(
            token: String, sender: String = "li", chats: [String], text: String = "反诈提醒"
        ) async throws
            -> JSON
        {
            let list = chats.map { "\"\($0)\"" }.joined(separator: ",")
            return try await post(
                "add_msg_template", token: token,
                #"{"chat_type":"group","sender":"\#(sender)","chat_id_list":[\#(list)],"text":{"content":"\#(text)"}}"#)
        }
    }

    /// A JSON answer, read by key path.
    struct JSON: Sendable {
        let text: String

        init(_ text: String) { self.text = text }

        private var object: Any? { try? JSONSerialization.jsonObject(with: Data(text.utf8)) }

        private func value(_ path: [String]) -> Any? {
            var current = object
            for key in path {
                if let index = Int(key) {
                    guard let array = current as? [Any], array.indices.contains(index) else { return nil }
                    current = array[index]
                } else {
                    current = (current as? [String: Any])?[key]
                }
            }
            return current
        }

        var errcode: Int? { int("errcode") }
        func int(_ path: String...) -> Int? { value(path) as? Int }
        func string(_ path: String...) -> String? { value(path) as? String }
        func count(_ path: String...) -> Int? { (value(path) as? [Any])?.count }
        func strings(_ path: String...) -> [String]? { value(path) as? [String] }
    }

    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 7, count: 64)

    func withEmulator(
        quota: MassMessageQuota = .daysOfMonth, faults: FaultPlan = FaultPlan(), clock: VirtualClock = VirtualClock(),
        _ body: (Client, EmulatorServer) async throws -> Void
    ) async throws {
        let server = try await EmulatorServer.start(
            groups: Self.groups, wecomApps: [Self.app(quota: quota)], faults: faults, clock: { clock.now() },
            timeZone: TimeZone(identifier: "Asia/Shanghai")!)
        try await withTransport(to: server) { server, transport in
            try await body(Client(port: server.port, transport: transport), server)
        }
    }

    @Test func tokensAreIssuedRefusedAndExpire() async throws {
        let clock = VirtualClock()
        try await withEmulator(clock: clock) { client, _ in
            let wrongCorp = try await client.call("GET", "/cgi-bin/gettoken?corpid=ww-other&corpsecret=\(Self.secret)")
            #expect(wrongCorp.errcode == 40013)
            let wrongSecret = try await client.call("GET", "/cgi-bin/gettoken?corpid=\(Self.corpID)&corpsecret=nope")
            #expect(wrongSecret.errcode == 40001)
            #expect(try await client.call("GET", "/cgi-bin/gettoken?corpsecret=x").errcode == 41002)
            let issued = try await client.call(
                "GET", "/cgi-bin/gettoken?corpid=\(Self.corpID)&corpsecret=\(Self.secret)")
            #expect(issued.errcode == 0)
            #expect(issued.int("expires_in") == 7200)
            let token = try #require(issued.string("access_token"))
            // While valid, the same token again.
            #expect(try await client.token() == token)
            let list = #"{"limit":10}"#
            #expect(try await client.post("groupchat/list", token: token, list).errcode == 0)
            #expect(
                try await client.call("POST", "/cgi-bin/externalcontact/groupchat/list", json: list).errcode == 41001)
            #expect(try await client.post("groupchat/list", token: "forged", list).errcode == 40014)
            try await clock.sleep(until: clock.now().addingTimeInterval(7200))
            #expect(try await client.post("groupchat/list", token: token, list).errcode == 42001)
            let fresh = try await client.token()
            #expect(fresh != token)
            #expect(try await client.post("groupchat/list", token: fresh, list).errcode == 0)
            // The control endpoint ends every token at once, so a client's refresh can be tested.
            _ = try await client.control("expire-tokens")
            #expect(try await client.post("groupchat/list", token: fresh, list).errcode == 42001)
        }
    }

    @Test func groupsAreListedByOwnerInPagesAndRead() async throws {
        try await withEmulator { client, _ in
            let token = try await client.token()
            let first = try await client.post(
                "groupchat/list", token: token, #"{"status_filter":0,"owner_filter":{"userid_list":["li"]},"limit":2}"#)
            #expect(first.count("group_chat_list") == 2)
            #expect(first.string("group_chat_list", "0", "chat_id") == "wrChat1")
            let cursor = try #require(first.string("next_cursor"))
            let second = try await client.post(
                "groupchat/list", token: token,
                #"{"owner_filter":{"userid_list":["li"]},"limit":2,"cursor":"\#(cursor)"}"#)
            #expect(second.count("group_chat_list") == 1)
            #expect(second.string("group_chat_list", "0", "chat_id") == "wrChat3")
            #expect(second.string("next_cursor") == "")
            #expect(try await client.post("groupchat/list", token: token, #"{"limit":0}"#).errcode == 40058)
            let all = try await client.post("groupchat/list", token: token, #"{"limit":1000}"#)
            #expect(all.count("group_chat_list") == 4)
            let detail = try await client.post("groupchat/get", token: token, #"{"chat_id":"wrChat4","need_name":1}"#)
            #expect(detail.string("group_chat", "name") == "星海cg4群")
            #expect(detail.string("group_chat", "owner") == "wang")
            #expect(detail.count("group_chat", "member_list") == 1)
            #expect(try await client.post("groupchat/get", token: token, #"{"chat_id":"wrNone"}"#).errcode == 40050)
        }
    }

    @Test func imagesUploadAsTemporaryMediaAndShowAsPosters() async throws {
        try await withEmulator { client, _ in
            let token = try await client.token()
            let uploaded = try await client.upload(Self.png, token: token)
            #expect(uploaded.errcode == 0)
            #expect(uploaded.string("type") == "image")
            #expect(uploaded.string("media_id")?.isEmpty == false)
            #expect(uploaded.string("created_at") != nil)
            let posters = try await client.call("GET", "/_emulator/posters")
            #expect(posters.count() == 1)
            #expect(posters.int("0", "size") == Self.png.count)
            #expect(try await client.upload(Array("GIF89a-not-allowed".utf8), token: token).errcode == 40004)
            #expect(try await client.upload([0x89, 0x50, 0x4E], token: token).errcode == 40009)
            #expect(try await client.upload(Self.png, token: token, type: "sticker").errcode == 40004)
        }
    }

    @Test func imagesUpTo10MBAreTakenAndLargerOnesRefused() async throws {
        try await withEmulator { client, _ in
            let token = try await client.token()
            let large = Self.png + Array(repeating: 1, count: 3 << 20)
            #expect(try await client.upload(large, token: token).errcode == 0)
            let tooLarge = Self.png + Array(repeating: 1, count: 10 << 20)
            #expect(try await client.upload(tooLarge, token: token).errcode == 40009)
        }
    }

    @Test func aTaskTakesTheSendersChatsListsTheOthersAsFailedAndIsCheckedStrictly() async throws {
        try await withEmulator { client, _ in
            let token = try await client.token()
            let created = try await client.create(token: token, chats: ["wrChat1", "wrChat2", "wrChat4", "wrGhost"])
            #expect(created.errcode == 0)
            #expect(created.strings("fail_list") == ["wrChat4", "wrGhost"])
            #expect(created.string("msgid")?.isEmpty == false)
            #expect(try await client.create(token: token, chats: ["wrChat4"]).errcode == 41048)
            #expect(try await client.create(token: token, sender: "nobody", chats: ["wrChat1"]).errcode == 40003)
            let noSender = try await client.post(
                "add_msg_template", token: token,
                #"{"chat_type":"group","chat_id_list":["wrChat1"],"text":{"content":"x"}}"#)
            #expect(noSender.errcode == 40063)
            let long = String(repeating: "诈", count: 1334)  // 4002 bytes
            #expect(try await client.create(token: token, chats: ["wrChat1"], text: long).errcode == 40058)
            let tooMany = (0..<2001).map { "wr\($0)" }
            #expect(try await client.create(token: token, chats: tooMany).errcode == 40058)
            func attachments(_ list: String) async throws -> Int? {
                try await client.post(
                    "add_msg_template", token: token,
                    #"{"chat_type":"group","sender":"li","chat_id_list":["wrChat1"],"text":{"content":"x"},"#
                        + #""attachments":[\#(list)]}"#
                ).errcode
            }
            let link = #"{"msgtype":"link","link":{"title":"防骗指南","url":"https://example.org/a"}}"#
            #expect(try await attachments(Array(repeating: link, count: 10).joined(separator: ",")) == 41064)
            #expect(try await attachments(#"{"msgtype":"image","image":{"media_id":"forged"}}"#) == 40007)
            #expect(try await attachments(#"{"msgtype":"voice","voice":{"media_id":"x"}}"#) == 41065)
            #expect(try await attachments(#"{"msgtype":"link","link":{"title":"t","url":"example.org"}}"#) == 45034)
            let mediaID = try #require(try await client.upload(Self.png, token: token).string("media_id"))
            #expect(try await attachments(#"{"msgtype":"image","image":{"media_id":"\#(mediaID)"}},\#(link)"#) == 0)
        }
    }

    @Test func confirmingSendsToEachGroupWithItsTimeAndSkipsGroupsLeft() async throws {
        let clock = VirtualClock()
        try await withEmulator(clock: clock) { client, server in
            let token = try await client.token()
            let mediaID = try #require(try await client.upload(Self.png, token: token).string("media_id"))
            let msgid = try #require(
                try await client.post(
                    "add_msg_template", token: token,
                    #"{"chat_type":"group","sender":"li","chat_id_list":["wrChat1","wrChat2"],"#
                        + #""text":{"content":"今日反诈提醒"},"attachments":[{"msgtype":"image","#
                        + #""image":{"media_id":"\#(mediaID)"}}]}"#
                ).string("msgid"))
            let before = try await client.post("get_groupmsg_task", token: token, #"{"msgid":"\#(msgid)"}"#)
            #expect(before.int("task_list", "0", "status") == 0)
            #expect(before.string("task_list", "0", "userid") == "li")
            _ = try await client.control("leave?chat_id=wrChat2")
            try await clock.sleep(until: clock.now().addingTimeInterval(600))
            let confirmed = try await client.control("confirm?owner=li")
            #expect(confirmed.count("confirmed") == 1)
            let now = Int(clock.now().timeIntervalSince1970)
            let task = try await client.post("get_groupmsg_task", token: token, #"{"msgid":"\#(msgid)"}"#)
            #expect(task.int("task_list", "0", "status") == 2)
            #expect(task.int("task_list", "0", "send_time") == now)
            let result = try await client.post(
                "get_groupmsg_send_result", token: token, #"{"msgid":"\#(msgid)","userid":"li","limit":1}"#)
            #expect(result.string("send_list", "0", "chat_id") == "wrChat1")
            #expect(result.int("send_list", "0", "status") == 1)
            #expect(result.int("send_list", "0", "send_time") == now)
            let cursor = try #require(result.string("next_cursor"))
            let rest = try await client.post(
                "get_groupmsg_send_result", token: token,
                #"{"msgid":"\#(msgid)","userid":"li","limit":1,"cursor":"\#(cursor)"}"#)
            #expect(rest.string("send_list", "0", "chat_id") == "wrChat2")
            #expect(rest.int("send_list", "0", "status") == 2)
            let received = try await server.received()
            #expect(received.map(\.group) == ["cg1"])
            #expect(received.first?.sink == "wecom-customer-group")
            #expect(received.first?.image?.size == Self.png.count)
        }
    }

    @Test func aGroupAtItsQuotaGetsStatusThree() async throws {
        let clock = VirtualClock(start: Date(timeIntervalSince1970: 1_800_000_000))  // 2027-01-15 16:00 in Shanghai
        try await withEmulator(quota: .perDay(1), clock: clock) { client, _ in
            let token = try await client.token()
            let first = try #require(try await client.create(token: token, chats: ["wrChat1"]).string("msgid"))
            _ = try await client.control("confirm?owner=li&msgid=\(first)")
            let second = try #require(try await client.create(token: token, chats: ["wrChat1"]).string("msgid"))
            _ = try await client.control("confirm?owner=li&msgid=\(second)")
            let over = try await client.post(
                "get_groupmsg_send_result", token: token, #"{"msgid":"\#(second)","userid":"li"}"#)
            #expect(over.int("send_list", "0", "status") == 3)
            #expect(over.int("send_list", "0", "send_time") == nil)
            // The next day in the corp's zone, the group takes one again.
            try await clock.sleep(until: clock.now().addingTimeInterval(9 * 3600))
            let token2 = try await client.token()
            let third = try #require(try await client.create(token: token2, chats: ["wrChat1"]).string("msgid"))
            _ = try await client.control("confirm?owner=li&msgid=\(third)")
            let sent = try await client.post(
                "get_groupmsg_send_result", token: token2, #"{"msgid":"\#(third)","userid":"li"}"#)
            #expect(sent.int("send_list", "0", "status") == 1)
            // A message a member sent by hand counts against the quota too.
            _ = try await client.control("sent-by-hand?chat_id=wrChat2")
            let fourth = try #require(try await client.create(token: token2, chats: ["wrChat2"]).string("msgid"))
            _ = try await client.control("confirm?owner=li&msgid=\(fourth)")
            let byHand = try await client.post(
                "get_groupmsg_send_result", token: token2, #"{"msgid":"\#(fourth)","userid":"li"}"#)
            #expect(byHand.int("send_list", "0", "status") == 3)
        }
    }

    @Test func remindersAreLimitedToThreeADayAndACancelledTaskIsNeverSent() async throws {
        let clock = VirtualClock()
        try await withEmulator(clock: clock) { client, _ in
            let token = try await client.token()
            let msgid = try #require(try await client.create(token: token, chats: ["wrChat1"]).string("msgid"))
            let body = #"{"msgid":"\#(msgid)"}"#
            for _ in 0..<3 { #expect(try await client.post("remind_groupmsg_send", token: token, body).errcode == 0) }
            #expect(try await client.post("remind_groupmsg_send", token: token, body).errcode == 41094)
            try await clock.sleep(until: clock.now().addingTimeInterval(86400))
            let token2 = try await client.token()
            #expect(try await client.post("remind_groupmsg_send", token: token2, body).errcode == 0)
            #expect(try await client.post("cancel_groupmsg_send", token: token2, body).errcode == 0)
            #expect(try await client.post("cancel_groupmsg_send", token: token2, body).errcode == 41093)
            #expect(try await client.post("remind_groupmsg_send", token: token2, body).errcode == 41093)
            #expect(try await client.post("remind_groupmsg_send", token: token2, #"{"msgid":"nope"}"#).errcode == 41047)
            #expect(try await client.post("remind_groupmsg_send", token: token2, "{}").errcode == 41046)
            #expect(try await client.control("confirm?owner=li").count("confirmed") == 0)
            let tasks = try await client.control("tasks", method: "GET")
            #expect(tasks.string("0", "msgid") == msgid)
            #expect(tasks.count("0", "reminders") == 4)
            #expect(tasks.int("0", "chats", "0", "status") == 0)
            #expect(tasks.text.contains(#""cancelled":true"#))
        }
    }

    @Test func theTaskListTakesAtMostAMonthAndFindsTasksByCreator() async throws {
        let clock = VirtualClock()
        try await withEmulator(clock: clock) { client, _ in
            let token = try await client.token()
            let msgid = try #require(try await client.create(token: token, chats: ["wrChat1"]).string("msgid"))
            let now = Int(clock.now().timeIntervalSince1970)
            func list(_ start: Int, _ end: Int, creator: String = "li") async throws -> JSON {
                try await client.post(
                    "get_groupmsg_list_v2", token: token,
                    #"{"chat_type":"group","start_time":\#(start),"end_time":\#(end),"creator":"\#(creator)","#
                        + #""filter_type":0,"limit":500}"#)
            }
            let found = try await list(now - 3600, now + 3600)
            #expect(found.string("group_msg_list", "0", "msgid") == msgid)
            #expect(found.string("group_msg_list", "0", "text", "content") == "反诈提醒")
            #expect(found.int("group_msg_list", "0", "create_type") == 0)
            #expect(try await list(now - 3600, now + 3600, creator: "wang").count("group_msg_list") == 0)
            #expect(try await list(now - 40 * 86400, now).errcode == 40058)
            #expect(try await list(now, now - 1).errcode == 40058)
        }
    }

    @Test func anUntrustedIPIsRefusedWith60020() async throws {
        try await withEmulator { client, _ in
            let token = try await client.token()
            #expect(try await client.control("trusted-ip?trusted=0").text == #"{"trusted":false}"#)
            #expect(try await client.create(token: token, chats: ["wrChat1"]).errcode == 60020)
            #expect(try await client.post("groupchat/list", token: token, #"{"limit":1}"#).errcode == 60020)
            _ = try await client.control("trusted-ip?trusted=1")
            #expect(try await client.create(token: token, chats: ["wrChat1"]).errcode == 0)
        }
    }

    @Test func aBusyFaultAnswersMinusOneForTheCallItNames() async throws {
        let faults = FaultPlan(faults: ["town/add_msg_template": [.busy]])
        try await withEmulator(faults: faults) { client, _ in
            let token = try await client.token()
            let busy = try await client.create(token: token, chats: ["wrChat1"])
            #expect(busy.errcode == -1)
            #expect(busy.string("errmsg")?.hasPrefix("system busy") == true)
            #expect(try await client.control("tasks", method: "GET").count() == 0)
            #expect(try await client.create(token: token, chats: ["wrChat1"]).errcode == 0)
        }
    }

    @Test func aLostAnswerLeavesATaskTheClientFindsInTheTaskList() async throws {
        let clock = VirtualClock()
        let faults = FaultPlan(faults: ["town/add_msg_template": [.lostAnswer]])
        try await withEmulator(faults: faults, clock: clock) { client, server in
            let token = try await client.token()
            let body = #"{"chat_type":"group","sender":"li","chat_id_list":["wrChat1"],"text":{"content":"反诈"}}"#
            let lost = try await client.raw(
                "POST", "/cgi-bin/externalcontact/add_msg_template?access_token=\(token)",
                headers: [HTTPHeader("Content-Type", "application/json")], body: Array(body.utf8))
            guard case .failure(let error) = lost else {
                Issue.record("the answer was not lost: \(lost)")
                return
            }
            #expect(error.kind == .outcomeUnknown)
            let now = Int(clock.now().timeIntervalSince1970)
            let listed = try await client.post(
                "get_groupmsg_list_v2", token: token,
                #"{"chat_type":"group","start_time":\#(now - 60),"end_time":\#(now + 60),"creator":"li"}"#)
            #expect(listed.count("group_msg_list") == 1)
            #expect(listed.string("group_msg_list", "0", "text", "content") == "反诈")
            #expect(try await server.requestLog().contains { $0.group == "town" && $0.status == nil && $0.injected })
        }
    }

    @Test func withoutAConfigAnyCorpGetsATokenAndTheChatsASenderNamesBecomeItsGroups() async throws {
        let server = try await EmulatorServer.start()
        try await withTransport(to: server) { server, transport in
            let client = Client(port: server.port, transport: transport)
            let token = try await client.token()
            #expect(try await client.create(token: token, sender: "zhao", chats: ["wrAny1", "wrAny2"]).errcode == 0)
            #expect(
                try await client.post("groupchat/list", token: token, #"{"limit":10}"#).count("group_chat_list") == 2)
            _ = try await client.control("confirm?owner=zhao")
            #expect(try await server.received().map(\.group) == ["wrAny1", "wrAny2"])
        }
        // A config without wecom_apps knows no corp.
        let strict = try await EmulatorServer.start(groups: Self.groups)
        try await withTransport(to: strict) { server, transport in
            let client = Client(port: server.port, transport: transport)
            let refused = try await client.call(
                "GET", "/cgi-bin/gettoken?corpid=\(Self.corpID)&corpsecret=\(Self.secret)")
            #expect(refused.errcode == 40013)
        }
    }

    @Test func faultsAreKeyedByAppOrAppAndCall() throws {
        let plan = try FaultPlan.parse(
            "town/add_msg_template:\n  - {fault: lost-answer}\ntown:\n  - {fault: busy}\n", file: "faults.yaml")
        #expect(plan.faults["town/add_msg_template"] == [.lostAnswer])
        try plan.check(groups: Self.groups, apps: [Self.app()])
        // A customer group's own faults would never be served: its app's calls are what fail.
        #expect(throws: FaultPlan.Failure.self) {
            try FaultPlan(faults: ["cg1": [.busy]]).check(groups: Self.groups, apps: [Self.app()])
        }
    }
}
