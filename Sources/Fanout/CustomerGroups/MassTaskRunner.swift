import Channels
import Foundation
import GridcastCore
import Ledger
import Logging

/// Sends customer-group deliveries as WeCom mass-message tasks and follows each task until WeCom has said what became
/// of every group (docs/customer-groups.md): create → (member confirms) → results; reminders, cancellation at the
/// deadline, and a lost create answer found again in WeCom's task list before anything else.
///
/// The ledger is the only judge: a batch is claimed and committed before its create call, and a delivery moves
/// only on WeCom's answer for it.
public struct MassTaskRunner: Sendable {
    let store: any LedgerStore
    let config: GridcastConfig
    let sessions: CustomerGroupSessions
    let clock: any DispatchClock
    let leaseOwner: String
    let logger: Logger

    /// How long a claimed batch or task is ours: the create call's deadline and a margin.
    static let lease: Duration = .seconds(90)
    /// How long after a create call whose answer was lost the task is looked for in WeCom's list.
    static let findWindow: TimeInterval = 600
    /// How often a task is read right after it was created, when members usually confirm.
    static let earlyPoll: TimeInterval = 60
    /// WeCom's answer to cancelling a task that was cancelled already.
    static let alreadyCancelled = 41093

    /// Creates a runner.
    public init(
        store: any LedgerStore, config: GridcastConfig, sessions: CustomerGroupSessions,
        clock: any DispatchClock = SystemDispatchClock(), leaseOwner: String = LeaseOwner.current.description,
        logger: Logger = Logger(label: "gridcast.customer-groups")
    ) {
        self.store = store
        self.config = config
        self.sessions = sessions
        self.clock = clock
        self.leaseOwner = leaseOwner
        self.logger = logger
    }

    /// Creates the tasks due now and makes the calls open tasks need; returns how many tasks it worked on.
    @discardableResult
    public func runOnce() async throws -> Int {
        guard config.groups.contains(where: { $0.isCustomerGroup }) || !config.wecomApps.isEmpty else {
            return 0
        }
        let clients = await sessions.clients(for: config)
        let created = try await createDue(clients: clients)
        let followed = try await followDue(clients: clients)
        return created + followed
    }

    // MARK: - Creating tasks

    private func createDue(clients: [String: WeComContactClient]) async throws -> Int {
        let config = config
        let request = TaskClaimRequest(
            sink: Group.customerGroupSink, leaseOwner: leaseOwner, now: clock.now(), lease: Self.lease, batchSize: 2000,
            key: { groupID in
                guard let group = config.group(groupID), group.isCustomerGroup, let app = group.app,
                    let owner = group.owner, config.wecomApp(app) != nil
                else { return nil }
                return TaskKey(app: app, member: owner)
            })
        // One batch per claim: a crash during a create call leaves only that batch to be found again.
        var count = 0
        while !Task.isCancelled, let claim = try await store.claimTaskBatches(request).first {
            try await create(claim, clients: clients)
            count += 1
        }
        return count
    }

    private func create(_ claim: TaskClaim, clients: [String: WeComContactClient]) async throws {
        var update = TaskUpdate()
        let now = clock.now()
        guard let app = config.wecomApp(claim.key.app), let client = clients[claim.key.app],
            let stored = try await store.notices(ids: [claim.noticeID])[claim.noticeID]
        else {
            update.ended = .dead("the app or the notice is gone: not sent")
            _ = try await store.recordTask(claim.handle, update, at: now)
            return
        }
        let notice = stored.notice
        var chats: [String] = []
        var deliveryByChat: [String: String] = [:]
        var first: Group?
        for delivery in claim.deliveries {
            guard let group = config.group(delivery.groupID), let chat = group.chatID else { continue }
            first = first ?? group
            chats.append(chat)
            deliveryByChat[chat] = delivery.id
        }
        guard let group = first else {
            update.ended = .dead("no group of the task has a chat_id: not sent")
            _ = try await store.recordTask(claim.handle, update, at: now)
            return
        }
        var attachments: [TaskAttachment] = []
        do {
            if let poster = notice.poster {
                let uploader = WeComMediaUploader(clients: clients)
                let media = try await sessions.media.media(for: poster, group: group, uploader: uploader)
                attachments.append(.image(mediaID: media.key))
            }
            if let link = notice.link { attachments.append(CustomerGroupMessage.link(link)) }
        } catch {
            // Nothing was created: an upload posts nothing.
            update.ended =
                error.isTransient
                ? .retry(at: now.addingTimeInterval(60), "poster upload failed: \(error)")
                : .dead("poster upload failed: \(error)")
            update.error = "poster upload failed: \(error)"
            _ = try await store.recordTask(claim.handle, update, at: clock.now())
            return
        }
        let text = CustomerGroupMessage.text(of: notice, for: group)
        let answer: Result<CreatedTask, AppCallError>
        do {
            answer = .success(
                try await client.createGroupTask(
                    sender: claim.key.member, chatIDs: chats, text: text, attachments: attachments))
        } catch {
            answer = .failure(error)
        }
        let at = clock.now()
        switch answer {
        case .success(let created):
            let deadline = app.confirmDeadline.deadline(forTaskCreatedAt: claim.createdAt, in: config.timeZone)
            update.created = (created.msgid, deadline)
            for chat in created.failList {
                if let id = deliveryByChat[chat] {
                    update.results[id] = .dead(
                        "WeCom refused this group (fail_list): not \(claim.key.member)'s customer group")
                }
            }
            update.nextAt = at.addingTimeInterval(min(Self.earlyPoll, Double(app.poll.components.seconds)))
            logger.info(
                "mass-message task created; waiting for the member to confirm",
                metadata: [
                    "notice": "\(claim.noticeID)", "app": "\(app.id)", "member": "\(claim.key.member)",
                    "groups": "\(chats.count - created.failList.count)", "msgid": "\(created.msgid)",
                ])
        case .failure(let error) where error.outcomeUnknown:
            // WeCom may have created it: the task is left to be found in its list (``find``), never created again.
            logger.warning(
                "mass-message task: the create call's answer was lost; it will be looked for in WeCom's list",
                metadata: ["notice": "\(claim.noticeID)", "member": "\(claim.key.member)", "error": "\(error)"])
            return
        case .failure(let error):
            update.ended =
                error.isTransient
                ? .retry(at: at.addingTimeInterval(60), "WeCom did not create the task: \(error)")
                : .dead("WeCom refused the task: \(error)")
            update.error = "\(error)"
            logger.warning(
                "mass-message task not created",
                metadata: ["notice": "\(claim.noticeID)", "member": "\(claim.key.member)", "error": "\(error)"])
        }
        _ = try await store.recordTask(claim.handle, update, at: at)
    }

    // MARK: - Following tasks

    private func followDue(clients: [String: WeComContactClient]) async throws -> Int {
        let tasks = try await store.claimDueTasks(
            leaseOwner: leaseOwner, now: clock.now(), lease: Self.lease, limit: 50)
        for task in tasks {
            guard let app = config.wecomApp(task.key.app), let client = clients[task.key.app] else {
                var update = TaskUpdate()
                update.nextAt = clock.now().addingTimeInterval(300)
                update.error = "app \(task.key.app) is no longer in the config"
                _ = try await store.recordTask(task.handle, update, at: clock.now())
                continue
            }
            switch task.state {
            case .creating: try await find(task, app: app, client: client)
            case .open: try await follow(task, app: app, client: client)
            }
        }
        return tasks.count
    }

    /// A task whose create answer was lost: looked for in WeCom's list by member, time and text.
    private func find(_ task: OpenTask, app: WeComApp, client: WeComContactClient) async throws {
        var update = TaskUpdate()
        let now = clock.now()
        let text = try await expectedText(of: task)
        do {
            let records = try await client.tasks(
                creator: task.key.member, from: task.createdAt.addingTimeInterval(-60), to: now.addingTimeInterval(60))
            // Another batch of the same notice for the same member has the same text: its task is not this one.
            if let found = records.first(where: {
                $0.text?.content == text && !task.siblingMessageIDs.contains($0.msgid)
            }) {
                let deadline = app.confirmDeadline.deadline(forTaskCreatedAt: task.createdAt, in: config.timeZone)
                update.created = (found.msgid, deadline)
                update.nextAt = now
                logger.info(
                    "mass-message task found again after a lost answer",
                    metadata: ["notice": "\(task.noticeID)", "member": "\(task.key.member)", "msgid": "\(found.msgid)"])
            } else if now.timeIntervalSince(task.createdAt) < Self.findWindow {
                update.nextAt = now.addingTimeInterval(60)
            } else {
                update.ended = .inDoubt(
                    "the create call's answer was lost and the task is not in WeCom's list: ask \(task.key.member) "
                        + "whether it appeared in WeCom, then resolve")
            }
        } catch {
            update.nextAt = now.addingTimeInterval(60)
            update.error = "looking for the task failed: \(error)"
        }
        _ = try await store.recordTask(task.handle, update, at: clock.now())
    }

    /// The text a task of `task`'s notice was created with.
    private func expectedText(of task: OpenTask) async throws -> String? {
        guard let stored = try await store.notices(ids: [task.noticeID])[task.noticeID],
            let group = task.waiting.lazy.compactMap({ self.config.group($0.groupID) }).first
        else { return nil }
        return CustomerGroupMessage.text(of: stored.notice, for: group)
    }

    /// An open task: its results read, a reminder when one is due, cancellation at the deadline.
    private func follow(_ task: OpenTask, app: WeComApp, client: WeComContactClient) async throws {
        guard let msgid = task.msgid else { return }
        var update = TaskUpdate()
        let deliveryByChat = Dictionary(
            task.waiting.compactMap { delivery in config.group(delivery.groupID)?.chatID.map { ($0, delivery.id) } },
            uniquingKeysWith: { first, _ in first })
        func read() async throws(AppCallError) {
            for result in try await client.sendResults(msgid: msgid, owner: task.key.member) {
                guard let chat = result.chatID, let id = deliveryByChat[chat] else { continue }
                switch result.status {
                case .sent: update.results[id] = .sent(at: result.sendTime?.date ?? clock.now())
                case .notFriend: update.results[id] = .notDelivered
                case .quotaReached: update.results[id] = .quotaRefused
                default: break
                }
            }
        }
        do {
            try await read()
            let now = clock.now()
            let waiting = task.waiting.filter { update.results[$0.id] == nil }
            if !waiting.isEmpty, let deadline = task.deadline, now >= deadline {
                if !task.cancelled {
                    do {
                        try await client.cancel(msgid: msgid)
                    } catch .refused(code: Self.alreadyCancelled, _) {
                        // Cancelled before (by a process that died before recording it): nothing more to do.
                    } catch {
                        // Not cancelled: the member could still send it, so nothing is recorded expired yet.
                        logger.warning(
                            "cancelling a task failed", metadata: ["msgid": "\(msgid)", "error": "\(error)"])
                        update.error = "cancelling the task failed: \(error)"
                        update.nextAt = clock.now().addingTimeInterval(60)
                        _ = try await store.recordTask(task.handle, update, at: clock.now())
                        return
                    }
                    update.cancelled = true
                    // What the member sent between the read and the cancellation counts.
                    try await read()
                }
                for delivery in waiting where update.results[delivery.id] == nil {
                    update.results[delivery.id] = .expired
                }
                logger.warning(
                    "mass-message task not confirmed in time: cancelled",
                    metadata: ["msgid": "\(msgid)", "member": "\(task.key.member)", "groups": "\(waiting.count)"])
            } else if !waiting.isEmpty, task.reminders < app.remindAfter.count,
                now >= task.createdAt.addingTimeInterval(Double(app.remindAfter[task.reminders].components.seconds))
            {
                do {
                    try await client.remind(msgid: msgid)
                    update.reminded = true
                } catch {
                    logger.warning("reminding a member failed", metadata: ["msgid": "\(msgid)", "error": "\(error)"])
                }
            }
            update.nextAt = nextCall(task, app: app, now: now, reminded: update.reminded)
        } catch {
            update.nextAt = clock.now().addingTimeInterval(60)
            update.error = "reading the task's results failed: \(error)"
        }
        _ = try await store.recordTask(task.handle, update, at: clock.now())
    }

    /// When an open task is next read: soon after it was created, then every `poll`, and never after its next
    /// reminder or its deadline.
    private func nextCall(_ task: OpenTask, app: WeComApp, now: Date, reminded: Bool) -> Date {
        let poll = Double(app.poll.components.seconds)
        let early = now.timeIntervalSince(task.createdAt) < Self.findWindow
        var next = now.addingTimeInterval(early ? min(poll, Self.earlyPoll) : poll)
        let reminders = task.reminders + (reminded ? 1 : 0)
        if reminders < app.remindAfter.count {
            let remind = task.createdAt.addingTimeInterval(Double(app.remindAfter[reminders].components.seconds))
            // A reminder that failed is tried again at the next poll, not on every turn.
            if remind > now { next = min(next, remind) }
        }
        if let deadline = task.deadline { next = min(next, max(deadline, now)) }
        return next
    }
}
