import Foundation
import Testing

@testable import Transport

/// A connection that couldn't be opened because the process had no descriptor left is "not sent" and marked so,
/// for the dispatcher to retry it without spending an attempt; other connect failures are not.
@Suite("descriptor shortage in the transport")
struct DescriptorShortageTests {
    @Test("EMFILE and ENFILE from libcurl mean out of descriptors")
    func emfileIsOutOfDescriptors() {
        #expect(CurlError.outOfDescriptors(osError: EMFILE))
        #expect(CurlError.outOfDescriptors(osError: ENFILE))
    }

    @Test("a refused connection, while sockets can be opened, is not a descriptor shortage")
    func refusedIsNot() async throws {
        #expect(!CurlError.outOfDescriptors(osError: ECONNREFUSED))
        // Through libcurl: port 9 on loopback refuses.
        let transport = CurlTransport(configuration: .init(maxConnections: 1))
        let result = await transport.send(
            HTTPRequest(method: "POST", url: "http://127.0.0.1:9/", headers: [], body: [], timeout: .seconds(5)))
        await transport.shutdown()
        guard case .failure(let error) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(error.kind == .notSent)
        #expect(!error.outOfDescriptors)
    }
}
