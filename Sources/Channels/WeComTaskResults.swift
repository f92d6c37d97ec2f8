/// A member's state in a task (`get_groupmsg_task`'s `status`): 0 not sent, 2 sent (values, `send_time` and the page
/// maximum of 1,000 verified in WeCom's "获取群发成员发送任务列表" documentation, as SDKs mirror it).
public struct MemberTaskStatus: RawRepresentable, Codable, Hashable, Sendable {
    /// WeCom's number.
    public var rawValue: Int
    /// The status WeCom numbers `rawValue`.
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// The member has not confirmed the task yet.
    public static let notSent = MemberTaskStatus(rawValue: 0)
    /// The member confirmed and sent it.
    public static let sent = MemberTaskStatus(rawValue: 2)
}

/// One member's part of a task.
public struct MemberTask: Codable, Sendable, Equatable {
    /// The member.
    public var userid: String
    /// Whether they sent it.
    public var status: MemberTaskStatus
    /// When they sent it; absent until then.
    public var sendTime: WeComTime?

    enum CodingKeys: String, CodingKey {
        case userid, status
        case sendTime = "send_time"
    }
}

/// A group's result in a task (`get_groupmsg_send_result`'s `status`): 0–3 as below, `send_time` given when sent
/// (verified in WeCom's "获取企业群发成员执行结果" documentation, as SDKs mirror it).
public struct ChatSendStatus: RawRepresentable, Codable, Hashable, Sendable {
    /// WeCom's number.
    public var rawValue: Int
    /// The status WeCom numbers `rawValue`.
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// 0: not sent (yet).
    public static let notSent = ChatSendStatus(rawValue: 0)
    /// 1: sent.
    public static let sent = ChatSendStatus(rawValue: 1)
    /// 2: not sent because the recipient is no longer a friend (for a group: no longer in it).
    public static let notFriend = ChatSendStatus(rawValue: 2)
    /// 3: not sent because the recipient already got its quota of mass messages.
    public static let quotaReached = ChatSendStatus(rawValue: 3)
}

/// One group's result in a task.
public struct ChatSendResult: Codable, Sendable, Equatable {
    /// The group (absent for tasks to customers).
    public var chatID: String?
    /// The member who sent it.
    public var userid: String
    /// What happened.
    public var status: ChatSendStatus
    /// When it was sent; given when `status` is sent.
    public var sendTime: WeComTime?

    enum CodingKeys: String, CodingKey {
        case chatID = "chat_id"
        case userid, status
        case sendTime = "send_time"
    }
}

/// A task as `get_groupmsg_list_v2` lists it.
public struct GroupTaskRecord: Codable, Sendable, Equatable {
    /// The task's id.
    public var msgid: String
    /// Who created it (absent for tasks created through the API).
    public var creator: String?
    /// When it was created.
    public var createTime: WeComTime
    /// 0: created by the corp (the API, the admin); 1: by a member.
    public var createType: Int?
    /// The text.
    public var text: GroupTaskRequest.Text?
    /// The attachments.
    public var attachments: [TaskAttachment]?

    enum CodingKeys: String, CodingKey {
        case msgid, creator, text, attachments
        case createTime = "create_time"
        case createType = "create_type"
    }
}

/// A page request on a task: `get_groupmsg_task` (without `userid`) and `get_groupmsg_send_result` (with it).
public struct TaskPageRequest: Codable, Sendable, Equatable {
    /// The task.
    public var msgid: String
    /// The member whose results are asked for (`get_groupmsg_send_result` only).
    public var userid: String?
    /// The page size, at most 1,000.
    public var limit: Int
    /// The previous page's `next_cursor`; nil for the first page.
    public var cursor: String?
}

/// `get_groupmsg_list_v2`'s request.
public struct TaskListRequest: Codable, Sendable, Equatable {
    /// Always `group`.
    public var chatType: String
    /// The window's start; at most a month before its end.
    public var startTime: WeComTime
    /// The window's end.
    public var endTime: WeComTime
    /// Only tasks of this creator.
    public var creator: String?
    /// The page size, at most 100.
    public var limit: Int
    /// The previous page's `next_cursor`; nil for the first page.
    public var cursor: String?

    enum CodingKeys: String, CodingKey {
        case chatType = "chat_type"
        case startTime = "start_time"
        case endTime = "end_time"
        case creator, limit, cursor
    }
}

/// A page of `get_groupmsg_task`.
struct MemberTaskPage: Decodable {
    var taskList: [MemberTask]?
    var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case taskList = "task_list"
        case nextCursor = "next_cursor"
    }
}

/// A page of `get_groupmsg_send_result`.
struct ChatSendResultPage: Decodable {
    var sendList: [ChatSendResult]?
    var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case sendList = "send_list"
        case nextCursor = "next_cursor"
    }
}

/// A page of `get_groupmsg_list_v2`.
struct GroupTaskRecordPage: Decodable {
    var groupMsgList: [GroupTaskRecord]?
    var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case groupMsgList = "group_msg_list"
        case nextCursor = "next_cursor"
    }
}
