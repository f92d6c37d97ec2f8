import Crypto
import Foundation
import GridcastCore

/// WeCom's customer-contact server API (客户联系) on qyapi.weixin.qq.com, as far as customer-group mass messaging
/// needs it: `gettoken`, `externalcontact/groupchat/list|get`, `media/upload` and the mass-message calls
/// (``WeComContactEmulation/massMessage(_:call:token:now:)``). Every answer is HTTP 200 with an `errcode`.
struct WeComContactEmulation {
    let state: WeComContactState

    /// What a handled call did besides answering: images kept as posters, messages groups received.
    struct Outcome {
        var action: EmulatedAction
        var posters: [(sha256: String, bytes: [UInt8])] = []
        var delivered: [ReceivedMessage] = []
    }

    /// The calls served, by their path after `/cgi-bin/` (and `externalcontact/`), as fault keys name them.
    static let calls: Set<String> = [
        "gettoken", "media/upload", "groupchat/list", "groupchat/get", "add_msg_template", "get_groupmsg_task",
        "get_groupmsg_send_result", "get_groupmsg_list_v2", "remind_groupmsg_send", "cancel_groupmsg_send",
    ]

    /// The call a path names, when it is one of ``calls``.
    static func call(of path: String) -> String? {
        guard path.hasPrefix("/cgi-bin/") else { return nil }
        var name = path.dropFirst("/cgi-bin/".count)
        if name.hasPrefix("externalcontact/") { name = name.dropFirst("externalcontact/".count) }
        return calls.contains(String(name)) ? String(name) : nil
    }

    /// The app a request acts for, by its token (or `gettoken`'s corpid): the key of its faults and request counts.
    func app(of request: EmulatedRequest) -> String? {
        if Self.call(of: request.path) == "gettoken" {
            let corpID = request.query["corpid"] ?? ""
            if state.open { return corpID.isEmpty ? nil : corpID }
            return state.apps.values.first { $0.corpID == corpID }?.id
        }
        return request.query["access_token"].flatMap { state.token($0)?.app }
    }

    /// Answers one call at `now`.
    func handle(_ request: EmulatedRequest, now: Date) -> Outcome {
        guard let call = Self.call(of: request.path) else { return Outcome(action: EmulatorState.noPlatform) }
        if call == "gettoken" { return Outcome(action: token(request, now: now)) }
        guard let value = request.query["access_token"], !value.isEmpty else {
            return Outcome(action: WeComAnswer.error(41001, "access_token missing"))
        }
        guard let token = state.token(value) else {
            return Outcome(action: WeComAnswer.error(40014, "invalid access_token"))
        }
        if now >= token.expires { return Outcome(action: WeComAnswer.error(42001, "access_token expired")) }
        if !state.trustedIP { return Outcome(action: WeComAnswer.error(60020, "not allow to access from your ip")) }
        // A POST call read with GET finds no body: WeCom answers 40058.
        guard request.method == "POST" else {
            return Outcome(action: WeComAnswer.error(40058, "invalid Request Parameter, hint: POST expected"))
        }
        switch call {
        case "media/upload": return upload(request, app: token.app, now: now)
        case "groupchat/list": return Outcome(action: groupList(request, app: token.app))
        case "groupchat/get": return Outcome(action: groupGet(request, app: token.app))
        default: return massMessage(request, call: call, token: token, now: now)
        }
    }

    /// The answer for an injected fault; nil for `lost-answer`, which does the work and then drops the connection.
    func answer(for fault: FaultPlan.Fault) -> EmulatedAction? {
        switch fault {
        case .busy: return WeComAnswer.error(-1, "system busy")
        case .rateLimit(let seconds):
            return WeComAnswer.error(
                45009, "api freq out of limit", headers: seconds.map { ["retry-after": "\($0)"] } ?? [:])
        case .permanent: return WeComAnswer.error(48002, "api forbidden")
        case .badImage: return WeComAnswer.error(40123, "invalid image format")
        case .acceptedThenLost: return WeComAnswer.ok()
        case .lostAnswer, .doneThenHang: return nil
        case .status(let status): return .respond(status: status, headers: [:], body: "")
        case .timeout: return .hang
        case .reset: return .reset
        case .oversize: return .respond(status: 200, headers: [:], body: String(repeating: "x", count: 100 * 1024))
        case .answer(let status, let body, var headers):
            if headers["content-type"] == nil && !body.isEmpty {
                headers["content-type"] = body.hasPrefix("{") ? "application/json" : "text/plain"
            }
            return .respond(status: status, headers: headers, body: body)
        }
    }

    /// Whether `request` uploads an image, which a `bad-image` fault waits for.
    func carriesImage(_ request: EmulatedRequest) -> Bool {
        Self.call(of: request.path) == "media/upload" && request.query["type"] == "image"
    }

    // MARK: gettoken

    /// `GET /cgi-bin/gettoken?corpid=ID&corpsecret=SECRET`: the app's token, the same one while it is valid.
    private func token(_ request: EmulatedRequest, now: Date) -> EmulatedAction {
        guard let corpID = request.query["corpid"], !corpID.isEmpty else {
            return WeComAnswer.error(41002, "corpid missing")
        }
        guard let secret = request.query["corpsecret"], !secret.isEmpty else {
            return WeComAnswer.error(41004, "corpsecret missing")
        }
        do {
            let token = try state.issueToken(corpID: corpID, secret: secret, now: now)
            return WeComAnswer.ok(["access_token": token.value, "expires_in": Int(WeComContactState.tokenLifetime)])
        } catch .unknownCorp {
            return WeComAnswer.error(40013, "invalid corpid")
        } catch {
            return WeComAnswer.error(40001, "invalid secret")
        }
    }

    // MARK: groupchat

    /// `groupchat/list`: the app's groups, filtered by owner, `limit` 1…1000 per page with a cursor.
    private func groupList(_ request: EmulatedRequest, app: String) -> EmulatedAction {
        guard let body = WeComAnswer.object(request.body) else {
            return WeComAnswer.error(40058, "invalid Request Parameter, hint: body is not JSON")
        }
        guard let limit = WeComAnswer.integer(body["limit"]), (1...1000).contains(limit) else {
            return WeComAnswer.error(40058, "invalid Request Parameter, hint: limit must be 1 to 1000")
        }
        let statusFilter = WeComAnswer.integer(body["status_filter"]) ?? 0
        guard (0...3).contains(statusFilter) else {
            return WeComAnswer.error(40058, "invalid Request Parameter, hint: status_filter must be 0 to 3")
        }
        let owners = ((body["owner_filter"] as? [String: Any])?["userid_list"] as? [String]) ?? []
        guard owners.count <= 100 else {
            return WeComAnswer.error(40058, "invalid Request Parameter, hint: at most 100 owners")
        }
        // Every emulated group's owner is in office: status 0, which filters 1–3 exclude.
        let all = statusFilter == 0 ? state.groups(of: app, owners: owners) : []
        guard let start = WeComCursor.offset(body["cursor"] as? String ?? "", count: all.count) else {
            return WeComAnswer.error(40058, "invalid Request Parameter, hint: invalid cursor")
        }
        let page = all.dropFirst(start).prefix(limit)
        let end = start + page.count
        return WeComAnswer.ok([
            "group_chat_list": page.map { ["chat_id": $0.chatID, "status": 0] as [String: Any] },
            "next_cursor": end < all.count ? WeComCursor.encode(end) : "",
        ])
    }

    /// `groupchat/get`: one group's name, owner, creation time and members.
    private func groupGet(_ request: EmulatedRequest, app: String) -> EmulatedAction {
        guard let body = WeComAnswer.object(request.body) else {
            return WeComAnswer.error(40058, "invalid Request Parameter, hint: body is not JSON")
        }
        guard let chatID = body["chat_id"] as? String, !chatID.isEmpty else {
            return WeComAnswer.error(40063, "chat_id missing")
        }
        guard let group = state.groups[chatID], group.app == app else {
            return WeComAnswer.error(40050, "chatid not found")
        }
        let created = WeComAnswer.seconds(group.createdAt)
        var owner: [String: Any] = [
            "userid": group.owner, "type": 1, "join_time": created, "join_scene": 1, "group_nickname": "",
        ]
        if WeComAnswer.integer(body["need_name"]) == 1 { owner["name"] = group.owner }
        return WeComAnswer.ok([
            "group_chat": [
                "chat_id": group.chatID, "name": group.name, "owner": group.owner, "create_time": created,
                "notice": "", "member_list": [owner], "admin_list": [] as [Any], "member_version": "1",
            ] as [String: Any]
        ])
    }

    // MARK: media/upload

    /// The largest medium each `type` takes (bytes), as WeCom documents them; every file must exceed 5 bytes.
    static let mediaLimits = ["image": 10 << 20, "voice": 2 << 20, "video": 10 << 20, "file": 20 << 20]

    /// `media/upload?type=TYPE`, multipart field `media`: a temporary medium valid three days. An image must be a JPG
    /// or PNG of at most 10 MB; its bytes are kept as a poster.
    private func upload(_ request: EmulatedRequest, app: String, now: Date) -> Outcome {
        let type = request.query["type"] ?? ""
        guard let limit = Self.mediaLimits[type] else {
            return Outcome(action: WeComAnswer.error(40004, "invalid media type"))
        }
        guard let form = MultipartBody(request.body, contentType: request.headers["content-type"]),
            let part = form["media"], part.filename?.isEmpty == false
        else {
            if request.body.count >= limit {
                return Outcome(action: WeComAnswer.error(45001, "media size out of limit"))
            }
            return Outcome(action: WeComAnswer.error(41006, "media_id missing, hint: no multipart field 'media'"))
        }
        let bytes = part.data
        guard bytes.count > 5, bytes.count <= limit else {
            return Outcome(action: WeComAnswer.error(type == "image" ? 40009 : 40006, "invalid \(type) size"))
        }
        let valid: Bool
        switch type {
        case "image": valid = Poster.format(of: bytes) != nil
        case "voice": valid = bytes.starts(with: Array("#!AMR".utf8))
        case "video": valid = bytes.count > 8 && Array(bytes[4..<8]) == Array("ftyp".utf8)
        default: valid = true
        }
        guard valid else { return Outcome(action: WeComAnswer.error(40004, "invalid media type")) }
        let sha256 = Hex.encode(SHA256.hash(data: bytes))
        let id = state.addMedia(type: type, app: app, sha256: sha256, size: bytes.count, now: now)
        var outcome = Outcome(
            action: WeComAnswer.ok(
                ["type": type, "media_id": id, "created_at": String(WeComAnswer.seconds(now))], errmsg: ""))
        if type == "image" { outcome.posters = [(sha256, bytes)] }
        return outcome
    }
}
