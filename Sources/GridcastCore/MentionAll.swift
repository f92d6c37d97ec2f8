/// When a group's messages mention everyone (@all, @everyone, `<!channel>`): `mention_all` per group, or the
/// config's top-level default. Only the first part of a split message carries the mention.
public enum MentionAll: String, Sendable, Hashable, CaseIterable, ExpressibleByBooleanLiteral {
    /// Never (`false`): the default of a config that does not say.
    case never
    /// On every notice (`true`).
    case always
    /// On urgent notices only (`urgent`): what `config/example.yaml` sets for new configs.
    case urgent

    /// `true` is ``always``, `false` ``never``.
    public init(booleanLiteral value: Bool) {
        self = value ? .always : .never
    }

    /// Reads `true`/`yes`/`on`/`1`/`always`, `false`/`no`/`off`/`0`/`never` or `urgent`; nil for anything else.
    public init?(parsing text: String) {
        switch text.lowercased() {
        case "true", "yes", "on", "1", "always": self = .always
        case "false", "no", "off", "0", "never": self = .never
        case "urgent": self = .urgent
        default: return nil
        }
    }

    /// Whether a message of a notice with this urgency mentions everyone at all (on its first part).
    public func applies(urgent: Bool) -> Bool {
        switch self {
        case .never: false
        case .always: true
        case .urgent: urgent
        }
    }

    /// Whether the group may ever be mentioned: platforms whose markdown can't mention send such groups text.
    public var mayMention: Bool { self != .never }
}
