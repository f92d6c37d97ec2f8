import Foundation

/// A Feishu/Lark app whose credentials let gridcast upload posters (`feishu_app:`), so custom-bot groups of the same
/// tenant get them as images (docs/rich-notices.md).
public struct FeishuApp: Sendable, Hashable {
    /// The app's `app_id` (`cli_…`).
    public var appID: String
    /// The app's `app_secret`. Never log it.
    public var appSecret: String
    /// The open-platform base URL (`https://open.feishu.cn`, `https://open.larksuite.com`); nil means the scheme and
    /// host of the group's webhook URL.
    public var api: String?
    /// Where it was written.
    public var location: SourceLocation?

    /// Creates an app.
    public init(appID: String, appSecret: String, api: String? = nil, location: SourceLocation? = nil) {
        self.appID = appID
        self.appSecret = appSecret
        self.api = api
        self.location = location
    }

    /// The base URL calls go to for a group whose webhook is `webhookURL`.
    public func baseURL(forWebhook webhookURL: String) -> String {
        if let api { return api.hasSuffix("/") ? String(api.dropLast()) : api }
        guard let scheme = webhookURL.range(of: "://") else { return webhookURL }
        let rest = webhookURL[scheme.upperBound...]
        let host = rest.prefix { $0 != "/" && $0 != "?" }
        return String(webhookURL[..<scheme.upperBound]) + host
    }
}
