import Foundation
import GridcastCore

/// Groups and configs pointing at a loopback emulator.
public enum TestGroups {
    /// The standard test secret for generic groups.
    public static let genericSecret = "whsec_" + Data("gridcast-test-secret-0123456789".utf8).base64EncodedString()

    /// `count` WeCom groups `g0000…` on the emulator at `port`, tagged `even`/`odd`.
    public static func wecom(_ count: Int, port: Int, prefix: String = "g") -> [Group] {
        (0..<count).map { index in
            let id = "\(prefix)\(String(format: "%04d", index))"
            // Fast pacing unless a test is about pacing: retries to one bot shouldn't wait WeCom's 3 s.
            return Group(
                id: id, name: "网格群\(index)", sink: "wecom",
                url: "http://127.0.0.1:\(port)/cgi-bin/webhook/send?key=key-\(id)",
                tags: [index % 2 == 0 ? "even" : "odd"], rate: .perSecond(1000)
            )
        }
    }

    /// One generic (Standard Webhooks) group on the emulator at `port`.
    public static func generic(_ id: String, port: Int, secret: String = genericSecret) -> Group {
        Group(
            id: id, name: "通用\(id)", sink: "generic", url: "http://127.0.0.1:\(port)/hooks/\(id)", secret: secret,
            rate: .perSecond(1000)
        )
    }

    /// A config with these groups, a ledger in `directory`, and fast retries.
    public static func config(
        _ groups: [Group],
        ledger: String,
        concurrency: Int = 16,
        attempts: Int = 4,
        timeout: Duration = .seconds(5),
        inDoubt: InDoubtPolicy = .hold
    ) -> GridcastConfig {
        var config = GridcastConfig(file: "test.yaml", groups: groups)
        config.ledger.path = ledger
        config.dispatch.concurrency = concurrency
        config.dispatch.attempts = attempts
        config.dispatch.timeout = timeout
        config.dispatch.backoff = .milliseconds(20)
        config.dispatch.maxBackoff = .milliseconds(100)
        config.dispatch.rateLimitPause = .milliseconds(50)
        config.dispatch.inDoubt = inDoubt
        return config
    }

    /// The same groups as a YAML config file text (inline groups), for tests that run the `gridcast` binary.
    public static func yaml(
        _ groups: [Group],
        ledger: String,
        concurrency: Int = 16,
        timeout: String = "5s",
        attempts: Int = 3,
        backoff: String = "20ms",
        maxBackoff: String? = nil,
        extra: String = ""
    ) -> String {
        var text = """
            timezone: Asia/Shanghai
            ledger:
              \(ledger.hasPrefix("postgres://") ? "url" : "path"): \(ledger)
            dispatch:
              concurrency: \(concurrency)
              timeout: \(timeout)
              attempts: \(attempts)
              backoff: \(backoff)\(maxBackoff.map { "\n  max_backoff: \($0)" } ?? "")
              rate_limit_pause: 50ms
            \(extra)
            groups:

            """
        for group in groups {
            text += """
                  - id: \(group.id)
                    name: \(group.name)
                    sink: \(group.sink)
                    url: "\(group.url)"

                """
            if let secret = group.secret { text += "    secret: \"\(secret)\"\n" }
            if let keyword = group.keyword { text += "    keyword: \(keyword)\n" }
            if let chatID = group.chatID { text += "    chat_id: \"\(chatID)\"\n" }
            if group.mentionAll != .never { text += "    mention_all: \(group.mentionAll.rawValue)\n" }
            if group.format != .text { text += "    format: \(group.format.rawValue)\n" }
            if !group.tags.isEmpty { text += "    tags: [\(group.tags.joined(separator: ", "))]\n" }
            if let rate = group.rate { text += "    rate: \"\(rate)\"\n" }
        }
        return text
    }
}
