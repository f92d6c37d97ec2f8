import Foundation

/// libpq's password file (`~/.pgpass`, or `PGPASSFILE`): lines of `hostname:port:database:username:password`,
/// `*` matching anything in the first four fields, `\:` and `\\` escaping, `#` starting a comment; the first
/// matching line wins.
public struct PostgresPassFile: Sendable {
    /// The file's lines, split into fields and unescaped.
    let entries: [[String]]

    /// Reads the file's text.
    public init(text: String) {
        entries = text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline).compactMap { line in
            if line.hasPrefix("#") { return nil }
            let fields = Self.fields(line)
            return fields.count == 5 ? fields : nil
        }
    }

    /// The password of the first line that matches `location`, unless it is empty.
    public func password(for location: PostgresLocation) -> String? {
        let wanted = [location.host, String(location.port), location.database, location.user]
        let entry = entries.first { entry in
            zip(entry.prefix(4), wanted).allSatisfy { field, value in field == "*" || field == value }
        }
        return entry?[4].nilIfEmpty
    }

    /// Where libpq looks: `PGPASSFILE`, else `~/.pgpass` under `HOME`; nil when neither is set.
    public static func path(environment: [String: String]) -> String? {
        if let file = environment["PGPASSFILE"]?.nilIfEmpty { return file }
        return environment["HOME"]?.nilIfEmpty.map { ($0 as NSString).appendingPathComponent(".pgpass") }
    }

    /// Whether the file's permissions let its group or others in: libpq ignores such a file.
    public static func isOpenToOthers(_ path: String) -> Bool {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let mode = attributes[.posixPermissions] as? NSNumber
        else { return false }
        return mode.intValue & 0o077 != 0
    }

    /// The four key fields, then the password up to an unescaped `:` (as libpq reads it); fewer fields when the
    /// line has fewer.
    /// What libpq's own sources give for `location`, after the URL and `password_file`.
    public enum Found: Sendable, Equatable {
        /// A password: `PGPASSWORD`'s, or the passfile's matching line.
        case password(String)
        /// Nothing: no variable, no passfile, or no line for this server and user.
        case none
        /// The passfile at this path was skipped: its group or others may read it.
        case ignored(path: String)
    }

    /// `PGPASSWORD` (when not empty), then the passfile (`PGPASSFILE` or `~/.pgpass`), as libpq looks.
    public static func lookup(for location: PostgresLocation, environment: [String: String]) -> Found {
        if let password = environment["PGPASSWORD"], !password.isEmpty { return .password(password) }
        guard let path = path(environment: environment), FileManager.default.fileExists(atPath: path) else {
            return .none
        }
        guard !isOpenToOthers(path) else { return .ignored(path: path) }
        guard let data = FileManager.default.contents(atPath: path),
            let password = PostgresPassFile(text: String(decoding: data, as: UTF8.self)).password(for: location)
        else { return .none }
        return .password(password)
    }

    static func fields(_ line: Substring) -> [String] {
        var fields: [String] = []
        var current = ""
        var escaped = false
        for character in line {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == ":" {
                fields.append(current)
                current = ""
                if fields.count == 5 { return fields }
            } else {
                current.append(character)
            }
        }
        if escaped { current.append("\\") }
        fields.append(current)
        return fields
    }
}
