import Ledger

/// What an action just did, carried in the query of the page the action redirects to (`?done=retry&count=2`), so
/// the page can say it without the server keeping anything. Only these fixed words are read back, never echoed.
struct AuditActionDone: Sendable, Equatable {
    /// The action.
    var kind: AuditActionRequest.Kind
    /// How many deliveries changed.
    var count: Int

    /// Creates the message of an action.
    init(kind: AuditActionRequest.Kind, count: Int) {
        self.kind = kind
        self.count = count
    }

    /// Reads `done` and `count` of a page's query; nil when absent or not one of the fixed words.
    init?(done: (some StringProtocol)?, count: (some StringProtocol)?) {
        guard let done, let count = count.flatMap({ Int($0) }), (0...100_000).contains(count) else { return nil }
        switch done {
        case "retry": kind = .retry
        case "sent": kind = .resolve(.sent)
        case "resend": kind = .resolve(.resend)
        default: return nil
        }
        self.count = count
    }

    /// Today's page with this message: where an action redirects (the changed rows count on today).
    var location: String {
        let word =
            switch kind {
            case .retry: "retry"
            case .resolve(let resolution): resolution.rawValue
            }
        return "/?done=\(word)&count=\(count)"
    }

    /// The message, as a paragraph of the page.
    var html: String {
        let (chinese, english) =
            switch kind {
            case .retry:
                ("已将 \(count) 个失败投递重新排入发送。", "\(count) dead \(count == 1 ? "delivery" : "deliveries") due again.")
            case .resolve(.sent):
                ("已将 \(count) 个待核实投递记为已发送。", "\(count) in-doubt \(count == 1 ? "delivery" : "deliveries") marked sent.")
            case .resolve(.resend):
                ("已将 \(count) 个待核实投递重新排入发送。", "\(count) in-doubt \(count == 1 ? "delivery" : "deliveries") due again.")
            }
        return "<p class=\"done\" id=\"action-done\" role=\"status\">\(chinese)<small>\(english)</small></p>"
    }
}
