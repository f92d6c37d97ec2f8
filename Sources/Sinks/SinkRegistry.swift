import GridcastCore
import Transport

/// The sinks gridcast knows, by `sink:` name; also the ``SinkCatalog`` the config loader validates against.
/// Its names are the webhook sinks' and, after them, WeCom customer groups' (``Group/customerGroupSink``), which are
/// reached through an app in several calls: valid in a config, but no ``Sink`` (``sink(named:)`` gives nil).
public struct SinkRegistry: SinkCatalog {
    private let sinks: [String: any Sink]
    /// Names in registration order.
    public let sinkNames: [String]

    /// Creates a registry of the given sinks; `customerGroups` adds ``Group/customerGroupSink`` to the valid names.
    public init(_ sinks: [any Sink], customerGroups: Bool = false) {
        self.sinks = Dictionary(uniqueKeysWithValues: sinks.map { ($0.name, $0) })
        self.sinkNames = sinks.map(\.name) + (customerGroups ? [Group.customerGroupSink] : [])
    }

    /// Every platform gridcast supports.
    public static let standard = SinkRegistry(
        [
            WeComSink(), DingTalkSink(), FeishuSink(name: "feishu"), FeishuSink(name: "lark"), SlackSink(),
            TelegramSink(), DiscordSink(), TeamsSink(), GenericSink(),
        ],
        customerGroups: true
    )

    /// The sink for a `sink:` name.
    public func sink(named name: String) -> (any Sink)? {
        sinks[name]
    }

    /// The transport's URL rules (`https://`, or `http://` to loopback only), then the sink's own; a customer
    /// group's own rules (no URL; an app, a chat and an owner).
    public func problems(for group: Group) -> [GroupProblem] {
        if group.isCustomerGroup && sinks[group.sink] == nil { return group.customerGroupProblems }
        guard let address = WebhookAddress(group.url) else {
            return [GroupProblem(field: "url", message: "url is not a valid absolute URL")]
        }
        if let problem = address.problem(masked: group.maskedURL) {
            return [GroupProblem(field: "url", message: problem)]
        }
        return sinks[group.sink]?.problems(for: group, address: address) ?? []
    }

    /// The transport's URL rules, for an app's API address.
    public func addressProblem(_ url: String) -> String? {
        WebhookAddress.problem(url, masked: SecretMask.maskURL(url))
    }
}
