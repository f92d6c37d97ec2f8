import GridcastCore
import Transport

/// The sinks gridcast knows, by `sink:` name; also the ``SinkCatalog`` the config loader validates against.
public struct SinkRegistry: SinkCatalog {
    private let sinks: [String: any Sink]
    /// Names in registration order.
    public let sinkNames: [String]

    /// Creates a registry of the given sinks.
    public init(_ sinks: [any Sink]) {
        self.sinks = Dictionary(uniqueKeysWithValues: sinks.map { ($0.name, $0) })
        self.sinkNames = sinks.map(\.name)
    }

    /// Every platform gridcast supports.
    public static let standard = SinkRegistry([
        WeComSink(), DingTalkSink(), FeishuSink(name: "feishu"), FeishuSink(name: "lark"), SlackSink(), TelegramSink(),
        DiscordSink(), TeamsSink(), GenericSink(),
    ])

    /// The sink for a `sink:` name.
    public func sink(named name: String) -> (any Sink)? {
        sinks[name]
    }

    /// The transport's URL rules (`https://`, or `http://` to loopback only), then the sink's own.
    public func problems(for group: Group) -> [GroupProblem] {
        guard let address = WebhookAddress(group.url) else {
            return [GroupProblem(field: "url", message: "url is not a valid absolute URL")]
        }
        if let problem = address.problem(masked: group.maskedURL) {
            return [GroupProblem(field: "url", message: problem)]
        }
        return sinks[group.sink]?.problems(for: group, address: address) ?? []
    }
}
