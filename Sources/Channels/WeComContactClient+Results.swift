import Foundation

extension WeComContactClient {
    /// The largest page of `get_groupmsg_task` and `get_groupmsg_send_result` (documented maximum 1,000).
    public static let resultPageLimit = 1000
    /// The largest page of `get_groupmsg_list_v2` (documented maximum 100).
    public static let taskListPageLimit = 100
    /// The longest window one `get_groupmsg_list_v2` call asks for. WeCom allows "1 month" between start and end;
    /// 28 days is within a month whatever month it is.
    public static let taskListWindow: TimeInterval = 28 * 86_400

    /// Each member's state in task `msgid`, every page (`externalcontact/get_groupmsg_task`).
    public func taskStatus(msgid: String) async throws(AppCallError) -> [MemberTask] {
        try await allPages { cursor throws(AppCallError) in
            let request = TaskPageRequest(msgid: msgid, userid: nil, limit: Self.resultPageLimit, cursor: cursor)
            let page = try await post("externalcontact/get_groupmsg_task", request, answer: MemberTaskPage.self)
            return (page.taskList ?? [], page.nextCursor)
        }
    }

    /// Each group's result of task `msgid` sent by `owner`, every page (`externalcontact/get_groupmsg_send_result`).
    /// For customer groups WeCom lists only groups already sent to.
    public func sendResults(msgid: String, owner: String) async throws(AppCallError) -> [ChatSendResult] {
        try await allPages { cursor throws(AppCallError) in
            let request = TaskPageRequest(msgid: msgid, userid: owner, limit: Self.resultPageLimit, cursor: cursor)
            let page = try await post(
                "externalcontact/get_groupmsg_send_result", request, answer: ChatSendResultPage.self)
            return (page.sendList ?? [], page.nextCursor)
        }
    }

    /// The customer-group tasks created between `from` and `to` (by `creator` when given), every page
    /// (`externalcontact/get_groupmsg_list_v2`); a window longer than ``taskListWindow`` is asked for in several.
    public func tasks(creator: String? = nil, from: Date, to: Date) async throws(AppCallError) -> [GroupTaskRecord] {
        guard from <= to else { throw .invalid(field: "start_time", reason: "after end_time") }
        var records: [GroupTaskRecord] = []
        var seen: Set<String> = []
        for (start, end) in Self.windows(from: from, to: to) {
            let found = try await allPages { cursor throws(AppCallError) in
                let request = TaskListRequest(
                    chatType: "group", startTime: start, endTime: end, creator: creator,
                    limit: Self.taskListPageLimit, cursor: cursor)
                let page = try await post(
                    "externalcontact/get_groupmsg_list_v2", request, answer: GroupTaskRecordPage.self)
                return (page.groupMsgList ?? [], page.nextCursor)
            }
            // Windows share their boundary second: a task created then is listed twice.
            records += found.filter { seen.insert($0.msgid).inserted }
        }
        return records
    }

    /// `from`…`to` cut into consecutive windows of at most ``taskListWindow``, in whole seconds.
    static func windows(from: Date, to: Date) -> [(WeComTime, WeComTime)] {
        let end = WeComTime(to).seconds
        let step = Int(taskListWindow)
        var start = WeComTime(from).seconds
        var windows: [(WeComTime, WeComTime)] = []
        repeat {
            let stop = min(end, start + step)
            windows.append((WeComTime(seconds: start), WeComTime(seconds: stop)))
            start = stop
        } while start < end
        return windows
    }
}
