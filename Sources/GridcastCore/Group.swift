/// One grid chat group (网格群) and the bot that posts into it.
public struct Group: Sendable, Hashable, Identifiable {
    /// Stable id, `[a-z0-9][a-z0-9._-]*`; the ledger keys deliveries by it.
    public var id: String
    /// Human name, e.g. 凌水社区第1网格群.
    public var name: String
    /// The platform: `wecom`, `generic`, …
    public var sink: String
    /// The bot's webhook URL; usually carries the bot key. Never log it: use ``maskedURL``.
    public var url: String { didSet { findSecrets() } }
    /// The signing secret, where the platform has one.
    public var secret: String? { didSet { findSecrets() } }
    /// Every string of this group that must never be shown: the signing secret, the credential parts of its URL and
    /// its Feishu app's secret. Found when the URL, the secret or the app is set.
    public private(set) var secrets: [String]
    /// Every form of ``secrets`` (see ``SecretForms``): text a receiver sent back goes through its
    /// ``SecretForms/redact(_:)``. Built when asked, for the few texts that need it: building them for every group
    /// as a config was read was most of the time and memory a 100,000-group config took, in every command.
    public var secretForms: SecretForms { SecretForms(secrets) }
    /// The custom keyword the platform requires in every message.
    public var keyword: String?
    /// The chat: Telegram's chat id, or a WeCom customer group's `chat_id`.
    public var chatID: String?
    /// A WeCom customer group's app (`app:`, an id in `wecom_apps`).
    public var app: String?
    /// A WeCom customer group's owner (`owner:`): the member's userid who confirms its mass messages.
    public var owner: String?
    /// The Feishu/Lark app that uploads this group's posters (the group's `feishu_app:`, else the config's).
    public var feishuApp: FeishuApp? { didSet { findSecrets() } }
    /// Telegram's forum topic (`thread_id`): sent as `message_thread_id`.
    public var threadID: String?
    /// Discord's `thread_name`: the post a message opens in a forum channel (`thread_name`).
    public var threadName: String?
    /// Tags for `tag:NAME` selectors.
    public var tags: [String]
    /// When messages mention everyone in the group (first part only).
    public var mentionAll: MentionAll
    /// Put before the title of an urgent notice (`urgent_prefix`, default `【紧急】`; empty for none).
    public var urgentPrefix: String = Group.defaultUrgentPrefix
    /// Overrides the platform's published rate for this group's bot (`rate: 10/min`).
    public var rate: RateLimit?
    /// Text or the platform's markdown.
    public var format: MessageFormat = .text
    /// Where the group was defined.
    public var location: SourceLocation?
    /// Where each of its keys was written, for errors that point at the value (YAML groups only).
    public var fieldLocations: [String: SourceLocation] = [:]

    /// Creates a group.
    public init(
        id: String,
        name: String,
        sink: String,
        url: String,
        secret: String? = nil,
        keyword: String? = nil,
        chatID: String? = nil,
        tags: [String] = [],
        mentionAll: MentionAll = .never,
        rate: RateLimit? = nil,
        format: MessageFormat = .text,
        location: SourceLocation? = nil
    ) {
        self.id = id
        self.name = name
        self.sink = sink
        self.url = url
        self.secret = secret
        self.keyword = keyword
        self.chatID = chatID
        self.tags = tags
        self.mentionAll = mentionAll
        self.rate = rate
        self.format = format
        self.location = location
        self.secrets = Self.secrets(url: url, secret: secret, app: nil)
    }

    /// The urgent prefix of a config that sets none.
    public static let defaultUrgentPrefix = "【紧急】"

    /// Finds ``secrets`` again, after the URL, the secret or the app changed.
    private mutating func findSecrets() {
        secrets = Self.secrets(url: url, secret: secret, app: feishuApp)
    }

    private static func secrets(url: String, secret: String?, app: FeishuApp?) -> [String] {
        var found = SecretMask.credentials(in: url)
        if let secret, !secret.isEmpty { found.append(secret) }
        if let app, !app.appSecret.isEmpty { found.append(app.appSecret) }
        return found
    }

    /// The URL with its credentials replaced by `***`.
    public var maskedURL: String { SecretMask.maskURL(url) }

    /// Checks that `id` is a valid group id.
    public static func isValidID(_ id: String) -> Bool {
        guard let first = id.unicodeScalars.first, isIDStart(first) else { return false }
        return id.unicodeScalars.allSatisfy { isIDStart($0) || $0 == "." || $0 == "_" || $0 == "-" }
    }

    private static func isIDStart(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar)
    }
}
