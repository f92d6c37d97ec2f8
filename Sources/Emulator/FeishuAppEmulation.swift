import Crypto
import Foundation
import GridcastCore

/// Feishu/Lark's open platform as far as posters need it: a self-built app's tenant token
/// (`/open-apis/auth/v3/tenant_access_token/internal`) and the image upload (`/open-apis/im/v1/images`) whose
/// `image_key` a custom bot's `msg_type: image` shows. Apps come from the config's groups (`feishu_app:`); without
/// a config any app id and secret get a token. `POST /_emulator/feishu/expire-tokens` ends every token, as their
/// two hours would; `GET /_emulator/feishu/apps` counts the tokens issued and images uploaded.
struct FeishuAppEmulation {
    /// App secrets by app id, from the config; empty means any app is known.
    private let secrets: [String: String]
    /// Tokens that are valid, with their app id.
    private var tokens: [String: String] = [:]
    /// Uploaded images by `image_key`.
    private(set) var images: [String: [UInt8]] = [:]
    /// Tokens issued and images uploaded so far, for `GET /_emulator/feishu/apps`.
    private(set) var issued = 0

    static let tokenPath = "/open-apis/auth/v3/tenant_access_token/internal"
    static let imagePath = "/open-apis/im/v1/images"
    static let expirePath = "/_emulator/feishu/expire-tokens"
    /// The largest image Feishu takes: 10 MB.
    static let maxImage = 10 * 1024 * 1024

    init(groups: [Group]) {
        var secrets: [String: String] = [:]
        for group in groups { if let app = group.feishuApp { secrets[app.appID] = app.appSecret } }
        self.secrets = secrets
    }

    /// Whether `request` is for this API.
    static func accepts(_ request: EmulatedRequest) -> Bool {
        [tokenPath, imagePath, expirePath].contains(request.path)
    }

    /// The counts `GET /_emulator/feishu/apps` answers.
    var summary: EmulatedAction {
        .json(200, #"{"tokens_issued":\#(issued),"uploads":\#(images.count)}"#)
    }

    /// The answer to a request for this API.
    mutating func handle(_ request: EmulatedRequest) -> EmulatedAction {
        guard request.method == "POST" else { return .respond(status: 405, headers: [:], body: "") }
        switch request.path {
        case Self.tokenPath: return issueToken(request)
        case Self.imagePath: return upload(request)
        default:
            expireTokens()
            return .json(200, #"{"expired":true}"#)
        }
    }

    /// Ends every token.
    mutating func expireTokens() { tokens.removeAll() }

    private func code(_ status: Int, _ code: Int, _ message: String) -> EmulatedAction {
        .json(status, #"{"code":\#(code),"msg":"\#(message)"}"#)
    }

    private mutating func issueToken(_ request: EmulatedRequest) -> EmulatedAction {
        guard let body = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any],
            let appID = body["app_id"] as? String, !appID.isEmpty,
            let secret = body["app_secret"] as? String, !secret.isEmpty
        else { return code(400, 10003, "invalid param") }
        if !secrets.isEmpty {
            guard let expected = secrets[appID] else { return code(400, 10003, "invalid param: app_id not found") }
            guard expected == secret else { return code(400, 10014, "app secret invalid") }
        }
        issued += 1
        let token = "t-" + Hex.encode(SHA256.hash(data: Array("\(appID):\(issued)".utf8))).prefix(30)
        tokens[token] = appID
        return .json(200, #"{"code":0,"expire":7200,"msg":"ok","tenant_access_token":"\#(token)"}"#)
    }

    private mutating func upload(_ request: EmulatedRequest) -> EmulatedAction {
        guard let authorization = request.headers["authorization"], authorization.hasPrefix("Bearer "),
            authorization.count > "Bearer ".count
        else { return code(400, 99991661, "Missing access token for authorization") }
        guard tokens[String(authorization.dropFirst("Bearer ".count))] != nil else {
            return code(400, 99991663, "Invalid access token for authorization")
        }
        guard let form = MultipartBody(request.body, contentType: request.headers["content-type"]),
            let type = form["image_type"]?.text, ["message", "avatar"].contains(type), let image = form["image"],
            image.filename != nil
        else { return code(400, 234001, "Invalid request param.") }
        if image.data.count > Self.maxImage { return code(400, 234006, "The file size exceed the max value.") }
        guard Poster.format(of: image.data) != nil else {
            return code(400, 234011, "Can't regonnize the image format.")
        }
        let key = "img_v3_" + Hex.encode(SHA256.hash(data: image.data)).prefix(24) + "_\(images.count)"
        images[key] = image.data
        return .json(200, #"{"code":0,"data":{"image_key":"\#(key)"},"msg":"success"}"#)
    }
}
