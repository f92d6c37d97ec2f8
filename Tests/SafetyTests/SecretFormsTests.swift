import Foundation
import GridcastCore
import GridcastTesting
import Testing

/// A receiver that echoes a credential back in another form than the one configured — percent-decoded,
/// percent-encoded anew, as the Basic `Authorization` value libcurl made of the URL's userinfo, JSON-escaped — must
/// not get it into the ledger, the log or a report. Each case runs `gridcast send` at debug level against a real
/// echoing receiver on loopback, then searches every output and the ledger's bytes for every form of the secret.
@Suite("Secret hygiene: every form a secret can be echoed in", .serialized)
struct SecretFormsTests {
    struct Case: Sendable, CustomTestStringConvertible {
        /// The receiver's echo mode (``HelperServer/Mode/echoCredentials(_:)``).
        let form: String
        let sink: String
        /// The group's URL after `http://127.0.0.1:PORT`, or the whole URL with `PORT` in it.
        let url: String
        /// The forms the receiver's echo could leak, written out by hand (not by the code under test).
        let leaks: [String]
        var testDescription: String { form }
    }

    static let cases = [
        Case(
            form: "decoded", sink: "wecom",
            url: "http://127.0.0.1:PORT/cgi-bin/webhook/send?key=echoq%2DREALBOTKEY7731a9f2",
            leaks: ["echoq%2DREALBOTKEY7731a9f2", "echoq-REALBOTKEY7731a9f2", "REALBOTKEY7731a9f2"]
        ),
        Case(
            form: "encoded", sink: "wecom", url: "http://127.0.0.1:PORT/cgi-bin/webhook/send?key=ECHOKEY!7731*a9f2c4",
            leaks: ["ECHOKEY!7731*a9f2c4", "ECHOKEY%217731%2Aa9f2c4", "7731%2Aa9f2c4"]
        ),
        Case(
            form: "basic", sink: "slack",
            url: "http://opsuser:SECRETPASS7731echo@127.0.0.1:PORT/services/T0ECHO/B0ECHO/SLACKTOKEN7731basicxyz",
            leaks: [
                "SECRETPASS7731echo", "SLACKTOKEN7731basicxyz",
                Data("opsuser:SECRETPASS7731echo".utf8).base64EncodedString(),
            ]
        ),
        Case(
            form: "json", sink: "slack",
            url: "http://127.0.0.1:PORT/services/T0ECHO/B0ECHO/SLACKTOKEN7731%2Fecho%E4%B8%ADzz",
            leaks: [
                "SLACKTOKEN7731%2Fecho%E4%B8%ADzz", "SLACKTOKEN7731/echo中zz", #"SLACKTOKEN7731\/echo\u4e2dzz"#,
                #"SLACKTOKEN7731/echo\u4e2dzz"#,
            ]
        ),
    ]

    @Test(arguments: cases)
    func anEchoedCredentialReachesNoOutputInAnyForm(_ echo: Case) async throws {
        let receiver = try await HelperServer.start(.echoCredentials(echo.form))
        let directory = try TemporaryDirectory("safety-secret-forms")
        defer { directory.remove() }
        let ledger = directory.file("ledger.sqlite")
        let group = Group(
            id: "echo-1", name: "回显", sink: echo.sink,
            url: echo.url.replacingOccurrences(of: "PORT", with: "\(receiver.port)"), rate: .perSecond(1000)
        )
        let config = try directory.write("gridcast.yaml", SafetyConfig.yaml(groups: [group], ledger: ledger))
        var outputs: [(label: String, text: String)] = []
        func gridcast(_ arguments: [String]) async throws -> GridcastProcess.Result {
            let result = try await GridcastProcess.run(arguments, environment: ["GRIDCAST_LOG_LEVEL": "debug"])
            outputs.append((arguments.prefix(3).joined(separator: " ") + " (stdout)", result.stdout))
            outputs.append((arguments.prefix(3).joined(separator: " ") + " (stderr)", result.stderr))
            return result
        }

        let send = try await gridcast([
            "send", "--config", config, "--to", "all", "--id", "echo-\(echo.form)", "--text", "不转账，不透露验证码。",
        ])
        let requests = receiver.requests
        await receiver.stop()
        #expect(send.status == 1, "the echo is a permanent failure: \(send.stdout)\(send.stderr)")
        #expect(requests.count == 1, "\(requests)")
        let listing = try await gridcast(["ledger", "list", "--config", config, "--format", "json"])
        #expect(listing.status == 0)
        // The echo itself is kept, with the credential masked: the error still says what the receiver answered.
        #expect(listing.stdout.contains("***"), "\(listing.stdout)")
        for format in ["json", "markdown", "table"] {
            #expect(try await gridcast(["report", "daily", "--config", config, "--format", format]).status == 0)
        }
        for suffix in ["", "-wal"] {
            if let data = FileManager.default.contents(atPath: ledger + suffix) {
                outputs.append(("ledger\(suffix)", String(decoding: data, as: UTF8.self)))
            }
        }
        #expect(outputs.contains { $0.label.hasPrefix("send") && $0.text.contains("verdict=permanent") })

        for output in outputs {
            let found = echo.leaks.filter { output.text.contains($0) }
            #expect(found.isEmpty, "\(output.label) holds \(found):\n\(output.text.suffix(3000))")
        }
    }
}
