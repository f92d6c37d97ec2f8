import ArgumentParser
import Emulator
import Foundation
import GridcastCore
import Sinks

/// `gridcast emulate`: the platforms' webhook endpoints on a local port.
struct EmulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emulate",
        abstract: "Run a local emulator of the chat platforms' webhook endpoints at their real paths.",
        discussion: """
            With --config, requests for bots not in the config are refused as the platform would, and signatures
            are verified with the config's secrets. Accepted messages are printed as the group would see them and
            listed as JSON at GET /_emulator/messages; posters received are listed at GET /_emulator/posters (sha256
            and size; /_emulator/posters/SHA256 gives one's bytes in Base64).

            WeCom's customer-group mass messaging (gettoken, externalcontact/groupchat/list|get, media/upload,
            add_msg_template, get_groupmsg_task|send_result|list_v2, remind_ and cancel_groupmsg_send) is played for
            the config's wecom_apps and its wecom-customer-group groups (any corp without --config). The member and
            the platform are played by POST /_emulator/wecom/confirm?owner=USERID[&msgid=M],
            /_emulator/wecom/leave?chat_id=C, /_emulator/wecom/sent-by-hand?chat_id=C (counts against the quota),
            /_emulator/wecom/expire-tokens and
            /_emulator/wecom/trusted-ip?trusted=0|1; GET /_emulator/wecom/tasks lists the tasks. Faults for an app
            are keyed by its id, or APP/CALL for one call (lost-answer: carried out, then the connection dropped).
            """
    )

    @Option(help: ArgumentHelp("Address to listen on.", valueName: "host:port")) var listen: String = "127.0.0.1:8641"
    @Option(help: "A gridcast config whose groups (and secrets) the emulator plays.") var config: String?
    @Option(help: "A YAML file of faults to inject per group.") var faults: String?
    @Flag(help: "Don't print accepted messages.") var quiet = false
    @Option(
        help: ArgumentHelp(
            "Answer every accepted message after this delay (250ms, 2s…), like a slow platform.", valueName: "duration")
    )
    var delay: String?
    @Flag(help: "Don't enforce the platforms' per-bot rate limits.") var noRateLimits = false
    @Flag(help: "Benchmark receiver: answer every request with the platform's success, checking and logging nothing.")
    var blackhole = false

    func run() async throws {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            printError("--listen: expected HOST:PORT, got '\(listen)'")
            throw ExitStatus.usage.exitCode
        }
        let host = String(listen[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        var groups: [Group] = []
        var apps: [WeComApp] = []
        // The log's times are in the config's timezone, like every time gridcast shows.
        var timeZone = TimeZone.current
        if let config {
            let loaded = try ConfigOption(config: config).load()
            groups = loaded.groups
            apps = loaded.wecomApps
            timeZone = loaded.timeZone
        }
        var plan = FaultPlan()
        if let faults {
            do {
                plan = try FaultPlan.load(path: faults)
                try plan.check(groups: groups, apps: apps)
            } catch {
                printError("\(error)")
                throw ExitStatus.usage.exitCode
            }
        }
        var responseDelay = Duration.zero
        if let delay {
            guard let parsed = DurationSyntax.parse(delay) else {
                printError("--delay: expected a duration such as 250ms or 2s, got '\(delay)'")
                throw ExitStatus.usage.exitCode
            }
            responseDelay = parsed
        }
        let printer: @Sendable (String) -> Void = { line in printLine(line) }
        let log = quiet ? nil : printer
        let server = try await EmulatorServer.start(
            host: host, port: port, groups: groups, wecomApps: apps, faults: plan, enforceRateLimits: !noRateLimits,
            responseDelay: responseDelay, blackhole: blackhole, timeZone: timeZone, log: log
        )
        printLine(
            "gridcast emulator listening on http://\(host):\(server.port) (\(groups.isEmpty ? "any bot" : "\(groups.count) groups from \(config ?? "")"))"
        )
        while true {
            try await Task.sleep(for: .seconds(3600))
        }
    }
}

extension ConfigOption {
    init(config: String) {
        self.init()
        self.config = config
    }
}

/// Writes a line to standard output unbuffered, so a log follower sees it at once.
func printLine(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
