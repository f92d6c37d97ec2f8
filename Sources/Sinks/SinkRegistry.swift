import GridcastCore

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
    public static let standard = SinkRegistry([WeComSink(), GenericSink()])

    /// The sink for a `sink:` name.
    public func sink(named name: String) -> (any Sink)? {
        sinks[name]
    }

    public func problems(for group: Group) -> [GroupProblem] {
        sinks[group.sink]?.problems(for: group) ?? []
    }
}
