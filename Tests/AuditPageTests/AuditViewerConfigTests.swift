import Foundation
import GridcastCore
import GridcastTesting
import Sinks
import Testing

@testable import Daemon

/// `api.viewer_token` and `api.viewer_token_file`: read like the API token, kept as secret.
@Suite("Audit page viewer token in the config")
struct AuditViewerConfigTests {
    static let viewer = "viewer-token-0123456789abcdef"
    let loader = ConfigLoader(
        catalog: SinkRegistry.standard,
        environment: ["API_TOKEN": "admin-token-0123456789abcdef", "VIEWER_TOKEN": AuditViewerConfigTests.viewer])

    /// Loads a config with one group and `api` (the lines under `api:`), and `files` beside it.
    func load(api: String, files: [String: String] = [:]) throws -> Result<GridcastConfig, ConfigError> {
        let directory = try TemporaryDirectory("viewer-config")
        defer { directory.remove() }
        for (name, text) in files { try directory.write(name, text) }
        let yaml = """
            groups:
              - id: a
                sink: wecom
                url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k1
            api:
              token: ${API_TOKEN}
            \(api)
            """
        let path = try directory.write("gridcast.yaml", yaml)
        do { return .success(try loader.load(path: path)) } catch { return .failure(error) }
    }

    @Test func theViewerTokenIsExpandedOrReadFromAFile() throws {
        let expanded = try load(api: "  viewer_token: ${VIEWER_TOKEN}\n").get()
        #expect(expanded.api?.viewerToken == Self.viewer)
        #expect(expanded.secrets.contains(Self.viewer), "masked like the API token")
        let fromFile = try load(
            api: "  viewer_token_file: viewer.txt\n", files: ["viewer.txt": "file-viewer-0123456789\n"]
        ).get()
        #expect(fromFile.api?.viewerToken == "file-viewer-0123456789")
        #expect(try load(api: "").get().api?.viewerToken == nil, "no viewer token: nobody logs in read-only")
    }

    @Test func aShortOrReusedViewerTokenIsRefusedWithoutShowingIt() throws {
        for (api, message) in [
            ("  viewer_token: short-viewer\n", "api.viewer_token: needs at least 16 characters"),
            ("  viewer_token: ${API_TOKEN}\n", "api.viewer_token: must differ from api.token"),
            ("  viewer_token_file: missing.txt\n", "api.viewer_token_file: cannot read"),
            ("  viewer_tokn: x\n", "viewer_tok"),
        ] {
            guard case .failure(let error) = try load(api: api) else {
                Issue.record("accepted: \(api)")
                continue
            }
            #expect(error.description.contains(message), "\(error.description)")
            #expect(!error.description.contains("short-viewer") && !error.description.contains("admin-token-0123"))
        }
    }

    @Test func settingsNeverShowTheViewerToken() {
        let settings = APISettings(token: "admin-token-0123456789abcdef", viewerToken: Self.viewer)
        var dumped = ""
        dump(settings, to: &dumped)
        for text in [settings.description, settings.debugDescription, String(reflecting: settings), dumped] {
            #expect(!text.contains(Self.viewer) && !text.contains("admin-token"))
        }
    }
}
