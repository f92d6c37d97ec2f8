import Foundation
import GridcastCore

/// What the emulated WeCom customer-contact API remembers: apps, customer groups, access tokens, uploaded media and
/// mass-message tasks with each group's deliveries. Lives on the emulator's event loop, like ``EmulatorState``.
final class WeComContactState {
    /// A customer group (客户群) as the platform knows it.
    struct CustomerGroup {
        var chatID: String
        var name: String
        var owner: String
        /// The app (config id; the corpid without a config) whose members own it.
        var app: String
        /// The config's group id, for the messages list; the chat id without a config.
        var groupID: String
        var createdAt: Date
        /// The member left or the group no longer takes mass messages: a delivery gets status 2.
        var left = false
    }

    /// An app's credentials and quota.
    struct App {
        var id: String
        var corpID: String
        var secret: String
        var quota: MassMessageQuota
    }

    /// An access token and until when it is valid.
    struct Token {
        var value: String
        var app: String
        var expires: Date
    }

    /// An uploaded temporary medium.
    struct Media {
        var type: String
        var app: String
        var expires: Date
        var sha256: String
        var size: Int
    }

    /// One group's delivery of a task: status 0 not sent, 1 sent, 2 not in the group, 3 over the quota.
    struct Delivery {
        var chatID: String
        var status = 0
        var sendTime: Date?
    }

    /// A mass-message task (企业群发) for customer groups.
    struct Task {
        var msgid: String
        var app: String
        var sender: String
        var createdAt: Date
        var text: String
        /// The attachments as the request wrote them (JSON), echoed by `get_groupmsg_list_v2`.
        var attachments: Data
        var deliveries: [Delivery]
        var confirmedAt: Date?
        var reminders: [Date] = []
        var cancelled = false
    }

    /// Without a config (no app, no group): any corpid and secret get a token, and any chat id a sender names
    /// becomes a group it owns. A config without `wecom_apps` knows no corp: every `gettoken` is refused.
    let open: Bool
    private(set) var apps: [String: App] = [:]
    private(set) var groups: [String: CustomerGroup] = [:]
    /// Chat ids in the order they became known, for stable listings.
    private(set) var chatOrder: [String] = []
    private var tokens: [String: Token] = [:]
    private var currentToken: [String: String] = [:]
    private(set) var media: [String: Media] = [:]
    private(set) var tasks: [String: Task] = [:]
    private(set) var taskOrder: [String] = []
    /// When each group received a mass message, for its quota.
    private var sentAt: [String: [Date]] = [:]
    /// Whether calls come from an IP the corp trusts; false answers `60020`.
    var trustedIP = true
    private let calendar: Calendar
    private var serial = 0

    /// The token lifetime WeCom gives (`expires_in`).
    static let tokenLifetime: TimeInterval = 7200
    /// How long a temporary medium's `media_id` lives.
    static let mediaLifetime: TimeInterval = 3 * 86400

    init(apps: [WeComApp], groups: [Group], timeZone: TimeZone, now: Date) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        calendar.firstWeekday = 2
        self.calendar = calendar
        open = apps.isEmpty && groups.isEmpty
        for app in apps {
            self.apps[app.id] = App(id: app.id, corpID: app.corpID, secret: app.secret, quota: app.quota)
        }
        for group in groups where group.sink == "wecom-customer-group" {
            guard let chatID = group.chatID, let owner = group.owner else { continue }
            add(
                CustomerGroup(
                    chatID: chatID, name: group.name, owner: owner, app: group.app ?? apps.first?.id ?? "",
                    groupID: group.id, createdAt: now))
        }
    }

    private func add(_ group: CustomerGroup) {
        if groups[group.chatID] == nil { chatOrder.append(group.chatID) }
        groups[group.chatID] = group
    }

    // MARK: Tokens

    /// Why `gettoken` refused.
    enum TokenRefusal: Error { case unknownCorp, wrongSecret }

    /// The app's current token, or a new one when it has none or it expired ("the same result while valid").
    func issueToken(corpID: String, secret: String, now: Date) throws(TokenRefusal) -> Token {
        let app: String
        if open {
            app = corpID
            if apps[app] == nil { apps[app] = App(id: app, corpID: corpID, secret: secret, quota: .daysOfMonth) }
        } else {
            let matching = apps.values.filter { $0.corpID == corpID }
            guard !matching.isEmpty else { throw .unknownCorp }
            guard let found = matching.first(where: { $0.secret == secret }) else { throw .wrongSecret }
            app = found.id
        }
        if let value = currentToken[app], let token = tokens[value], now < token.expires { return token }
        serial += 1
        let token = Token(value: Self.opaque("tok", serial, length: 64), app: app, expires: now + Self.tokenLifetime)
        tokens[token.value] = token
        currentToken[app] = token.value
        return token
    }

    /// A token by value, expired or not.
    func token(_ value: String) -> Token? { tokens[value] }

    /// Ends every token now: the next call with one gets `42001`.
    func expireTokens(now: Date) {
        for (key, token) in tokens where token.expires > now { tokens[key]?.expires = now }
    }

    // MARK: Groups

    /// The groups of `app` owned by one of `owners` (all when empty), in the order they became known.
    func groups(of app: String, owners: [String]) -> [CustomerGroup] {
        chatOrder.compactMap { groups[$0] }.filter { $0.app == app && (owners.isEmpty || owners.contains($0.owner)) }
    }

    /// The group `chatID` of `app`; without a config, a group the sender names is created as theirs.
    func group(_ chatID: String, app: String, claimedBy sender: String?, now: Date) -> CustomerGroup? {
        if let group = groups[chatID] { return group.app == app ? group : nil }
        guard open, let sender, !chatID.isEmpty else { return nil }
        let group = CustomerGroup(
            chatID: chatID, name: chatID, owner: sender, app: app, groupID: chatID, createdAt: now)
        add(group)
        return group
    }

    /// Whether `userid` is a member that owns customer groups of `app` (any member without a config).
    func isMember(_ userid: String, app: String) -> Bool {
        open || groups.values.contains { $0.app == app && $0.owner == userid }
    }

    /// Marks a group as left (its next deliveries get status 2); false when no group has that chat id.
    func markLeft(_ chatID: String) -> Bool {
        guard groups[chatID] != nil else { return false }
        groups[chatID]?.left = true
        return true
    }

    // MARK: Media

    /// Keeps an uploaded medium and returns its `media_id`.
    func addMedia(type: String, app: String, sha256: String, size: Int, now: Date) -> String {
        serial += 1
        let id = Self.opaque("media", serial, length: 44)
        media[id] = Media(type: type, app: app, expires: now + Self.mediaLifetime, sha256: sha256, size: size)
        return id
    }

    /// The medium `id` of `type`, when it exists for `app` and has not expired.
    func validMedia(_ id: String, type: String, app: String, now: Date) -> Media? {
        guard let found = media[id], found.type == type, found.app == app, now < found.expires else { return nil }
        return found
    }

    // MARK: Tasks

    /// Records a new task and returns its `msgid`.
    func addTask(app: String, sender: String, chats: [String], text: String, attachments: Data, now: Date) -> String {
        serial += 1
        let msgid = Self.opaque("msgGCA", serial, length: 32)
        tasks[msgid] = Task(
            msgid: msgid, app: app, sender: sender, createdAt: now, text: text, attachments: attachments,
            deliveries: chats.map { Delivery(chatID: $0) })
        taskOrder.append(msgid)
        return msgid
    }

    /// Records a reminder of a task.
    func remind(_ msgid: String, now: Date) { tasks[msgid]?.reminders.append(now) }

    /// Stops a task: its unsent groups will never get it.
    func cancel(_ msgid: String) { tasks[msgid]?.cancelled = true }

    /// The member `owner` taps "send" on their open tasks (or only `msgid`): each group gets status 1, or 2 when it
    /// was left, or 3 when it already had its quota of mass messages. Returns the tasks confirmed.
    func confirm(owner: String, msgid: String?, now: Date) -> [Task] {
        var confirmed: [Task] = []
        for id in taskOrder where msgid == nil || id == msgid {
            guard var task = tasks[id], task.sender == owner, !task.cancelled, task.confirmedAt == nil else { continue }
            task.confirmedAt = now
            for index in task.deliveries.indices {
                let chatID = task.deliveries[index].chatID
                if groups[chatID]?.left ?? true {
                    task.deliveries[index].status = 2
                } else if atQuota(chatID, app: task.app, now: now) {
                    task.deliveries[index].status = 3
                } else {
                    task.deliveries[index].status = 1
                    task.deliveries[index].sendTime = now
                    sentAt[chatID, default: []].append(now)
                }
            }
            tasks[id] = task
            confirmed.append(task)
        }
        return confirmed
    }

    /// Records a mass message the group received from outside the API (a member sending one by hand): it counts
    /// against the quota too. False when no group has that chat id.
    func recordSentByHand(_ chatID: String, now: Date) -> Bool {
        guard groups[chatID] != nil else { return false }
        sentAt[chatID, default: []].append(now)
        return true
    }

    /// Whether `chatID` already received as many mass messages in the quota's current period as the corp allows.
    func atQuota(_ chatID: String, app: String, now: Date) -> Bool {
        let quota = apps[app]?.quota ?? .daysOfMonth
        let limit: Int
        let component: Calendar.Component
        switch quota {
        case .daysOfMonth:
            limit = calendar.range(of: .day, in: .month, for: now)?.count ?? 30
            component = .month
        case .perWeek(let count):
            limit = count
            component = .weekOfYear
        case .perDay(let count):
            limit = count
            component = .day
        }
        guard let period = calendar.dateInterval(of: component, for: now) else { return false }
        return sentAt[chatID, default: []].filter { period.contains($0) }.count >= limit
    }

    /// A calendar in the corp's zone, for windows such as `get_groupmsg_list_v2`'s one month.
    var corpCalendar: Calendar { calendar }

    /// An opaque id: `prefix`, then letters derived from `serial` and randomness, `length` characters in all.
    private static func opaque(_ prefix: String, _ serial: Int, length: Int) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
        var text = prefix + String(serial, radix: 36)
        while text.count < length { text.append(alphabet.randomElement() ?? "A") }
        return text
    }
}
