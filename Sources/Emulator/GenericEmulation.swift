import Foundation
import GridcastCore
import Sinks

/// A Standard Webhooks receiver at any path a `generic` group's URL names: checks `webhook-id`,
/// `webhook-timestamp` (±5 minutes) and `webhook-signature` against the group's secret.
struct GenericEmulation: PlatformEmulation {
    let sink = "generic"
    let perMinuteLimit: Int? = nil

    func accepts(_ request: EmulatedRequest) -> Bool {
        request.method == "POST"
    }

    func botKey(of request: EmulatedRequest) -> String {
        "generic:" + request.path
    }

    func botKey(of group: Group) -> String? {
        guard group.sink == sink, let components = URLComponents(string: group.url) else { return nil }
        return "generic:" + components.path
    }

    func unknownBot() -> EmulatedAction {
        .json(404, #"{"error":"no such webhook"}"#)
    }

    func accepted() -> EmulatedAction {
        .respond(status: 204, headers: [:], body: "")
    }

    func tooFast() -> EmulatedAction {
        .json(429, #"{"error":"too many requests"}"#, headers: ["retry-after": "1"])
    }

    func answer(for fault: FaultPlan.Fault) -> EmulatedAction {
        var rateLimited = tooFast()
        if case .rateLimit(let seconds?) = fault {
            rateLimited = .json(429, #"{"error":"too many requests"}"#, headers: ["retry-after": "\(seconds)"])
        }
        return answer(
            for: fault, busy: .json(503, #"{"error":"unavailable"}"#), rateLimited: rateLimited,
            permanent: .json(410, #"{"error":"gone"}"#)
        )
    }

    func handle(_ request: EmulatedRequest, group: Group?, now: Date) -> (EmulatedAction, ReceivedMessage?) {
        guard let id = request.headers["webhook-id"], !id.isEmpty,
            let timestampText = request.headers["webhook-timestamp"], let timestamp = Int(timestampText),
            let signature = request.headers["webhook-signature"]
        else {
            return (.json(400, #"{"error":"missing webhook-id, webhook-timestamp or webhook-signature"}"#), nil)
        }
        if abs(Double(timestamp) - now.timeIntervalSince1970) > 300 {
            return (.json(401, #"{"error":"timestamp outside tolerance"}"#), nil)
        }
        if let group {
            guard let secret = group.secret, let signer = StandardWebhooks(secret: secret),
                signer.verify(header: signature, id: id, timestamp: timestamp, body: request.body)
            else {
                return (.json(401, #"{"error":"invalid signature"}"#), nil)
            }
        }
        guard let body = Self.jsonObject(request.body), let text = body["text"] as? String else {
            return (.json(400, #"{"error":"body must be JSON with text"}"#), nil)
        }
        let message = ReceivedMessage(
            group: group?.id ?? (body["group_id"] as? String) ?? botKey(of: request), sink: sink, text: text,
            webhookID: id, mentionAll: false, receivedAt: now
        )
        return (accepted(), message)
    }
}
