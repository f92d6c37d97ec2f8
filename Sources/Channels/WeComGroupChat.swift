/// `externalcontact/groupchat/list`'s request: customer groups of the given owners, a page at a time (fields, the
/// status values and the 1–1,000 page size verified in the documentation SDKs mirror).
public struct GroupChatListRequest: Codable, Sendable, Equatable {
    /// Group owners, by userid.
    public struct OwnerFilter: Codable, Sendable, Equatable {
        /// The owners' userids.
        public var useridList: [String]

        enum CodingKeys: String, CodingKey { case useridList = "userid_list" }
    }

    /// 0: every group; 1–3: groups of members who left, by the state of their handover.
    public var statusFilter: Int
    /// The owners; nil asks for every owner the app can see (WeCom refuses that past 1,000, errcode 81017).
    public var ownerFilter: OwnerFilter?
    /// The previous page's `next_cursor`; nil for the first page.
    public var cursor: String?
    /// The page size, 1 to 1,000.
    public var limit: Int

    enum CodingKeys: String, CodingKey {
        case statusFilter = "status_filter"
        case ownerFilter = "owner_filter"
        case cursor, limit
    }
}

/// One page of customer groups.
public struct GroupChatPage: Codable, Sendable, Equatable {
    /// The groups on this page.
    public var groupChatList: [GroupChatListing]
    /// The cursor of the next page; empty or absent on the last.
    public var nextCursor: String?

    /// The cursor of the next page, nil on the last.
    public var next: String? { nextCursor.flatMap { $0.isEmpty ? nil : $0 } }

    enum CodingKeys: String, CodingKey {
        case groupChatList = "group_chat_list"
        case nextCursor = "next_cursor"
    }
}

/// A customer group as the list names it.
public struct GroupChatListing: Codable, Sendable, Equatable {
    /// The group's `chat_id`.
    public var chatID: String
    /// 0: normal; 1: its owner left, waiting for handover; 2: handover under way; 3: handed over.
    public var status: Int

    enum CodingKeys: String, CodingKey {
        case chatID = "chat_id"
        case status
    }
}

/// `externalcontact/groupchat/get`'s request.
public struct GroupChatGetRequest: Codable, Sendable, Equatable {
    /// The group.
    public var chatID: String
    /// 1: members' names too.
    public var needName: Int

    enum CodingKeys: String, CodingKey {
        case chatID = "chat_id"
        case needName = "need_name"
    }
}

/// A customer group's details: name, owner, members.
public struct GroupChatDetail: Codable, Sendable, Equatable {
    /// One member of the group.
    public struct Member: Codable, Sendable, Equatable {
        /// The member's userid (a corp member) or external userid.
        public var userid: String
        /// 1: a member of the corp; 2: an external contact.
        public var type: Int
        /// The member's name (asked for with `need_name: 1`).
        public var name: String?
    }

    /// The group's `chat_id`.
    public var chatID: String
    /// The group's name.
    public var name: String
    /// The owner's userid.
    public var owner: String
    /// When it was created.
    public var createTime: WeComTime?
    /// Its members.
    public var memberList: [Member]

    /// How many members it has.
    public var memberCount: Int { memberList.count }

    enum CodingKeys: String, CodingKey {
        case chatID = "chat_id"
        case name, owner
        case createTime = "create_time"
        case memberList = "member_list"
    }
}

/// `groupchat/get`'s answer: the details under `group_chat`.
struct GroupChatGetAnswer: Decodable {
    var groupChat: GroupChatDetail

    enum CodingKeys: String, CodingKey { case groupChat = "group_chat" }
}
