import Fanout
import Foundation
import GridcastCore
import Ledger

/// What `gridcast send` sends: `--text`, a file (with or without front matter) or a library notice, with the command
/// line's `--to`, `--title`, `--id`, `--urgent`/`--no-urgent`, `--image`, `--image-url` and `--link…` taking
/// precedence over the front matter's fields.
struct SendSource {
    /// Where the notice's id came from, so that a refusal names what to change.
    enum IDOrigin: Equatable {
        /// `--id`.
        case flag
        /// The `id:` of the file's front matter.
        case frontMatter(file: String)
        /// A library notice (`--notice`): its file's `id:`, or a revision of it.
        case library
        /// Derived from title, text and today's date.
        case derived
    }

    var id: String?
    var title: String
    var text: String
    var to: String
    var urgent: Bool
    var idOrigin: IDOrigin
    var poster: Poster?
    var link: LinkCard?

    /// Why the command line can't be turned into a notice (exit 2); `option` names the flag at fault.
    struct Problem: Error {
        var option: String
        var message: String
        /// Further lines (a front matter's problems, each at its `FILE:LINE:COL`).
        var details: [String] = []
    }

    /// The flags as given; nil when absent.
    struct Flags {
        var text: String?
        var file: String?
        var notice: String?
        var to: String?
        var title: String?
        var id: String?
        var urgent: Bool?
        var image: String?
        var imageURL: String?
        var link: String?
        var linkTitle: String?
        var linkDescription: String?
        var linkPicture: String?
    }

    /// Resolves the flags, then lays `--image`/`--image-url` and `--link…` over the notice's own poster and card.
    static func resolve(_ flags: Flags, config: GridcastConfig) throws(Problem) -> SendSource {
        var source = try resolveText(flags, config: config)
        try source.apply(flags)
        return source
    }

    /// The poster and card flags over what the front matter or library gave.
    mutating func apply(_ flags: Flags) throws(Problem) {
        if let image = flags.image {
            guard let data = FileManager.default.contents(atPath: image) else {
                throw Problem(option: "image", message: "cannot read '\(image)'")
            }
            switch Notice.makePoster(bytes: [UInt8](data), url: flags.imageURL ?? poster?.url) {
            case .success(let loaded): poster = loaded
            case .failure(let failure):
                throw Problem(
                    option: failure.message.hasPrefix("image_url") ? "image-url" : "image", message: failure.message)
            }
        } else if let url = flags.imageURL {
            guard poster != nil else {
                throw Problem(
                    option: "image-url", message: "the address of the poster: give the poster as --image too")
            }
            if let problem = Notice.addressProblem(url) { throw Problem(option: "image-url", message: problem) }
            poster?.url = url
        }
        let cardFlags = [flags.link, flags.linkTitle, flags.linkDescription, flags.linkPicture]
        guard cardFlags.contains(where: { $0 != nil }) else { return }
        var card = link ?? LinkCard(url: "", title: "")
        if let url = flags.link { card.url = url }
        if let title = flags.linkTitle { card.title = title }
        if let description = flags.linkDescription { card.description = description }
        if let picture = flags.linkPicture { card.pictureURL = picture }
        guard !card.url.isEmpty else { throw Problem(option: "link", message: "a link card needs its --link URL") }
        guard !card.title.isEmpty else { throw Problem(option: "link-title", message: "a link card needs a title") }
        if let problem = Notice.addressProblem(card.url) { throw Problem(option: "link", message: problem) }
        if let picture = card.pictureURL, let problem = Notice.addressProblem(picture) {
            throw Problem(option: "link-pic", message: problem)
        }
        link = card
    }

    /// Resolves the flags against the config's library and the file's front matter.
    static func resolveText(_ flags: Flags, config: GridcastConfig) throws(Problem) -> SendSource {
        if let text = flags.text {
            return try plain(text, flags: flags)
        }
        if let noticeID = flags.notice {
            return try library(noticeID, flags: flags, library: config.library)
        }
        let path = flags.file ?? ""
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else { throw Problem(option: "file", message: "cannot read '\(path)' as UTF-8 text") }
        guard hasFrontMatter(text) else { return try plain(text, flags: flags) }
        switch NoticeLibrary.parse(text, file: path, requireID: false) {
        case .failure(let error):
            throw Problem(
                option: "file", message: "its front matter can't be read (same format as the library's files)",
                details: error.diagnostics.map(\.description))
        case .success(let entry):
            let audience = flags.to ?? entry.selector?.description
            guard let audience else {
                throw Problem(option: "to", message: "which groups? \(path) has no to: in its front matter")
            }
            let fileID = entry.notice.id.isEmpty ? nil : entry.notice.id
            return SendSource(
                id: flags.id ?? fileID, title: flags.title ?? entry.notice.title, text: entry.notice.text, to: audience,
                urgent: flags.urgent ?? entry.notice.urgent,
                idOrigin: flags.id != nil ? .flag : fileID != nil ? .frontMatter(file: path) : .derived,
                poster: entry.notice.poster, link: entry.notice.link)
        }
    }

    /// A text without front matter: `--to` is required.
    static func plain(_ text: String, flags: Flags) throws(Problem) -> SendSource {
        guard let to = flags.to else {
            throw Problem(option: "to", message: "which groups? give --to all, group:ID or tag:NAME")
        }
        return SendSource(
            id: flags.id, title: flags.title ?? "", text: text, to: to, urgent: flags.urgent ?? false,
            idOrigin: flags.id != nil ? .flag : .derived)
    }

    /// A library notice by its id.
    static func library(_ noticeID: String, flags: Flags, library: NoticeLibrary) throws(Problem) -> SendSource {
        guard let directory = library.directory else {
            throw Problem(
                option: "notice", message: "this config has no notice library (notices: {dir: …}) to send from")
        }
        guard let entry = library.entry(noticeID) else {
            let ids = library.entries.map(\.notice.id)
            throw Problem(
                option: "notice",
                message: "no notice '\(noticeID)' in the library \(directory)"
                    + KeySuggestion.hint(for: noticeID, in: ids)
                    + "; a notice's id is the id: line of its file's front matter: grep -H '^id:' \(directory)/*.md "
                    + "(or see gridcast schedule preview)")
        }
        guard let audience = flags.to ?? entry.selector?.description else {
            throw Problem(
                option: "to",
                message: "which groups? notice '\(noticeID)' (\(entry.file)) has no to: in its front matter; "
                    + "give --to all, group:ID or tag:NAME")
        }
        return SendSource(
            id: flags.id ?? entry.notice.id, title: flags.title ?? entry.notice.title, text: entry.notice.text,
            to: audience, urgent: flags.urgent ?? entry.notice.urgent, idOrigin: flags.id != nil ? .flag : .library,
            poster: entry.notice.poster, link: entry.notice.link)
    }

    /// Whether `text` opens with a `---` line: a front matter, as in the library's files.
    static func hasFrontMatter(_ text: String) -> Bool {
        let start = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
        return start.hasPrefix("---\n") || start.hasPrefix("---\r\n")
    }

    /// The notice as it will be recorded: a library notice edited since its id was recorded goes out under its
    /// revision id, as a schedule's firing would send it (`docs/ledger.md`, "Edited library notices").
    func recordedID(in store: any LedgerStore) async throws -> String? {
        guard idOrigin == .library, let id else { return id }
        let recorded = try await store.notices(ids: [id])
        return notice(id: id).recorded(over: recorded[id]?.contentHash).id
    }

    /// The notice under `id`, with its poster and card.
    func notice(id: String) -> Notice {
        Notice(id: id, title: title, text: text, urgent: urgent, poster: poster, link: link)
    }

    /// The submission to the intake, under `id` (nil: derived).
    func submission(id: String?) -> NoticeIntake.Submission {
        .init(id: id, title: title, text: text, to: to, urgent: urgent, poster: poster, link: link)
    }

    /// Why the ledger refused the id (it holds other content, `recorded` when known), in terms of where the id came
    /// from.
    func conflict(noticeID: String, recorded: Notice? = nil) -> String {
        switch idOrigin {
        case .flag:
            return "notice '\(noticeID)' already exists with different content; choose another --id"
        case .frontMatter(let file):
            return "notice '\(noticeID)' (the id: in \(file)) was recorded earlier with a different title, text, "
                + "urgency, poster or link card; a new text needs a new id: change the id: line (or give --id)"
        case .library:
            return "notice '\(noticeID)' was recorded earlier with a different title, urgency, poster or link card "
                + "than its library file's; give --id for this variant"
        case .derived where recorded.map({ $0.urgent == urgent }) ?? false:
            return "today's notice with this title and text, '\(noticeID)', was recorded with another poster or link "
                + "card; give this one its own --id (e.g. --id \(noticeID)-2)"
        case .derived:
            return "today's notice with this title and text, '\(noticeID)', was recorded "
                + (urgent ? "as not urgent" : "as urgent")
                + "; the same text can't be recorded both ways under one id: give this one its own --id "
                + "(e.g. --id \(noticeID)-\(urgent ? "urgent" : "normal"))"
        }
    }
}
