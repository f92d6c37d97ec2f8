import Foundation
import GridcastTesting
import Testing
import Transport

/// A notice's recorded poster, read back from a real `gridcast serve`: through the API with the bearer token, and
/// through the audit page's session or either token (docs/rich-notices.md).
@Suite("Audit: the recorded poster of a notice, by bearer token or page session", .serialized)
struct AuditPosterTests {
    /// A valid 1×1 PNG, written as bytes.
    static let png = [UInt8](
        Data(
            base64Encoded: "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42"
                + "mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
        )!)

    @Test func thePosterIsServedAsRecordedToTheTokenAndTheSessionOnly() async throws {
        let daemon = try await AuditDaemon.start()
        do {
            let body = """
                {"id": "poster-1", "text": "不转账", "to": "all",
                 "image": {"content_type": "image/png", "data": "\(Data(Self.png).base64EncodedString())"}}
                """
            let posted = try await daemon.request("POST", "/v1/notices", bearer: AuditDaemon.token, body: body)
            #expect(posted.status == 202, "\(posted.bodyText)")
            let api = try await daemon.request("GET", "/v1/notices/poster-1/poster", bearer: AuditDaemon.token)
            #expect(api.status == 200)
            #expect(api.header("content-type") == "image/png")
            #expect(api.body == Self.png)
            let cookie = try await daemon.login(token: AuditDaemon.viewerToken)
            for answer in [
                try await daemon.request("GET", "/audit/poster/poster-1", cookie: cookie),
                try await daemon.request("GET", "/audit/poster/poster-1", bearer: AuditDaemon.viewerToken),
            ] {
                #expect(answer.status == 200)
                #expect(answer.header("content-type") == "image/png")
                #expect(answer.body == Self.png)
            }
            #expect(try await daemon.request("GET", "/audit/poster/poster-1").status == 401)
            #expect(try await daemon.request("GET", "/v1/notices/poster-1/poster", cookie: cookie).status == 401)
            #expect(try await daemon.request("GET", "/audit/poster/nothing", cookie: cookie).status == 404)
        } catch {
            try await daemon.stop()
            throw error
        }
        try await daemon.stop()
    }
}
