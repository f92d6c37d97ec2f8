import Emulator
import Foundation
import GridcastCore
import GridcastTesting
import Testing
import Transport

@Suite("Emulator log: times in the config's timezone with their offset")
struct EmulatorLogTests {
    @Test func eachLineCarriesTheDateAndTimeWithTheOffsetOfTheConfiguredZone() async throws {
        let group = Group(id: "w1", name: "网格群", sink: "wecom", url: "http://127.0.0.1:1/cgi-bin/webhook/send?key=wk1")
        let (lines, sink) = AsyncStream.makeStream(of: String.self)
        let server = try await EmulatorServer.start(
            groups: [group], enforceRateLimits: false, timeZone: TimeZone(identifier: "Asia/Shanghai")!,
            log: { sink.yield($0) })
        try await withTransport(to: server) { server, transport in
            let request = HTTPRequest(
                url: "http://127.0.0.1:\(server.port)/cgi-bin/webhook/send?key=wk1",
                headers: [HTTPHeader("Content-Type", "application/json")],
                body: Array(#"{"msgtype":"text","text":{"content":"不转账"}}"#.utf8), timeout: .seconds(5))
            let response = try await transport.send(request).get()
            #expect(response.status == 200)
            var iterator = lines.makeAsyncIterator()
            let line = await iterator.next() ?? ""
            let expected = /\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+08:00\] → 网格群 \(w1\) · wecom\n不转账\n/
            #expect(line.wholeMatch(of: expected) != nil, "\(line)")
        }
    }

    @Test func aPosterIsLoggedWithItsSizeAndDigest() async throws {
        let group = Group(id: "w1", name: "网格群", sink: "wecom", url: "http://127.0.0.1:1/cgi-bin/webhook/send?key=wk1")
        let (lines, sink) = AsyncStream.makeStream(of: String.self)
        let server = try await EmulatorServer.start(groups: [group], enforceRateLimits: false, log: { sink.yield($0) })
        let poster = RichFixtures.poster()
        try await withTransport(to: server) { server, transport in
            let body =
                #"{"msgtype":"image","image":{"base64":"\#(Data(poster.bytes).base64EncodedString())","md5":"\#(poster.md5)"}}"#
            let request = HTTPRequest(
                url: "http://127.0.0.1:\(server.port)/cgi-bin/webhook/send?key=wk1",
                headers: [HTTPHeader("Content-Type", "application/json")], body: Array(body.utf8), timeout: .seconds(5))
            let response = try await transport.send(request).get()
            #expect(response.status == 200, "\(response.bodyText)")
            var iterator = lines.makeAsyncIterator()
            let line = await iterator.next() ?? ""
            #expect(line.contains("[海报 poster \(poster.bytes.count) B sha256 \(poster.sha256.prefix(12))]"), "\(line)")
        }
    }
}
