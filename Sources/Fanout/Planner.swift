import Foundation
import GridcastCore
import Ledger
import Sinks

/// Turns a notice and a selector into a ``Plan``: the selected groups, and how many parts each platform needs.
public struct Planner: Sendable {
    let config: GridcastConfig
    let sinks: SinkRegistry

    /// Creates a planner.
    public init(config: GridcastConfig, sinks: SinkRegistry) {
        self.config = config
        self.sinks = sinks
    }

    /// Why a notice can't be planned.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// What is wrong, naming the group or selector.
        public var message: String
        public var description: String { message }
    }

    /// Builds the plan; refuses selectors naming unknown groups or tags and notices needing more than
    /// `dispatch.max_parts` parts on some platform.
    public func plan(_ notice: Notice, to selector: Selector, origin: String, now: Date) throws(Failure) -> Plan {
        let groups: [Group]
        do {
            groups = try selector.resolve(in: config.groups)
        } catch {
            throw Failure(message: error.message)
        }
        guard Notice.isValidID(notice.id) else {
            throw Failure(
                message: "notice id '\(notice.id)' is invalid: use 1–128 letters, digits, '.', '_', '-' or ':'")
        }
        guard !notice.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw Failure(message: "notice text is empty")
        }
        var targets: [PlanTarget] = []
        for group in groups {
            if group.isCustomerGroup {
                // A customer group gets one mass-message task: the text, the poster and the card together.
                if let refusal = CustomerGroupMessage.refusal(of: notice, for: group) {
                    throw Failure(message: refusal)
                }
                var target = PlanTarget(groupID: group.id, groupName: group.name, sink: group.sink, parts: 1)
                target.allowance = group.app.flatMap(config.wecomApp)?.quota.allowance(at: now, in: config.timeZone)
                targets.append(target)
                continue
            }
            guard let sink = sinks.sink(named: group.sink) else {
                throw Failure(message: "group \(group.id): unknown sink '\(group.sink)'")
            }
            let limit = sink.limit(for: group)
            let planned = MessageParts.plan(of: notice, for: group, on: sink)
            if let poster = notice.poster,
                let refusal = Self.posterRefusal(poster, of: notice, group: group, sink: sink)
            {
                throw Failure(message: refusal)
            }
            let texts = planned.texts
            for (index, text) in texts.enumerated() {
                let size = MessageParts.measure(
                    text, part: index + 1, of: texts.count, notice: notice, for: group, on: sink)
                if size > limit.value {
                    throw Failure(
                        message: Self.oversize(
                            text, size: size, of: notice, group: group, sink: sink.name, limit: limit))
                }
            }
            let parts = planned.parts.count
            if parts > config.dispatch.maxParts {
                throw Failure(
                    message:
                        "notice '\(notice.id)' needs \(parts) parts for group \(group.id) (\(sink.name) allows \(sink.limit(for: group).value) \(sink.limit(for: group).unitName) per message\(Self.extraParts(planned))); dispatch.max_parts is \(config.dispatch.maxParts)"
                )
            }
            targets.append(
                PlanTarget(groupID: group.id, groupName: group.name, sink: group.sink, parts: parts, note: planned.note)
            )
        }
        return Plan(notice: notice, selector: selector.description, origin: origin, targets: targets, now: now)
    }

    /// The parts besides the text, as the refusal of too many parts names them: ", and a poster and a card".
    static func extraParts(_ planned: PlannedParts) -> String {
        let extras = planned.parts.compactMap { part -> String? in
            switch part {
            case .text: nil
            case .poster: "a poster"
            case .card: "a card"
            }
        }
        return extras.isEmpty ? "" : ", plus " + extras.joined(separator: " and ")
    }

    /// Why a poster can't be sent to `group`: larger than its platform takes (docs/rich-notices.md); nil when it can,
    /// or when the platform doesn't show it anyway.
    static func posterRefusal(_ poster: Poster, of notice: Notice, group: Group, sink: any Sink) -> String? {
        if case .notShown = sink.posterHandling(poster, for: group) { return nil }
        guard let limit = sink.posterLimit(for: group), poster.bytes.count > limit.bytes else { return nil }
        return
            "notice '\(notice.id)' can't be sent to group \(group.id): its poster is \(poster.bytes.count) bytes and "
            + "\(sink.name) takes images up to \(limit.label) (\(limit.bytes) bytes)"
    }

    /// Why a part can't be sent: the splitter never cuts inside a character (grapheme), so one character longer
    /// than the platform's limit leaves a part over it, which the platform would refuse (WeCom's 40058).
    static func oversize(
        _ part: String, size: Int, of notice: Notice, group: Group, sink: String, limit: TextLimit
    ) -> String {
        let allowed = "\(sink) allows \(limit.value) \(limit.unitName) per message"
        if let widest = part.max(by: { limit.measure(String($0)) < limit.measure(String($1)) }),
            limit.measure(String(widest)) > limit.value
        {
            return "notice '\(notice.id)' can't be sent to group \(group.id): one character of its text is "
                + "\(limit.measure(String(widest))) \(limit.unitName) (a letter with many combining marks?) and "
                + "\(allowed); a character can't be split"
        }
        return "notice '\(notice.id)' can't be sent to group \(group.id): a part is \(size) "
            + "\(limit.unitName) (as the platform counts it, with the group's keyword) and \(allowed)"
    }
}

extension TextLimit {
    var unitName: String {
        switch self {
        case .bytes: "bytes"
        case .characters: "characters"
        }
    }
}
