import Emulator
import Foundation
import GridcastCore
import GridcastTesting
import Ledger
import Testing

/// The operator's day end to end through the real binary, as the README describes it: 20 groups (15 WeCom from a
/// CSV, 3 signed DingTalk robots, 2 signed Feishu bots) with their keys in the environment, a library notice sent
/// by id, the dead group retried, five in_doubt deliveries settled at once, and the day's report as CSV for Excel —
/// the read-only and ledger commands run without the keys.
@Suite("An operator's day through the real binary")
struct OperatorWalkthroughTests {
    static let wecomIDs = (1...15).map { String(format: "w%02d", $0) }

    static func groups(port: Int) -> [Group] {
        let wecom = wecomIDs.map { id in
            Group(
                id: id, name: "凌水社区\(id)网格群", sink: "wecom",
                url: "http://127.0.0.1:\(port)/cgi-bin/webhook/send?key=key-\(id)-0123456789", tags: ["lingshui"])
        }
        let dingtalk = (1...3).map { index in
            Group(
                id: "d\(index)", name: "星海商户群\(index)", sink: "dingtalk",
                url: "http://127.0.0.1:\(port)/robot/send?access_token=dt-token-\(index)-0123456789abcdef",
                secret: "SEC" + String(repeating: "\(index)", count: 64), tags: ["xinghai"])
        }
        let feishu = (1...2).map { index in
            Group(
                id: "f\(index)", name: "星海家长群\(index)", sink: "feishu",
                url: "http://127.0.0.1:\(port)/open-apis/bot/v2/hook/fs-hook-\(index)-0123456789",
                secret: "fs-secret-\(index)-0123456789", tags: ["xinghai"])
        }
        return wecom + dingtalk + feishu
    }

    /// The environment the keys come from, as a systemd EnvironmentFile would give them.
    static func secrets(_ groups: [Group]) -> [String: String] {
        var environment: [String: String] = [:]
        for group in groups where group.sink != "wecom" {
            let name = group.id.uppercased()
            environment["URL_\(name)"] = group.url
            environment["SECRET_\(name)"] = group.secret
        }
        for group in groups where group.sink == "wecom" {
            environment["KEY_\(group.id.uppercased())"] = String(group.url.split(separator: "=").last!)
        }
        return environment
    }

    func write(_ groups: [Group], port: Int, in directory: TemporaryDirectory) throws -> String {
        var csv = "id,name,sink,url,tags\n"
        for group in groups where group.sink == "wecom" {
            csv +=
                "\(group.id),\(group.name),wecom,"
                + "http://127.0.0.1:\(port)/cgi-bin/webhook/send?key=${KEY_\(group.id.uppercased())},lingshui\n"
        }
        _ = try directory.write("groups.csv", csv)
        var yaml = """
            timezone: Asia/Shanghai
            ledger:
              path: gridcast.sqlite
            dispatch:
              timeout: 5s
              attempts: 2
              backoff: 20ms
              rate_limit_pause: 50ms
              in_doubt: hold
            groups_file: groups.csv
            notices:
              dir: notices
            groups:

            """
        for group in groups where group.sink != "wecom" {
            let name = group.id.uppercased()
            yaml += """
                  - id: \(group.id)
                    name: \(group.name)
                    sink: \(group.sink)
                    url: ${URL_\(name)}
                    secret: ${SECRET_\(name)}
                    tags: [xinghai]

                """
        }
        try FileManager.default.createDirectory(atPath: directory.file("notices"), withIntermediateDirectories: true)
        _ = try directory.write(
            "notices/001-five-donts.md",
            "---\nid: five-donts\ntitle: 反诈“五不”\n---\n**不**轻信陌生来电，**不**点击陌生链接，**不**向陌生账户转账。\n")
        return try directory.write("gridcast.yaml", yaml)
    }

    @Test func twentyGroupsADeadOneRetriedFiveInDoubtSettledAndAReportForExcel() async throws {
        let directory = try TemporaryDirectory("walkthrough")
        defer { directory.remove() }
        // w01's robot was removed (93000, dead); w02…w06 lose the connection after the request went out (in_doubt).
        var faults: [String: [FaultPlan.Fault]] = ["w01": [.permanent]]
        for id in Self.wecomIDs[1...5] { faults[id] = [.reset] }
        let server = try await EmulatorServer.start(
            groups: Self.groups(port: 0), faults: FaultPlan(faults: faults), enforceRateLimits: false)
        let groups = Self.groups(port: server.port)
        let config = try write(groups, port: server.port, in: directory)
        let secrets = Self.secrets(groups)
        func run(_ arguments: [String], keys: Bool) async throws -> GridcastProcess.Result {
            try await GridcastProcess.run(
                arguments, environment: (keys ? secrets : [:]).merging(["GRIDCAST_LOG_LEVEL": "warning"]) { $1 })
        }

        let check = try await run(["check", "--config", config], keys: true)
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.hasPrefix("ok: 20 groups (dingtalk 3, feishu 2, wecom 15)"), "\(check.stdout)")

        let send = try await run(["send", "--config", config, "--notice", "five-donts", "--to", "all"], keys: true)
        #expect(send.status == 1)
        #expect(send.stdout.contains("14 of 20 groups sent, 1 dead, 5 in_doubt"), "\(send.stdout)")
        #expect(send.stdout.contains("gridcast ledger retry --notice five-donts"), "\(send.stdout)")

        // Without the keys: the operator's ledger commands and the report.
        let retry = try await run(
            ["ledger", "retry", "--config", config, "--notice", "five-donts", "--state", "dead", "--note", "机器人已重新添加"],
            keys: false)
        #expect(retry.status == 0, "\(retry.stderr)")
        let resolve = try await run(
            [
                "ledger", "resolve", "--config", config, "--notice", "five-donts", "--all-in-doubt", "--as", "sent",
                "--note", "群里看到了",
            ], keys: false)
        #expect(resolve.status == 0, "\(resolve.stderr)")
        #expect(resolve.stdout.contains("5"), "\(resolve.stdout)")
        let again = try await run(["send", "--config", config, "--notice", "five-donts", "--to", "all"], keys: true)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")

        let store = try SQLiteLedgerStore(path: directory.file("gridcast.sqlite"))
        let rows = try await store.deliveries(noticeID: "five-donts")
        #expect(rows.count == 20 && rows.allSatisfy { $0.state == .sent }, "\(rows.map(\.state))")
        let received = try await server.received()
        let perGroup = Dictionary(received.map { ($0.group, 1) }, uniquingKeysWith: +)
        #expect(perGroup.values.allSatisfy { $0 == 1 }, "no group got the notice twice: \(perGroup)")
        #expect(received.allSatisfy { !$0.text.contains("**") }, "text groups get no raw markdown")

        // The report as Excel opens it: the bytes behind a UTF-8 BOM, the group names in Chinese.
        let report = try GridcastProcess.start(["report", "daily", "--config", config, "--format", "csv"])
        #expect(await report.exitStatus() == 0)
        let bytes = [UInt8](FileManager.default.contents(atPath: report.stdoutPath) ?? Data())
        _ = try await report.wait()
        #expect(Array(bytes.prefix(3)) == [0xEF, 0xBB, 0xBF], "a UTF-8 BOM for Excel")
        let csv = String(decoding: bytes.dropFirst(3), as: UTF8.self)
        #expect(csv.contains("凌水社区w01网格群") && csv.contains("星海家长群2"), "\(csv)")
        let verify = try await run(["ledger", "verify", "--config", config], keys: false)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory.file("gridcast.sqlite-journal")))
        try await server.stop()
    }
}
