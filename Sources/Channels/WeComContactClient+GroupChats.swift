extension WeComContactClient {
    /// The largest page `groupchat/list` gives (documented range 1–1,000).
    public static let groupChatPageLimit = 1000

    /// One page of the customer groups `owners` own (`externalcontact/groupchat/list`, every status).
    public func groupChats(
        owners: [String], cursor: String? = nil, limit: Int = groupChatPageLimit
    ) async throws(AppCallError) -> GroupChatPage {
        guard (1...Self.groupChatPageLimit).contains(limit) else {
            throw .invalid(field: "limit", reason: "\(limit), must be 1 to \(Self.groupChatPageLimit)")
        }
        let request = GroupChatListRequest(
            statusFilter: 0, ownerFilter: owners.isEmpty ? nil : .init(useridList: owners), cursor: cursor,
            limit: limit)
        return try await post("externalcontact/groupchat/list", request, answer: GroupChatPage.self)
    }

    /// Every customer group `owners` own, page after page.
    public func allGroupChats(owners: [String]) async throws(AppCallError) -> [GroupChatListing] {
        try await allPages { cursor throws(AppCallError) in
            let page = try await groupChats(owners: owners, cursor: cursor)
            return (page.groupChatList, page.next)
        }
    }

    /// A customer group's name, owner and members (`externalcontact/groupchat/get` with `need_name: 1`).
    public func groupChat(id: String) async throws(AppCallError) -> GroupChatDetail {
        let request = GroupChatGetRequest(chatID: id, needName: 1)
        return try await post("externalcontact/groupchat/get", request, answer: GroupChatGetAnswer.self).groupChat
    }
}
