import Foundation

/// The JSON body of `POST /v1/notices`, `{id?, title?, text, to, urgent?, image?, image_url?, link?}`, decoded and
/// checked without any HTTP. `image` is `{content_type, data}` (base64), `link` is `{url, title, description?,
/// picurl?}` (docs/rich-notices.md).
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
    /// The poster, from `image` (and `image_url`), checked.
    public var poster: Poster?
    /// The link card, from `link`, checked.
    public var link: LinkCard?

    /// The keys a body may hold.
    public static let keys: Set<String> = ["id", "title", "text", "to", "urgent", "image", "image_url", "link"]
    /// The keys of `image`.
    static let imageKeys: Set<String> = ["content_type", "data"]
    /// The keys of `link`.
    static let linkKeys: Set<String> = ["url", "title", "description", "picurl"]

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
        /// The key at fault, when there is one: `text`, or `image.data` inside an object.
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
    public init(
        id: String? = nil, title: String? = nil, text: String, to: String, urgent: Bool? = nil, poster: Poster? = nil,
        link: LinkCard? = nil
    ) {
        self.id = id
        self.title = title
        self.text = text
        self.to = to
        self.urgent = urgent
        self.poster = poster
        self.link = link
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
        self.init(
            id: fields.id, title: fields.title, text: text, to: to, urgent: fields.urgent,
            poster: try Self.poster(fields.image, url: fields.imageURL), link: try Self.card(fields.link))
    }

    /// The poster of `image` and `image_url`, or the problem naming the field.
    static func poster(_ image: ImageFields?, url: String?) throws(Problem) -> Poster? {
        guard let image else {
            if url != nil {
                throw Problem(
                    .invalid, "image_url is the address of the poster: give the poster as image too", field: "image_url"
                )
            }
            return nil
        }
        guard let type = image.contentType else {
            throw Problem(
                .invalid, "image.content_type is required: image/png or image/jpeg", field: "image.content_type")
        }
        guard let format = Poster.Format.allCases.first(where: { $0.contentType == type }) else {
            throw Problem(.invalid, "image.content_type must be image/png or image/jpeg", field: "image.content_type")
        }
        guard let data = image.data else {
            throw Problem(.invalid, "image.data is required: the image file, base64", field: "image.data")
        }
        guard let bytes = Data(base64Encoded: data) else {
            throw Problem(.invalid, "image.data is not base64", field: "image.data")
        }
        if let url, let problem = Notice.addressProblem(url) {
            throw Problem(.invalid, "image_url: \(problem)", field: "image_url")
        }
        let poster: Poster
        switch Notice.makePoster(bytes: [UInt8](bytes), url: url) {
        case .success(let made): poster = made
        case .failure(let failure): throw Problem(.invalid, "image.data: \(failure.message)", field: "image.data")
        }
        guard poster.format == format else {
            throw Problem(
                .invalid, "image.content_type says \(type) but image.data is a \(poster.format.rawValue.uppercased())",
                field: "image.content_type")
        }
        return poster
    }

    /// The card of `link`, or the problem naming the field.
    static func card(_ link: LinkFields?) throws(Problem) -> LinkCard? {
        guard let link else { return nil }
        guard let url = link.url else { throw Problem(.invalid, "link.url is required", field: "link.url") }
        guard let title = link.title, !title.isEmpty else {
            throw Problem(.invalid, "link.title is required", field: "link.title")
        }
        if let problem = Notice.addressProblem(url) {
            throw Problem(.invalid, "link.url: \(problem)", field: "link.url")
        }
        if let picture = link.picurl, let problem = Notice.addressProblem(picture) {
            throw Problem(.invalid, "link.picurl: \(problem)", field: "link.picurl")
        }
        return LinkCard(url: url, title: title, description: link.description ?? "", pictureURL: link.picurl)
    }

    /// `image` as sent: every key optional, so a missing one is named.
    struct ImageFields: Decodable {
        var contentType: String?
        var data: String?

        enum CodingKeys: String, CodingKey {
            case contentType = "content_type"
            case data
        }

        init(from decoder: any Decoder) throws {
            try NoticeBody.refuseUnknownKeys(decoder, known: NoticeBody.imageKeys, in: "image")
            let container = try decoder.container(keyedBy: CodingKeys.self)
            contentType = try container.decodeIfPresent(String.self, forKey: .contentType)
            data = try container.decodeIfPresent(String.self, forKey: .data)
        }
    }

    /// `link` as sent: every key optional, so a missing one is named.
    struct LinkFields: Decodable {
        var url: String?
        var title: String?
        var description: String?
        var picurl: String?

        enum CodingKeys: String, CodingKey {
            case url, title, description, picurl
        }

        init(from decoder: any Decoder) throws {
            try NoticeBody.refuseUnknownKeys(decoder, known: NoticeBody.linkKeys, in: "link")
            let container = try decoder.container(keyedBy: CodingKeys.self)
            url = try container.decodeIfPresent(String.self, forKey: .url)
            title = try container.decodeIfPresent(String.self, forKey: .title)
            description = try container.decodeIfPresent(String.self, forKey: .description)
            picurl = try container.decodeIfPresent(String.self, forKey: .picurl)
        }
    }

    /// Throws `.invalid` naming the first key of the object at `decoder` that is not one of `known`.
    static func refuseUnknownKeys(_ decoder: any Decoder, known: Set<String>, in object: String) throws {
        let all = try decoder.container(keyedBy: AnyKey.self)
        if let unknown = all.allKeys.map(\.stringValue).filter({ !known.contains($0) }).min() {
            throw Problem(
                .invalid, "unknown field in \(object); expected \(known.sorted().joined(separator: ", "))",
                field: "\(object).\(unknown.prefix(64))")
        }
    }

    /// Every key optional, so a missing one is told apart from a malformed body.
    private struct Fields: Decodable {
        var id: String?
        var title: String?
        var text: String?
        var to: String?
        var urgent: Bool?
        var image: ImageFields?
        var imageURL: String?
        var link: LinkFields?

        enum CodingKeys: String, CodingKey {
            case id, title, text, to, urgent, image, link
            case imageURL = "image_url"
        }

        init(from decoder: any Decoder) throws {
            let all = try decoder.container(keyedBy: AnyKey.self)
            if let unknown = all.allKeys.map(\.stringValue).filter({ !NoticeBody.keys.contains($0) }).min() {
                throw Problem(
                    .invalid, "unknown field; expected id, title, text, to, urgent, image, image_url, link",
                    field: String(unknown.prefix(64))
                )
            }
            let container = try decoder.container(keyedBy: CodingKeys.self)
            id = try container.decodeIfPresent(String.self, forKey: .id)
            title = try container.decodeIfPresent(String.self, forKey: .title)
            text = try container.decodeIfPresent(String.self, forKey: .text)
            to = try container.decodeIfPresent(String.self, forKey: .to)
            urgent = try container.decodeIfPresent(Bool.self, forKey: .urgent)
            image = try container.decodeIfPresent(ImageFields.self, forKey: .image)
            imageURL = try container.decodeIfPresent(String.self, forKey: .imageURL)
            link = try container.decodeIfPresent(LinkFields.self, forKey: .link)
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
        if path.count == 1, key == "image" || key == "link" {
            return Problem(.malformed, "\(key) must be an object", field: key)
        }
        if path.count > 1 {
            let field = "\(key).\(path[1].stringValue.prefix(64))"
            return Problem(.malformed, "\(field) must be a string", field: field)
        }
        return Problem(.malformed, "\(key) must be \(key == "urgent" ? "a boolean" : "a string")", field: key)
    }
}
