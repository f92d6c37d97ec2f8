/// An attachment of a mass-message task (`attachments[]`, `{"msgtype": …, "<msgtype>": {…}}`).
public enum TaskAttachment: Codable, Sendable, Equatable {
    /// An image by `media_id` (from ``WeComContactClient/uploadImage(bytes:filename:contentType:)``) or `pic_url`.
    case image(TaskImage)
    /// A link card.
    case link(TaskLink)
    /// Another kind WeCom lists in a task (miniprogram, video, file); gridcast sends none.
    case other(msgtype: String)

    /// An image uploaded as temporary material.
    public static func image(mediaID: String) -> TaskAttachment { .image(TaskImage(mediaID: mediaID)) }
    /// An image by its URL from WeCom's image upload.
    public static func image(pictureURL: String) -> TaskAttachment { .image(TaskImage(picURL: pictureURL)) }

    private enum CodingKeys: String, CodingKey { case msgtype, image, link }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .msgtype)
        switch type {
        case "image": self = .image(try container.decode(TaskImage.self, forKey: .image))
        case "link": self = .link(try container.decode(TaskLink.self, forKey: .link))
        default: self = .other(msgtype: type)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .image(let image):
            try container.encode("image", forKey: .msgtype)
            try container.encode(image, forKey: .image)
        case .link(let link):
            try container.encode("link", forKey: .msgtype)
            try container.encode(link, forKey: .link)
        case .other(let type):
            try container.encode(type, forKey: .msgtype)
        }
    }
}

/// An image attachment: `media_id` or `pic_url` (WeCom uses `media_id` when both are given).
public struct TaskImage: Codable, Sendable, Equatable {
    /// Temporary material's id.
    public var mediaID: String?
    /// A URL from WeCom's image upload.
    public var picURL: String?

    /// Creates an image attachment.
    public init(mediaID: String? = nil, picURL: String? = nil) {
        self.mediaID = mediaID
        self.picURL = picURL
    }

    enum CodingKeys: String, CodingKey {
        case mediaID = "media_id"
        case picURL = "pic_url"
    }
}

/// A link attachment: title (≤ 128 bytes), cover `picurl`, `desc` (≤ 512 bytes), `url` (≤ 2,048 bytes).
public struct TaskLink: Codable, Sendable, Equatable {
    /// The title.
    public var title: String
    /// The cover picture's URL.
    public var picurl: String?
    /// The description.
    public var desc: String?
    /// Where it leads.
    public var url: String

    /// Creates a link attachment.
    public init(title: String, url: String, desc: String? = nil, picurl: String? = nil) {
        self.title = title
        self.url = url
        self.desc = desc
        self.picurl = picurl
    }
}

/// `externalcontact/add_msg_template`'s request for customer groups.
public struct GroupTaskRequest: Codable, Sendable, Equatable {
    /// The text part.
    public struct Text: Codable, Sendable, Equatable {
        /// The text, ≤ 4,000 UTF-8 bytes.
        public var content: String
    }

    /// Always `group`: the task goes to customer groups.
    public var chatType: String
    /// The groups, ≤ 2,000.
    public var chatIDList: [String]
    /// The member who confirms and sends it: the groups' owner.
    public var sender: String
    /// The text.
    public var text: Text?
    /// ≤ 9 attachments.
    public var attachments: [TaskAttachment]?

    enum CodingKeys: String, CodingKey {
        case chatType = "chat_type"
        case chatIDList = "chat_id_list"
        case sender, text, attachments
    }
}

/// The task WeCom created: its `msgid`, and the ids it could not send to.
public struct CreatedTask: Codable, Sendable, Equatable {
    /// The task's id, for its status, results, reminder and cancellation.
    public var msgid: String
    /// Ids WeCom found invalid or could not send to.
    public var failList: [String]

    /// Creates an answer.
    public init(msgid: String, failList: [String] = []) {
        self.msgid = msgid
        self.failList = failList
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        msgid = try container.decode(String.self, forKey: .msgid)
        failList = try container.decodeIfPresent([String].self, forKey: .failList) ?? []
    }

    enum CodingKeys: String, CodingKey {
        case msgid
        case failList = "fail_list"
    }
}

/// A request naming one task by `msgid` (`remind_groupmsg_send`, `cancel_groupmsg_send`).
public struct TaskIDRequest: Codable, Sendable, Equatable {
    /// The task.
    public var msgid: String
}

/// An answer with nothing but `errcode` and `errmsg`.
struct EmptyAnswer: Decodable {}
