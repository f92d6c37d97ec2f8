import Foundation

/// The JSON body of `POST /v1/notices`, `{id?, title?, text, to, urgent?}`, decoded and checked without any HTTP.
///
/// It lives here rather than beside the route so that the decoding can be tested and fuzzed on its own, without
/// building the server stack; the daemon's `NoticeRequest` turns a ``Problem`` into its HTTP answer.
/// Decoding tells a malformed body (not JSON, a key repeated or a trailing comma, not an object, a value of the wrong
/// type) from an incomplete or invalid one (`text` or `to` missing, an unknown key, an oversize title), and names the
/// field whenever there is one.
public struct NoticeBody: Sendable, Equatable {
    /// The notice id, when the client chose one.
    public var id: String?
    /// The title, when given.
    public var title: String?
    /// The message text.
    public var text: String
    /// The selector, as written.
    public var to: String
    /// Whether the notice skips quiet hours.
    public var urgent: Bool?

    /// The keys a body may hold.
    public static let keys: Set<String> = ["id", "title", "text", "to", "urgent"]

    /// The longest title accepted, in characters: a title is a line above the text, not a second text.
    public static let maxTitleLength = 200

    /// Why a body was refused.
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        /// The two kinds of refusal.
        public enum Kind: Sendable, Equatable {
            /// The body can't be read: not JSON, not an object, a value of the wrong type (HTTP 400).
            case malformed
            /// The body reads but can't be accepted: a missing, unknown or invalid field (HTTP 422).
            case invalid
        }

        /// Which kind of refusal.
        public var kind: Kind
        /// What is wrong, for a person; never echoes a value.
        public var message: String
        /// The top-level key at fault, when there is one.
        public var field: String?

        /// Creates a problem.
        public init(_ kind: Kind, _ message: String, field: String? = nil) {
            self.kind = kind
            self.message = message
            self.field = field
        }

        public var description: String {
            message + (field.map { " (field \($0))" } ?? "")
        }
    }

    /// Creates a body from its fields.
    public init(id: String? = nil, title: String? = nil, text: String, to: String, urgent: Bool? = nil) {
        self.id = id
        self.title = title
        self.text = text
        self.to = to
        self.urgent = urgent
    }

    /// Reads a body from its bytes.
    /// - Throws: ``Problem``: `.malformed` for what can't be read, `.invalid` for what can't be accepted.
    public init(json: some Sequence<UInt8>) throws(Problem) {
        let bytes = Array(json)
        // JSONDecoder keeps one value of a repeated key without a word, and reads trailing commas: refuse both, so
        // that every reader of a body agrees on what it says.
        switch StrictJSON.check(bytes) {
        case .wellFormed:
            break
        case .duplicateKey(let key):
            let shown = String(key.prefix(64))
            throw Problem(.malformed, "duplicate key '\(shown)': each key may appear once", field: shown)
        case .malformed:
            throw Problem(.malformed, "body is not valid JSON")
        }
        let fields: Fields
        do {
            fields = try JSONDecoder().decode(Fields.self, from: Data(bytes))
        } catch let problem as Problem {
            throw problem
        } catch let error as DecodingError {
            throw Self.translate(error)
        } catch {
            throw Problem(.malformed, "body is not valid JSON")
        }
        guard let text = fields.text else { throw Problem(.invalid, "text is required", field: "text") }
        guard let to = fields.to else {
            throw Problem(.invalid, "to is required: all, group:ID or tag:NAME, comma-separated", field: "to")
        }
        if let title = fields.title, title.count > Self.maxTitleLength {
            throw Problem(
                .invalid, "title is longer than \(Self.maxTitleLength) characters; put the details in text",
                field: "title"
            )
        }
        self.init(id: fields.id, title: fields.title, text: text, to: to, urgent: fields.urgent)
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
            if let unknown = all.allKeys.map(\.stringValue).filter({ !NoticeBody.keys.contains($0) }).min() {
                throw Problem(
                    .invalid, "unknown field; expected id, title, text, to, urgent", field: String(unknown.prefix(64))
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

    /// The problem for a decoding failure, naming the top-level key when the failure is inside one.
    static func translate(_ error: DecodingError) -> Problem {
        let path: [any CodingKey]
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context),
            .dataCorrupted(let context):
            path = context.codingPath
        @unknown default:
            path = []
        }
        guard let key = path.first?.stringValue, keys.contains(key) else {
            if case .typeMismatch = error { return Problem(.malformed, "body must be a JSON object") }
            return Problem(.malformed, "body is not valid JSON")
        }
        return Problem(.malformed, "\(key) must be \(key == "urgent" ? "a boolean" : "a string")", field: key)
    }
}
