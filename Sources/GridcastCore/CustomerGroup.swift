/// A WeCom customer group (`sink: wecom-customer-group`): reached through a `wecom_apps` app's mass-message tasks,
/// which its owner confirms, not through a webhook. The config loader knows the name; no webhook `Sink` has it.
extension Group {
    /// The `sink:` of a customer group.
    public static let customerGroupSink = "wecom-customer-group"

    /// Whether this is a WeCom customer group (`sink: wecom-customer-group`).
    public var isCustomerGroup: Bool { sink == Self.customerGroupSink }

    /// The keys a customer group has no use for: each is refused when set, so that nobody expects it to act.
    static let keysCustomerGroupsDontTake: [(key: String, why: String)] = [
        ("secret", "there is no webhook to sign"),
        ("keyword", "there is no custom bot to demand one"),
        ("mention_all", "a mass message can't mention everyone"),
        ("format", "mass messages are text"),
        ("rate", "its pace is the app's quota"),
        ("thread_name", "it is a Discord key"),
    ]

    /// What is wrong with a customer group on its own (its `app:` naming an app of `wecom_apps` is the loader's
    /// check): it needs `app`, `chat_id` and `owner`, and has no `url` or other webhook keys.
    public var customerGroupProblems: [GroupProblem] {
        var problems: [GroupProblem] = []
        if !url.isEmpty {
            problems.append(
                GroupProblem(
                    field: "url", message: "url: customer groups are reached through the app, not a webhook; remove it")
            )
        }
        let required: [(String, String?, String)] = [
            ("app", app, "the id of the wecom_apps entry that sends to it"),
            ("chat_id", chatID, "the customer group's chat_id"),
            ("owner", owner, "the userid of the member who owns the group and confirms its messages"),
        ]
        for (key, value, what) in required where value?.isEmpty ?? true {
            problems.append(GroupProblem(field: key, message: "\(Self.customerGroupSink) needs \(key): \(what)"))
        }
        let set: [String: Bool] = [
            "secret": secret != nil, "keyword": keyword != nil, "mention_all": mentionAll != .never,
            "format": format != .text, "rate": rate != nil, "thread_name": threadName != nil,
        ]
        for (key, why) in Self.keysCustomerGroupsDontTake where set[key] == true {
            problems.append(GroupProblem(field: key, message: "\(key) does not apply to a customer group: \(why)"))
        }
        return problems
    }
}
