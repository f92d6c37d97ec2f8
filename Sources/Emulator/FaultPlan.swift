import Foundation
import GridcastCore
import Yams

/// Faults to inject, per group: the first requests of a group fail as listed, in order, then it behaves.
///
/// ```yaml
/// lingshui-01:
///   - {fault: busy, times: 2}          # the platform's "busy" answer (WeCom errcode -1, generic 503)
///   - {fault: rate-limit, retry_after: 1}
///   - {fault: status, status: 502}
///   - {fault: timeout}                 # read the request, never answer
///   - {fault: reset}                   # read the request, drop the connection
///   - {fault: permanent}               # the platform's permanent refusal
///   - {fault: oversize}                # HTTP 200 with a 100 KiB body
///   - {fault: accepted-then-lost}      # the platform's success, and the message never shows (a Teams flow failing)
///   - {fault: bad-image}               # the next image message is refused as broken (WeCom 301019 md5 mismatch);
///                                      # text and card messages before it pass
///   - {fault: lost-answer}             # do what the request asks, then drop the connection unanswered
///   - {fault: done-then-hang}          # do what the request asks, then never answer (a client killed while waiting)
///   - {fault: answer, status: 200, body: '{"errcode":40058,"errmsg":"content exceed max length"}'}
///   - {fault: answer, status: 429, body: rate_limited, headers: {retry-after: "7"}}
/// ```
///
/// A WeCom customer-contact app's faults are keyed by its id in `wecom_apps` (the corpid without a config), for every
/// call it makes, or by `APP/CALL` (`town/add_msg_template`, `town/gettoken`, `town/media/upload`…) for one call.
///
/// `answer` serves any answer a platform documents, byte for byte: the status, the body (default empty) and the
/// headers (a `content-type` is added when absent: JSON for a body that starts with `{`, plain text otherwise).
public struct FaultPlan: Sendable, Equatable {
    /// One injected failure.
    public enum Fault: Sendable, Equatable {
        case busy
        case rateLimit(retryAfter: Int?)
        case status(Int)
        case timeout
        case reset
        case permanent
        /// HTTP 200 with a 100 KiB body (tests the client's response cap).
        case oversize
        /// The platform's success answer, and the message never appears: a Teams workflow that accepted it (202) and
        /// failed to post it.
        case acceptedThenLost
        /// The platform's refusal of a broken image (WeCom's `301019` md5 mismatch), served to the group's next image
        /// message; the messages before it pass as usual.
        case badImage
        /// The request is carried out (the message posted, the task created), then the connection is dropped
        /// unanswered: the client can't know, and must find out (WeCom: through `get_groupmsg_list_v2`).
        case lostAnswer
        /// The request is carried out, then never answered: the client times out — or is killed while it waits,
        /// which is how tests put a crash between a call's effect and its record.
        case doneThenHang
        /// Exactly this answer, whatever the platform: for the answers the named faults don't cover (a given
        /// errcode, an error body, `Retry-After` or none).
        case answer(status: Int, body: String, headers: [String: String])

        /// A raw answer; `headers` names are lowercased.
        public static func answer(_ status: Int, _ body: String = "", headers: [String: String] = [:]) -> Fault {
            .answer(
                status: status, body: body,
                headers: Dictionary(
                    headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { _, last in last })
            )
        }
    }

    /// Faults by group id, in the order they are served.
    public var faults: [String: [Fault]]
    /// Where each group's faults were written (`FILE:LINE:COL`), for messages.
    var places: [String: String] = [:]

    /// Creates a plan.
    public init(faults: [String: [Fault]] = [:]) {
        self.faults = faults
    }

    /// Refuses faults for groups that `groups` (the emulator's config) lacks: they would never be served, and the
    /// rehearsal would pass without the failure it was meant to show. Without a config every bot is accepted and
    /// faults are keyed by bot, so nothing is checked.
    /// - Throws: ``Failure`` naming each unknown group and where it was written.
    public func check(groups: [Group], apps: [WeComApp] = []) throws(Failure) {
        guard !groups.isEmpty || !apps.isEmpty else { return }
        // A customer group's faults would never be served: its app's calls are what fail.
        var known = Set(groups.filter { $0.sink != "wecom-customer-group" }.map(\.id))
        for app in apps {
            known.insert(app.id)
            for call in WeComContactEmulation.calls { known.insert(app.id + "/" + call) }
        }
        let unknown = faults.keys.filter { !known.contains($0) }.sorted()
        guard !unknown.isEmpty else { return }
        throw Failure(
            description: unknown.map { id in
                "\(places[id].map { "\($0): " } ?? "")faults for group '\(id)', which is not in the emulator's config"
                    + KeySuggestion.hint(for: id, in: known.sorted())
            }.joined(separator: "\n"))
    }

    /// Why a faults file could not be read.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads a faults file.
    public static func load(path: String) throws -> FaultPlan {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else { throw Failure(description: "\(path): cannot read faults file") }
        return try parse(text, file: path)
    }

    /// Parses faults YAML.
    public static func parse(_ text: String, file: String) throws -> FaultPlan {
        guard let root = try Yams.compose(yaml: text), case .mapping(let groups) = root else {
            throw Failure(description: "\(file):1:1: faults must be a mapping of group id to a list of faults")
        }
        var plan = FaultPlan()
        for (key, value) in groups {
            guard let group = key.string, case .sequence(let items) = value else {
                throw Failure(
                    description:
                        "\(file):\(key.mark?.line ?? 1):\(key.mark?.column ?? 1): expected a group id with a list of faults"
                )
            }
            var list: [Fault] = []
            for item in items {
                let at = "\(file):\(item.mark?.line ?? 1):\(item.mark?.column ?? 1)"
                guard let kind = item["fault"]?.string else {
                    throw Failure(description: "\(at): each fault needs 'fault:'")
                }
                let times = item["times"]?.int ?? 1
                let fault: Fault
                switch kind {
                case "busy": fault = .busy
                case "rate-limit": fault = .rateLimit(retryAfter: item["retry_after"]?.int)
                case "status":
                    guard let status = item["status"]?.int, (100...599).contains(status) else {
                        throw Failure(description: "\(at): fault 'status' needs status: 100…599")
                    }
                    fault = .status(status)
                case "timeout": fault = .timeout
                case "reset": fault = .reset
                case "permanent": fault = .permanent
                case "oversize": fault = .oversize
                case "accepted-then-lost": fault = .acceptedThenLost
                case "bad-image": fault = .badImage
                case "lost-answer": fault = .lostAnswer
                case "done-then-hang": fault = .doneThenHang
                case "answer":
                    guard let status = item["status"]?.int, (100...599).contains(status) else {
                        throw Failure(description: "\(at): fault 'answer' needs status: 100…599")
                    }
                    var headers: [String: String] = [:]
                    if let node = item["headers"] {
                        guard case .mapping(let pairs) = node else {
                            throw Failure(description: "\(at): fault 'answer' headers must be a mapping")
                        }
                        for (name, value) in pairs {
                            guard let name = name.string, let value = value.string else {
                                throw Failure(description: "\(at): fault 'answer' headers must map names to strings")
                            }
                            headers[name] = value
                        }
                    }
                    fault = .answer(status, item["body"]?.string ?? "", headers: headers)
                default:
                    throw Failure(
                        description:
                            "\(at): unknown fault '\(kind)' (busy, rate-limit, status, timeout, reset, permanent, oversize, accepted-then-lost, bad-image, lost-answer, done-then-hang, answer)"
                    )
                }
                list += Array(repeating: fault, count: max(1, times))
            }
            plan.faults[group, default: []] += list
            plan.places[group] = "\(file):\(key.mark?.line ?? 1):\(key.mark?.column ?? 1)"
        }
        return plan
    }
}
