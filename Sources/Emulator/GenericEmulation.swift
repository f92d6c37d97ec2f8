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
        var message = ReceivedMessage(
            group: group?.id ?? (body["group_id"] as? String) ?? botKey(of: request), sink: sink, text: text,
            webhookID: id, mentionAll: false, receivedAt: now
        )
        if let image = body["image"] {
            guard let image = image as? [String: Any], let received = Self.image(image) else {
                return (.json(400, #"{"error":"image must have content_type, sha256, size and url or data"}"#), nil)
            }
            message.image = received
        }
        if let link = body["link"] {
            guard let link = link as? [String: Any], let url = link["url"] as? String,
                let title = link["title"] as? String
            else {
                return (.json(400, #"{"error":"link must have url and title"}"#), nil)
            }
            message.card = ReceivedCard(url: url, title: title)
        }
        return (accepted(), message)
    }

    /// The generic payload's `image`: its declared sha256 and size, checked against `data` when the bytes came.
    static func image(_ image: [String: Any]) -> ReceivedImage? {
        guard let type = image["content_type"] as? String, ["image/png", "image/jpeg"].contains(type),
            let sha256 = image["sha256"] as? String, let size = (image["size"] as? NSNumber)?.intValue
        else { return nil }
        if let data = image["data"] as? String {
            guard let bytes = Data(base64Encoded: data).map(Array.init), let poster = try? Poster(bytes: bytes),
                poster.sha256 == sha256, bytes.count == size, poster.format.contentType == type
            else { return nil }
            return ReceivedImage(uploaded: bytes, sha256: sha256)
        }
        guard let url = image["url"] as? String, !url.isEmpty else { return nil }
        return ReceivedImage(sha256: sha256, size: size, url: url)
    }
}
