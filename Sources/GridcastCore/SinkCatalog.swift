/// What the config loader needs to know about the sinks without depending on them: their names and what each
/// requires of a group (a `chat_id`, a secret's format…).
public protocol SinkCatalog: Sendable {
    /// Every valid `sink:` value.
    var sinkNames: [String] { get }
    /// What is wrong with this group for its sink; empty when nothing is.
    func problems(for group: Group) -> [GroupProblem]
    /// Why `url` may not be an app's API address (`api:`), or nil when it may: the rules of webhook URLs.
    func addressProblem(_ url: String) -> String?
}

/// A problem with one field of one group.
public struct GroupProblem: Sendable, Hashable {
    /// The config key the problem is about (`url`, `secret`, `chat_id`…).
    public var field: String
    /// What is wrong; never contains the field's value when that value may be a secret.
    public var message: String

    /// Creates a problem.
    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
}
