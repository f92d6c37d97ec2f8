import Fanout
import Foundation

/// The body of `POST /v1/notices`: `{id?, title?, text, to, urgent?}`.
///
/// Decoding tells a malformed request (400: not JSON, not an object, a value of the wrong type) from an incomplete
/// one (422: `text` or `to` missing, an unknown key), and names the field whenever there is one.
struct NoticeRequest: Sendable, Equatable {
    var id: String?
    var title: String?
    var text: String
    var to: String
    var urgent: Bool?

    /// The keys a request may hold.
    static let keys: Set<String> = ["id", "title", "text", "to", "urgent"]

    /// Reads the request from the body bytes.
    /// - Throws: ``APIError`` (400 or 422).
    init(json: some Sequence<UInt8>) throws(APIError) {
        let fields: Fields
        do {
            fields = try JSONDecoder().decode(Fields.self, from: Data(json))
        } catch let error as APIError {
            throw error
        } catch let error as DecodingError {
            throw Self.translate(error)
        } catch {
            throw .badRequest("body is not valid JSON")
        }
        guard let text = fields.text else { throw .unprocessable("text is required", field: "text") }
        guard let to = fields.to else {
            throw .unprocessable("to is required: all, group:ID or tag:NAME, comma-separated", field: "to")
        }
        self.id = fields.id
        self.title = fields.title
        self.text = text
        self.to = to
        self.urgent = fields.urgent
    }

    /// The request as the intake takes it.
    var submission: NoticeIntake.Submission {
        .init(id: id, title: title ?? "", text: text, to: to, urgent: urgent ?? false)
    }

    /// Every key optional, so a missing one is told apart from a malformed body.
    private struct Fields: Decodable {
        var id: String?
        var title: String?
        var text: String?
        var to: String?
        var urgent: Bool?

        enum CodingKeys: String, CodingKey {
            case id, title, text, to, urgent
        }

        init(from decoder: any Decoder) throws {
            let all = try decoder.container(keyedBy: AnyKey.self)
            if let unknown = all.allKeys.map(\.stringValue).filter({ !NoticeRequest.keys.contains($0) }).min() {
                throw APIError.unprocessable(
                    "unknown field; expected id, title, text, to, urgent", field: String(unknown.prefix(64))
                )
            }
            let container = try decoder.container(keyedBy: CodingKeys.self)
            id = try container.decodeIfPresent(String.self, forKey: .id)
            title = try container.decodeIfPresent(String.self, forKey: .title)
            text = try container.decodeIfPresent(String.self, forKey: .text)
            to = try container.decodeIfPresent(String.self, forKey: .to)
            urgent = try container.decodeIfPresent(Bool.self, forKey: .urgent)
        }
    }

    /// Any key, to find the unknown ones.
    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// The 400 for a decoding failure, naming the top-level key when the failure is inside one.
    static func translate(_ error: DecodingError) -> APIError {
        let path: [any CodingKey]
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context),
            .dataCorrupted(let context):
            path = context.codingPath
        @unknown default:
            path = []
        }
        guard let key = path.first?.stringValue, keys.contains(key) else {
            if case .typeMismatch = error { return .badRequest("body must be a JSON object") }
            return .badRequest("body is not valid JSON")
        }
        return .badRequest("\(key) must be \(key == "urgent" ? "a boolean" : "a string")", field: key)
    }
}
