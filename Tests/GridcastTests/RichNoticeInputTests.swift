import Emulator
import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Testing
import Transport

/// Posters and link cards coming in: library front matter, `gridcast send` flags and `POST /v1/notices`, refused
/// with their place or field, and shown back by `ledger list` and `GET /v1/notices/{id}` (docs/rich-notices.md).
@Suite("Rich notice input: front matter, send flags, the API, and what the ledger shows", .serialized)
struct RichNoticeInputTests {
    static let frontMatter = """
        ---
        id: poster-96110
        title: 96110
        image: posters/96110.png
        image_url: https://example.org/96110.png
        link:
          url: https://mp.example.org/s/abc
          title: 警惕养老诈骗
          description: 社区民警提醒
          picurl: https://mp.example.org/cover.jpg
        ---
        接到96110来电请及时接听。
        """

    @Test func frontMatterReadsThePosterBesideTheFileAndTheCard() throws {
        let directory = try TemporaryDirectory("rich-library")
        defer { directory.remove() }
        try FileManager.default.createDirectory(atPath: directory.file("posters"), withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: directory.file("posters/96110.png"), contents: Data(TestPosters.red))
        _ = try directory.write("10-poster.md", Self.frontMatter)
        let (library, problems) = NoticeLibrary.load(
            directory: directory.path, environment: EnvironmentExpansion(environment: [:]))
        #expect(problems.isEmpty, "\(problems)")
        let notice = try #require(library.entry("poster-96110")?.notice)
        #expect(notice.poster == TestPosters.poster(url: "https://example.org/96110.png"))
        #expect(notice.link == TestPosters.card)
    }

    @Test(arguments: [
        ("image: posters/none.png", "3:8", "image: cannot read"),
        ("image: notes.txt", "3:8", "not a PNG or JPEG"),
        ("image: poster.png\nimage_url: http://example.org/a.png", "4:12", "https://"),
        ("image_url: https://example.org/a.png", "3:12", "give the poster as image: too"),
        ("link:\n  url: https://example.org/a", "3:1", "link: lacks the required title:"),
        ("link:\n  url: http://example.org/a\n  title: t", "4:8", "link.url: expected an https:// address"),
        ("link:\n  url: https://example.org/a\n  title: t\n  picture: https://x.org/p.png", "6:3", "picurl"),
        ("link: https://example.org/a", "3:1", "link: expected {url, title, description, picurl}"),
    ])
    func frontMatterProblemsAreNamedAtTheirPlace(line: String, place: String, message: String) throws {
        let directory = try TemporaryDirectory("rich-library")
        defer { directory.remove() }
        _ = try directory.write("notes.txt", "not an image")
        _ = FileManager.default.createFile(atPath: directory.file("poster.png"), contents: Data(TestPosters.red))
        let path = try directory.write("n.md", "---\nid: n\n\(line)\n---\n正文\n")
        let (_, problems) = NoticeLibrary.load(
            directory: directory.path, environment: EnvironmentExpansion(environment: [:]))
        let found = problems.map(\.description)
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.hasPrefix("\(path):\(place): ") == true, "\(found)")
        #expect(found.first?.contains(message) == true, "\(found)")
    }

    // MARK: - gridcast send

    struct Setup {
        let server: EmulatorServer
        let directory: TemporaryDirectory
        let configPath: String

        func run(_ arguments: [String]) async throws -> GridcastProcess.Result {
            try await GridcastProcess.run(arguments, environment: ["GRIDCAST_LOG_LEVEL": "warning"])
        }

        func close() async throws {
            try await server.stop()
            directory.remove()
        }
    }

    func setup() async throws -> Setup {
        let directory = try TemporaryDirectory("rich-cli")
        let server = try await EmulatorServer.start(groups: TestGroups.wecom(2, port: 0), enforceRateLimits: false)
        let yaml = TestGroups.yaml(TestGroups.wecom(2, port: server.port), ledger: directory.file("ledger.sqlite"))
        let path = try directory.write("gridcast.yaml", yaml)
        _ = FileManager.default.createFile(atPath: directory.file("red.png"), contents: Data(TestPosters.red))
        _ = FileManager.default.createFile(atPath: directory.file("grey.png"), contents: Data(TestPosters.grey))
        return Setup(server: server, directory: directory, configPath: path)
    }

    @Test func sendDryRunShowsThePosterAndTheCardFromFlags() async throws {
        let setup = try await setup()
        let result = try await setup.run([
            "send", "--config", setup.configPath, "--to", "all", "--text", "不转账", "--dry-run",
            "--image", setup.directory.file("red.png"), "--image-url", "https://example.org/r.png",
            "--link", "https://mp.example.org/s/abc", "--link-title", "警惕养老诈骗",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let sha = TestPosters.poster().sha256
        #expect(
            result.stdout.contains(
                "poster png, \(TestPosters.red.count) bytes, sha256 \(sha.prefix(12))…, at https://example.org/r.png"),
            "\(result.stdout)")
        #expect(result.stdout.contains("link card 「警惕养老诈骗」 → https://mp.example.org/s/abc"), "\(result.stdout)")
        try await setup.close()
    }

    @Test func sendRefusesABadPosterOrCardNamingTheFlag() async throws {
        let setup = try await setup()
        let base = ["send", "--config", setup.configPath, "--to", "all", "--text", "不转账"]
        let cases: [([String], String)] = [
            (["--image", setup.configPath], "--image: not a PNG or JPEG"),
            (["--image", setup.directory.file("none.png")], "--image: cannot read"),
            (["--image-url", "https://example.org/a.png"], "--image-url: the address of the poster"),
            (["--image", setup.directory.file("red.png"), "--image-url", "ftp://x/a.png"], "--image-url:"),
            (["--link", "https://example.org/a"], "--link-title: a link card needs a title"),
            (["--link", "http://example.org/a", "--link-title", "t"], "--link: expected an https:// address"),
            (["--link-title", "t"], "--link: a link card needs its --link URL"),
        ]
        for (flags, message) in cases {
            let result = try await setup.run(base + flags)
            #expect(result.status == 2, "\(flags)")
            #expect(result.stderr.contains(message), "\(flags): \(result.stderr)")
        }
        #expect(try await setup.server.requestCount() == 0)
        try await setup.close()
    }

    @Test func aFilesPosterIsRecordedFlagsWinAndAnotherPosterUnderItsIDIsAConflict() async throws {
        let setup = try await setup()
        let file = try setup.directory.write(
            "notice.md",
            "---\nid: poster-note\nto: all\nimage: red.png\nlink: {url: https://a.example/x, title: 卡}\n---\n不转账\n")
        let sent = try await setup.run([
            "send", "--config", setup.configPath, "--file", file, "--link-title", "卡片标题",
        ])
        #expect(sent.status == 0, "\(sent.stdout)\(sent.stderr)")
        let store = try SQLiteLedgerStore(path: setup.directory.file("ledger.sqlite"))
        let recorded = try #require(try await store.notice(id: "poster-note")?.notice)
        #expect(recorded.poster?.bytes == TestPosters.red)
        #expect(recorded.link == LinkCard(url: "https://a.example/x", title: "卡片标题"))
        let other = try await setup.run([
            "send", "--config", setup.configPath, "--file", file, "--link-title", "卡片标题",
            "--image", setup.directory.file("grey.png"),
        ])
        #expect(other.status == 2)
        #expect(other.stderr.contains("poster or link card"), "\(other.stderr)")
        // A derived id (today's date and the text) names the poster as the difference, not the urgency.
        let base = ["send", "--config", setup.configPath, "--to", "all", "--text", "同一段话"]
        #expect(try await setup.run(base + ["--image", setup.directory.file("red.png")]).status == 0)
        let derived = try await setup.run(base + ["--image", setup.directory.file("grey.png")])
        #expect(derived.status == 2)
        #expect(derived.stderr.contains("was recorded with another poster or link card"), "\(derived.stderr)")
        let listing = try await setup.run([
            "ledger", "list", "--config", setup.configPath, "--notice", "poster-note", "--format", "json",
        ])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(listing.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == 2)
        #expect(rows.first?["poster_sha256"] as? String == TestPosters.poster().sha256)
        #expect(rows.first?["poster_format"] as? String == "png")
        #expect(rows.first?["poster_size"] as? Int == TestPosters.red.count)
        #expect(rows.first?["link_title"] as? String == "卡片标题")
        #expect(rows.first?["note"] is NSNull)
        let csv = try await setup.run(["ledger", "list", "--config", setup.configPath, "--format", "csv"])
        #expect(csv.stdout.contains(",note,poster_sha256,poster_format,poster_size,image_url,link_url,"))
        let table = try await setup.run(["ledger", "list", "--config", setup.configPath])
        #expect(table.stdout.contains("POSTER_SHA256") && table.stdout.contains("LINK_URL"), "\(table.stdout)")
        try await setup.close()
    }

    // MARK: - POST /v1/notices

    static func body(
        id: String = "api-poster", image: [UInt8]? = TestPosters.red, type: String = "image/png",
        extra: String = ", \"link\": {\"url\": \"https://mp.example.org/s/abc\", \"title\": \"警惕养老诈骗\"}"
    ) -> String {
        let image = image.map {
            ", \"image\": {\"content_type\": \"\(type)\", \"data\": \"\(Data($0).base64EncodedString())\"}"
        }
        return "{\"id\": \"\(id)\", \"text\": \"不转账\", \"to\": \"all\"\(image ?? "")\(extra)}"
    }

    @Test func theAPIRecordsAPosterAndCardShowsThemAndServesTheImage() async throws {
        try await APIHarness.run { api in
            let created = try await api.post(Self.body())
            #expect(created.status == 202, "\(String(decoding: created.body, as: UTF8.self))")
            #expect(try await api.post(Self.body()).status == 200)
            let other = try await api.post(Self.body(image: TestPosters.grey))
            #expect(other.status == 409)
            let status = try await api.call("GET", "/v1/notices/api-poster")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(status.body)) as? [String: Any])
            let poster = try #require(object["poster"] as? [String: Any])
            #expect(poster["sha256"] as? String == TestPosters.poster().sha256)
            #expect(poster["format"] as? String == "png")
            #expect(poster["size"] as? Int == TestPosters.red.count)
            #expect((object["link"] as? [String: Any])?["title"] as? String == "警惕养老诈骗")
            let deliveries = try #require(object["deliveries"] as? [[String: Any]])
            #expect(deliveries.allSatisfy { $0.keys.contains("note") })
            let image = try await api.call("GET", "/v1/notices/api-poster/poster")
            #expect(image.status == 200)
            #expect(image.header("Content-Type") == "image/png")
            #expect(image.body == TestPosters.red)
            #expect(try await api.call("GET", "/v1/notices/api-poster/poster", token: nil).status == 401)
            _ = try await api.post("{\"id\": \"plain\", \"text\": \"不转账\", \"to\": \"all\"}")
            #expect(try await api.call("GET", "/v1/notices/plain/poster").status == 404)
        }
    }

    @Test func theAPITakesAPosterLargerThanOtherBodies() async throws {
        // About 1.5 MB of image: far over the 64 KiB other requests may have, within the 2 MB a poster may.
        let large = TestPosters.red + [UInt8](repeating: 0, count: 1_500_000)
        try await APIHarness.run { api in
            let created = try await api.post(Self.body(image: large, extra: ""))
            #expect(created.status == 202, "\(String(decoding: created.body, as: UTF8.self))")
            #expect(try await api.store.notice(id: "api-poster")?.notice.poster?.bytes == large)
            let tooLarge = TestPosters.red + [UInt8](repeating: 0, count: Notice.maxPosterBytes)
            let refused = try await api.post(Self.body(id: "big", image: tooLarge, extra: ""))
            #expect(refused.status == 422)
            #expect(try error(refused).field == "image.data")
            // A body over the limit of this route (room for the largest poster in base64) is not read at all.
            let over = "{\"text\": \"" + String(repeating: "a", count: 3 * 1024 * 1024 + 1) + "\", \"to\": \"all\"}"
            let unread = try await api.post(over)
            #expect(unread.status == 413)
            #expect(try error(unread).error.contains("3072 KiB"))
            // Besides its poster, a body is held to the 64 KiB of every other route, with or without a poster.
            let text = String(repeating: "骗", count: 30_000)
            for body in [
                "{\"text\": \"\(text)\", \"to\": \"all\"}",
                Self.body(id: "long", extra: "").replacingOccurrences(of: "不转账", with: text),
            ] {
                let refused = try await api.post(body)
                #expect(refused.status == 413)
                #expect(try error(refused).error.contains("64 KiB besides its poster"))
            }
        }
    }

    struct ErrorBody: Decodable {
        var error: String
        var field: String?
    }

    func error(_ response: HTTPResponse) throws -> ErrorBody {
        try JSONDecoder().decode(ErrorBody.self, from: Data(response.body))
    }

    @Test func theAPIRefusesABadPosterOrCardNamingTheField() async throws {
        let cases: [(String, Int, String)] = [
            (Self.body(type: "image/gif"), 422, "image.content_type"),
            (Self.body(type: "image/jpeg"), 422, "image.content_type"),
            (Self.body(image: Array("GIF89a".utf8)), 422, "image.data"),
            (#"{"text": "t", "to": "all", "image": {"content_type": "image/png", "data": "***"}}"#, 422, "image.data"),
            (#"{"text": "t", "to": "all", "image": {"content_type": "image/png"}}"#, 422, "image.data"),
            (#"{"text": "t", "to": "all", "image": {"data": "AA=="}}"#, 422, "image.content_type"),
            (#"{"text": "t", "to": "all", "image": {"content_type": "image/png", "data": 1}}"#, 400, "image.data"),
            (#"{"text": "t", "to": "all", "image": "AA=="}"#, 400, "image"),
            (#"{"text": "t", "to": "all", "image": {"content_type": "image/png", "url": "x"}}"#, 422, "image.url"),
            (#"{"text": "t", "to": "all", "image_url": "https://example.org/a.png"}"#, 422, "image_url"),
            (Self.body(extra: #", "image_url": "http://example.org/a.png""#), 422, "image_url"),
            (Self.body(extra: #", "link": {"title": "t"}"#), 422, "link.url"),
            (Self.body(extra: #", "link": {"url": "https://a.example"}"#), 422, "link.title"),
            (Self.body(extra: #", "link": {"url": "javascript:alert(1)", "title": "t"}"#), 422, "link.url"),
            (
                Self.body(extra: #", "link": {"url": "https://a.example", "title": "t", "picurl": "x"}"#), 422,
                "link.picurl"
            ),
            (Self.body(extra: #", "link": {"url": "https://a.example", "title": "t", "pic": "x"}"#), 422, "link.pic"),
            (Self.body(extra: #", "link": ["https://a.example"]"#), 400, "link"),
        ]
        try await APIHarness.run { api in
            for (body, status, field) in cases {
                let response = try await api.post(body)
                #expect(response.status == status, "\(field): \(String(decoding: response.body, as: UTF8.self))")
                #expect(try error(response).field == field, "\(body.prefix(120))")
            }
            #expect(try await api.store.notice(id: "api-poster") == nil)
        }
    }
}
