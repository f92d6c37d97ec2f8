import Emulator
import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Testing
import Transport

/// What the transport refuses to do, proved against real loopback servers and the real binary.
///
/// Already covered in `GridcastTests/TransportTests.swift` and not repeated here: ftp, file, gopher, dict, scp,
/// telnet and ldap refused by the transport, a 302 from the same server not followed, the emulator's 100 KiB body
/// capped, https:// to a plain HTTP server failing as not sent. `GridcastTests/CLITests.swift` checks one `http://example.com` config error.
@Suite("Transport safety: https, TLS verification, no redirects, body cap, schemes", .serialized)
struct TransportSafetyTests {
    static let body = Array(#"{"msgtype":"text","text":{"content":"反诈提醒"}}"#.utf8)
    static let key = "transportsafetykey0123456789"

    // MARK: - https:// required except to loopback

    /// Each URL of a config: whether `gridcast check` must accept it, and if not, its exact message.
    static let urlCases: [(url: String, problem: String?)] = [
        ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=\(key)", nil),
        ("http://127.0.0.1:8641/cgi-bin/webhook/send?key=\(key)", nil),
        ("http://127.8.9.10/cgi-bin/webhook/send?key=\(key)", nil),
        ("http://localhost:8641/cgi-bin/webhook/send?key=\(key)", nil),
        ("http://LocalHost/cgi-bin/webhook/send?key=\(key)", nil),
        ("http://[::1]:8641/cgi-bin/webhook/send?key=\(key)", nil),
        ("http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=\(key)", plainHTTP("qyapi.weixin.qq.com")),
        ("http://10.1.2.3/cgi-bin/webhook/send?key=\(key)", plainHTTP("10.1.2.3")),
        ("http://0.0.0.0:8641/cgi-bin/webhook/send?key=\(key)", plainHTTP("0.0.0.0:8641")),
        // Names that merely look like loopback, and userinfo tricks: the host libcurl would connect to decides.
        ("http://127.0.0.1.nip.io/cgi-bin/webhook/send?key=\(key)", plainHTTP("127.0.0.1.nip.io")),
        ("http://localhost.evil.example/cgi-bin/webhook/send?key=\(key)", plainHTTP("localhost.evil.example")),
        ("http://127.0.0.1@evil.example/cgi-bin/webhook/send?key=\(key)", plainHTTP("***@evil.example")),
        // No scheme but http and https, whatever the host.
        ("ftp://127.0.0.1/cgi-bin/webhook/send?key=\(key)", scheme("ftp")),
        ("gopher://127.0.0.1/cgi-bin/webhook/send?key=\(key)", scheme("gopher")),
        ("dict://127.0.0.1:11211/cgi-bin/webhook/send?key=\(key)", scheme("dict")),
        ("file://localhost/cgi-bin/webhook/send?key=\(key)", "url is not a valid absolute URL"),
        ("file:///etc/passwd", "url is not a valid absolute URL"),
        ("ws://127.0.0.1/cgi-bin/webhook/send?key=\(key)", scheme("ws")),
        ("ldap://127.0.0.1/cgi-bin/webhook/send?key=\(key)", scheme("ldap")),
    ]

    static func plainHTTP(_ hostPart: String) -> String {
        "plain http:// is allowed only to loopback addresses; use https:// for http://\(hostPart)/cgi-bin/webhook/send?key=***"
    }

    static func scheme(_ name: String) -> String {
        "url scheme '\(name)' is not allowed: use https:// (http:// only to loopback addresses)"
    }

    @Test func checkRequiresHTTPSExceptToLoopbackAndOnlyHTTPSchemesAtTheURLsLocation() async throws {
        let directory = try TemporaryDirectory("safety-https")
        defer { directory.remove() }
        var yaml = "groups:\n"
        var lineOfURL: [Int: Int] = [:]
        for (index, item) in Self.urlCases.enumerated() {
            yaml += "  - id: g\(index)\n    sink: wecom\n"
            lineOfURL[index] = yaml.split(separator: "\n", omittingEmptySubsequences: false).count
            yaml += "    url: \"\(item.url)\"\n"
        }
        let path = try directory.write("urls.yaml", yaml)
        let result = try await GridcastProcess.run(["check", "--config", path])
        #expect(result.status == 2)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        for (index, item) in Self.urlCases.enumerated() {
            let at = "\(path):\(lineOfURL[index]!):10: group g\(index): "
            let here = lines.filter { $0.hasPrefix(at) }
            if let problem = item.problem {
                #expect(here.contains(at + problem), "\(item.url): \(here)")
            } else {
                #expect(here.isEmpty, "\(item.url) must be accepted: \(here)")
            }
        }
        #expect(!result.stderr.contains(Self.key), "the key is masked in every message")

        // The same rule for a CSV groups file, at FILE:LINE.
        let csv = try directory.write(
            "groups.csv",
            """
            id,name,sink,url,secret,keyword,tags
            ok,好,wecom,http://127.0.0.1:1/cgi-bin/webhook/send?key=\(Self.key),,,
            far,远,wecom,http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=\(Self.key),,,
            odd,怪,wecom,gopher://127.0.0.1/cgi-bin/webhook/send?key=\(Self.key),,,

            """
        )
        let withCSV = try directory.write("csv.yaml", "groups_file: groups.csv\n")
        let csvResult = try await GridcastProcess.run(["check", "--config", withCSV])
        #expect(csvResult.status == 2)
        #expect(csvResult.stderr.contains("\(csv):3: group far: \(Self.plainHTTP("qyapi.weixin.qq.com"))"))
        #expect(csvResult.stderr.contains("\(csv):4: group odd: \(Self.scheme("gopher"))"))
        #expect(!csvResult.stderr.contains("\(csv):2:"))
        #expect(!csvResult.stderr.contains(Self.key))
    }

    // MARK: - TLS verification

    /// A self-signed certificate for 127.0.0.1 (its name matches: only the trust chain is wrong).
    static func selfSignedCertificate(in directory: TemporaryDirectory) async throws -> (String, String) {
        let (certificate, key) = (directory.file("cert.pem"), directory.file("key.pem"))
        try await runTool(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "2",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            ])
        return (certificate, key)
    }

    @Test func aSelfSignedServerIsNeverTalkedToAndTheDeliveryIsNotSent() async throws {
        let directory = try TemporaryDirectory("safety-tls")
        defer { directory.remove() }
        let (certificate, key) = try await Self.selfSignedCertificate(in: directory)
        let server = try await HelperServer.start(.tls(certificate: certificate, key: key))

        // The transport itself: the handshake fails on verification, classified as not sent.
        let transport = CurlTransport()
        let result = await transport.send(
            HTTPRequest(
                url: "https://127.0.0.1:\(server.port)/cgi-bin/webhook/send?key=\(Self.key)", body: Self.body,
                timeout: .seconds(5))
        )
        await transport.shutdown()
        guard case .failure(let error) = result else {
            Issue.record("a self-signed certificate must not be accepted: \(result)")
            await server.stop()
            return
        }
        #expect(error.kind == .notSent)
        #expect(error.code == 60, "CURLE_PEER_FAILED_VERIFICATION, got \(error)")

        // The real binary: every attempt fails the same way; the delivery ends dead, never sent.
        let group = Group(
            id: "tls-self-signed", name: "自签名", sink: "wecom",
            url: "https://127.0.0.1:\(server.port)/cgi-bin/webhook/send?key=\(Self.key)"
        )
        let ledger = directory.file("ledger.sqlite")
        let config = try directory.write("tls.yaml", SafetyConfig.yaml(groups: [group], ledger: ledger, attempts: 2))
        let run = try await GridcastProcess.run(
            ["send", "--config", config, "--to", "all", "--id", "tls", "--text", "不转账"])
        #expect(run.status == 1, "\(run.stdout)\(run.stderr)")
        let rows = try await SQLiteLedgerStore(path: ledger).deliveries(noticeID: "tls")
        #expect(rows.map(\.state) == [.dead])
        #expect(rows.first?.attempts == 2)
        #expect(rows.first?.lastError?.contains("not sent (curl 60") == true, "\(rows.first?.lastError ?? "")")

        // The server saw three failed handshakes and not one HTTP request.
        try await waitUntil { server.events.filter { $0.hasPrefix("handshake-failed") }.count >= 3 }
        #expect(server.requests.isEmpty, "\(server.events)")
        await server.stop()
    }

    // MARK: - Redirects

    @Test func noRedirectIsFollowedAndTheDeliveryFails() async throws {
        let directory = try TemporaryDirectory("safety-redirect")
        defer { directory.remove() }
        // The redirect target counts every request it gets.
        let target = try await EmulatorServer.start(enforceRateLimits: false)
        let statuses = [301, 302, 303, 307, 308]
        var redirectors: [Int: HelperServer] = [:]
        for status in statuses {
            redirectors[status] = try await HelperServer.start(
                .redirect(status: status, location: "http://127.0.0.1:\(target.port)/hooks/moved-\(status)"))
        }
        let groups = statuses.map { status in
            Group(
                id: "moved-\(status)", name: "跳转\(status)", sink: "generic",
                url: "http://127.0.0.1:\(redirectors[status]!.port)/hooks/moved-\(status)",
                secret: TestGroups.genericSecret, rate: .perSecond(1000)
            )
        }
        let ledger = directory.file("ledger.sqlite")
        let config = try directory.write("redirect.yaml", SafetyConfig.yaml(groups: groups, ledger: ledger))
        let run = try await GridcastProcess.run(
            ["send", "--config", config, "--to", "all", "--id", "moved", "--text", "不点击陌生链接"])
        #expect(run.status == 1, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("0 of 5 groups sent, 5 dead, 0 in_doubt"), "\(run.stdout)")

        let rows = try await SQLiteLedgerStore(path: ledger).deliveries(noticeID: "moved")
        #expect(rows.count == 5)
        for row in rows {
            #expect(row.state == .dead, "\(row.groupID)")
            #expect(row.attempts == 1, "a redirect is a permanent answer: \(row.groupID)")
        }
        for status in statuses {
            #expect(redirectors[status]!.requests.count == 1, "\(status)")
            await redirectors[status]!.stop()
        }
        #expect(try await target.requestCount() == 0, "the redirect target never hears from gridcast")
        try await target.stop()
    }

    // MARK: - Handle reuse

    @Test func aReusedHandleCarriesNothingOverFromItsLastRequest() async throws {
        // libcurl handles keep their options from one transfer to the next: each request must set its own method
        // and body, and the options every request shares (no redirects among them) must still hold.
        let echo = try await HelperServer.start(.echo)
        let redirector = try await HelperServer.start(
            .redirect(status: 302, location: "http://127.0.0.1:\(echo.port)/moved"))
        // One connection at a time, one request after another: each runs on the handle the one before used.
        let transport = CurlTransport(configuration: .init(maxConnections: 1))
        func send(_ method: String, _ body: String, to port: Int) async throws -> HTTPResponse {
            try await transport.send(
                HTTPRequest(
                    method: method, url: "http://127.0.0.1:\(port)/hook", body: Array(body.utf8),
                    timeout: .seconds(5))
            ).get()
        }
        _ = try await send("POST", "0123456789", to: echo.port)
        _ = try await send("GET", "", to: echo.port)
        _ = try await send("PUT", "abc", to: echo.port)
        _ = try await send("POST", "", to: echo.port)
        #expect(try await send("POST", "moved?", to: redirector.port).status == 302)
        _ = try await send("GET", "", to: echo.port)
        await transport.shutdown()
        try await waitUntil { echo.requests.count >= 5 }
        #expect(
            echo.requests == [
                "request POST /hook 10", "request GET /hook 0", "request PUT /hook 3", "request POST /hook 0",
                "request GET /hook 0",
            ])
        #expect(redirector.requests == ["request POST /hook"])
        await echo.stop()
        await redirector.stop()
    }

    @Test func headerFieldsAreFoundInAnyCaseAndARepeatedOneKeepsItsLastValue() async throws {
        let echo = try await HelperServer.start(.echo)
        let transport = CurlTransport()
        let response = try await transport.send(HTTPRequest(url: "http://127.0.0.1:\(echo.port)/hook")).get()
        await transport.shutdown()
        #expect(response.header("retry-after") == "7")
        #expect(response.header("RETRY-AFTER") == "7")
        #expect(response.header("X-Twice") == "2")
        #expect(response.header("x-tw") == nil)
        #expect(response.headers["x-twice"] == "2")
        #expect(response.headers["retry-after"] == "7")
        await echo.stop()
    }

    // MARK: - Response body cap

    @Test func aTenMebibyteBodyIsCutAt64KiB() async throws {
        let server = try await HelperServer.start(.body(bytes: 10 << 20))
        let transport = CurlTransport()
        let response = try await transport.send(
            HTTPRequest(url: "http://127.0.0.1:\(server.port)/cgi-bin/webhook/send?key=k", body: Self.body)
        ).get()
        await transport.shutdown()
        #expect(response.status == 200)
        #expect(response.body.count == HTTPResponse.bodyLimit)
        #expect(response.truncated)
        await server.stop()
    }

    @Test func anEndlessBodyEndsAt64KiBInsteadOfRunningIntoTheTimeout() async throws {
        let server = try await HelperServer.start(.body(bytes: nil))
        let transport = CurlTransport()
        let started = ContinuousClock.now
        let result = await transport.send(
            HTTPRequest(
                url: "http://127.0.0.1:\(server.port)/cgi-bin/webhook/send?key=k", body: Self.body,
                timeout: .seconds(20))
        )
        let elapsed = ContinuousClock.now - started
        await transport.shutdown()
        let response = try result.get()
        #expect(response.status == 200)
        #expect(response.body.count == HTTPResponse.bodyLimit)
        #expect(response.truncated)
        #expect(elapsed < .seconds(5), "the transfer stops at the cap, not at the timeout: \(elapsed)")
        // The server learns that the client hung up.
        try await waitUntil { server.events.contains { $0.hasPrefix("closed-after") } }
        await server.stop()
    }

    @Test func theDaemonsMemoryStaysFlatWhileAReceiverAnswersWith64MiB() async throws {
        let directory = try TemporaryDirectory("safety-body")
        defer { directory.remove() }
        let emulator = try await EmulatorServer.start(enforceRateLimits: false)
        let huge = try await HelperServer.start(.body(bytes: 64 << 20))
        let groups = [
            TestGroups.generic("warm", port: emulator.port),
            Group(
                id: "huge", name: "巨大", sink: "generic", url: "http://127.0.0.1:\(huge.port)/hooks/huge",
                secret: TestGroups.genericSecret, rate: .perSecond(1000)
            ),
        ]
        let apiPort = try unusedLoopbackPort()
        let token = "body-cap-token-0123456789"
        let config = try directory.write(
            "body.yaml",
            SafetyConfig.yaml(
                groups: groups, ledger: directory.file("ledger.sqlite"), timeout: "20s",
                extra: SafetyConfig.api(port: apiPort, token: token))
        )
        let daemon = try WatchedProcess.gridcast(["serve", "--config", config])
        let api = APIClient(port: apiPort, token: token)
        try await api.waitUntilServing()
        // Warm up: one ordinary delivery, so the baseline includes libcurl's and the API's first allocations.
        _ = try await api.post(#"{"id": "warm", "text": "不转账", "to": "group:warm"}"#).get()
        try await waitUntil { await api.counts(notice: "warm")["sent"] == 1 }
        let before = try #require(daemon.memoryKiB("VmHWM"))

        _ = try await api.post(#"{"id": "huge", "text": "不转账", "to": "group:huge"}"#).get()
        try await waitUntil(timeout: .seconds(30)) { await api.counts(notice: "huge")["sent"] == 1 }
        let after = try #require(daemon.memoryKiB("VmHWM"))
        #expect(after - before < 16 * 1024, "peak RSS grew by \(after - before) KiB for a 64 MiB answer")
        #expect(huge.requests.count == 1)

        await api.shutdown()
        #expect(await daemon.stop() == 0, "\(daemon.stderr)")
        daemon.discardOutput()
        await huge.stop()
        try await emulator.stop()
    }
}
