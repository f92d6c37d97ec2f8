import ArgumentParser
import Channels
import Foundation
import GridcastCore
import Transport

/// `gridcast wecom`: the WeCom customer-contact app's side of a config.
struct WeComCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wecom",
        abstract: "Look at what a WeCom app of the config can reach.",
        subcommands: [WeComGroupsCommand.self]
    )
}

/// `gridcast wecom groups`: the customer groups an app can see, as a table or as rows for `groups_file`.
struct WeComGroupsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "groups",
        abstract: "List the customer groups a wecom_apps app can see: chat id, name, owner, member count.",
        discussion: """
            Asks WeCom (externalcontact/groupchat/list, then groupchat/get for each group) with the app's secret, \
            which must be set as serve needs it. Without --owner every owner the app can see is asked for (WeCom \
            refuses that past 1,000 owners: name them with --owner). --format csv prints rows ready for \
            groups_file (id,name,sink,app,chat_id,owner), each group's id derived from its chat id. Nothing is \
            written and nothing is sent.
            """
    )

    /// How the groups are printed.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, csv
    }

    @OptionGroup var options: ConfigOption
    @Option(help: ArgumentHelp("The id of the wecom_apps entry to ask with.", valueName: "id"))
    var app: String
    @Option(
        name: .customLong("owner"),
        help: ArgumentHelp("Only the groups this member (userid) owns; repeat for more.", valueName: "userid"))
    var owners: [String] = []
    @Option(help: "table (the default) or csv (rows for groups_file).") var format: Format = .table

    func run() async throws {
        // The groups are what this command helps to write: a config with only its app will do.
        let config = try options.load(consequence: "nothing was asked of WeCom", groupsRequired: false)
        guard let app = config.wecomApp(app) else {
            let known = config.wecomApps.map(\.id)
            printError(
                "error: --app: '\(app)' is not in the config's wecom_apps"
                    + (known.isEmpty ? " (it has none)" : " (known: \(known.joined(separator: ", ")))"))
            throw ExitStatus.usage.exitCode
        }
        let transport = CurlTransport(configuration: .init(maxConnections: 4))
        let client = WeComContactClient(app: app, transport: transport)
        let groups: [GroupChatDetail]
        do {
            var details: [GroupChatDetail] = []
            for listing in try await client.allGroupChats(owners: owners) {
                details.append(try await client.groupChat(id: listing.chatID))
            }
            groups = details
        } catch {
            await transport.shutdown()
            printError("error: WeCom app \(app.id) (\(CheckCommand.host(of: app.api))): \(error)")
            throw ExitStatus.incomplete.exitCode
        }
        await transport.shutdown()
        let sorted = groups.sorted { ($0.owner, $0.name, $0.chatID) < ($1.owner, $1.name, $1.chatID) }
        switch format {
        case .table: print(Self.table(sorted), terminator: "")
        case .csv: print(Self.csv(sorted, app: app.id), terminator: "")
        }
        if format == .table {
            let owners = Set(sorted.map(\.owner)).count
            printError(
                "\(sorted.count) customer \(sorted.count == 1 ? "group" : "groups") of \(owners) "
                    + "\(owners == 1 ? "owner" : "owners") seen by app \(app.id)")
        }
    }

    /// `CHAT_ID  NAME  OWNER  MEMBERS`, columns aligned (a Chinese character is two columns wide).
    static func table(_ groups: [GroupChatDetail]) -> String {
        let rows =
            [["CHAT_ID", "NAME", "OWNER", "MEMBERS"]]
            + groups.map { [$0.chatID, $0.name, $0.owner, String($0.memberCount)] }
        let widths = (0..<4).map { column in rows.map { width($0[column]) }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - width(cell) + 2)
            }.joined() + "\n"
        }.joined()
    }

    /// Rows for `groups_file`: `id,name,sink,app,chat_id,owner`, one customer group each.
    static func csv(_ groups: [GroupChatDetail], app: String) -> String {
        let ids = groupIDs(for: groups.map(\.chatID))
        var text = "id,name,sink,app,chat_id,owner\n"
        for group in groups {
            let fields = [ids[group.chatID] ?? "", group.name, Group.customerGroupSink, app, group.chatID, group.owner]
            text += fields.map(csvField).joined(separator: ",") + "\n"
        }
        return text
    }

    /// A group id for each chat id: `cg-` and the chat id in lower case (its `wr` prefix dropped, characters a group
    /// id can't hold as `-`). Listed chat ids that differ only in case would share one: each of those gets a suffix
    /// made from its exact chat id (8 hex digits of its FNV-1a hash).
    static func groupIDs(for chatIDs: [String]) -> [String: String] {
        func base(_ chatID: String) -> String {
            let body = chatID.hasPrefix("wr") && chatID.count > 2 ? String(chatID.dropFirst(2)) : chatID
            let cleaned = String(
                body.lowercased().unicodeScalars.map { scalar -> Character in
                    let allowed = (97...122).contains(scalar.value) || (48...57).contains(scalar.value)
                    return allowed || "._-".unicodeScalars.contains(scalar) ? Character(scalar) : "-"
                })
            return "cg-" + cleaned
        }
        let bases = Dictionary(grouping: Set(chatIDs), by: base)
        var ids: [String: String] = [:]
        for (id, chats) in bases {
            for chat in chats {
                ids[chat] = chats.count == 1 ? id : id + "-" + fnv1a(chat)
            }
        }
        return ids
    }

    /// 32-bit FNV-1a of `text`'s UTF-8 bytes, as 8 hex digits: stable across runs, unlike `hashValue`.
    static func fnv1a(_ text: String) -> String {
        var hash: UInt32 = 0x811c_9dc5
        for byte in text.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 0x0100_0193
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }

    /// RFC 4180: quoted when it holds a comma, a quote or a line break, quotes doubled.
    static func csvField(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Terminal columns: CJK ideographs and full-width forms take two.
    static func width(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { sum, scalar in
            let wide =
                scalar.value >= 0x1100 && scalar.properties.isIdeographic || (0xFF00...0xFFEF).contains(scalar.value)
                || (0x3000...0x303F).contains(scalar.value)
            return sum + (wide ? 2 : 1)
        }
    }
}
