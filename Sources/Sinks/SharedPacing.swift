import GridcastCore

/// A platform whose groups' bots share one more limit than their own: a Telegram bot token posts into many chats,
/// each paced on its own, and all of them together within the token's limit (`docs/sinks.md`, "Pacing").
public protocol SharedPacing: Sink {
    /// The key of the limit `group` shares with every group of the same bot. It holds the bot's credential: a pacing
    /// key only, never logged or shown.
    func sharedKey(for group: Group) -> String
    /// The shared limit.
    var sharedRate: RateLimit { get }
}
