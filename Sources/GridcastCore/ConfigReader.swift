import Foundation
import Scheduling
import Yams

/// The walk over one config file: typed accessors that record a diagnostic, with its place, instead of failing.
/// The groups readers are in `ConfigReader+Groups.swift`, the daemon's settings in `ConfigReader+Daemon.swift`.
struct Reader {
    let file: String
    let expansion: EnvironmentExpansion
    var diagnostics: [Diagnostic] = []
    /// The top-level `mention_all`: what a group that sets none gets.
    var defaultMentionAll: MentionAll = .never
    /// The top-level `urgent_prefix`, given to every group.
    var urgentPrefix = Group.defaultUrgentPrefix
    /// Things worth a look that don't stop the config (`check` prints them).
    var warnings: [Diagnostic] = []
    /// Credentials left unexpanded because their variables are unset and the command doesn't need them.
    var deferred: [ConfigLoader.Deferred] = []
    /// Where a credential was kept as written (unset variable): a YAML value, or a groups-file row.
    var unexpanded: Set<SourceLocation> = []

    init(file: String, expansion: EnvironmentExpansion) {
        self.file = file
        self.expansion = expansion
    }

    static func fileOrder(_ a: Diagnostic, _ b: Diagnostic) -> Bool {
        let la = a.location
        let lb = b.location
        if la?.file != lb?.file { return (la?.file ?? "") < (lb?.file ?? "") }
        if la?.line != lb?.line { return (la?.line ?? 0) < (lb?.line ?? 0) }
        return (la?.column ?? 0) < (lb?.column ?? 0)
    }

    func location(_ node: Node) -> SourceLocation {
        SourceLocation(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
    }

    mutating func error(_ location: SourceLocation?, _ message: String) {
        diagnostics.append(Diagnostic(location, message))
    }

    /// The entries of a mapping with string keys; unknown and repeated keys are reported and skipped.
    mutating func entries(_ mapping: Node.Mapping, allowed: [String], context: String) -> [(String, Node)] {
        var seen: [String: SourceLocation] = [:]
        var result: [(String, Node)] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                error(location(keyNode), "\(context): keys must be plain names")
                continue
            }
            let key = scalar.string
            if let first = seen[key] {
                error(location(keyNode), "\(context): key '\(key)' repeats the one at line \(first.line)")
                continue
            }
            seen[key] = location(keyNode)
            guard allowed.contains(key) else {
                error(location(keyNode), "\(context): unknown key '\(key)'\(KeySuggestion.hint(for: key, in: allowed))")
                continue
            }
            result.append((key, value))
        }
        return result
    }

    mutating func mapping(_ node: Node, _ key: String) -> Node.Mapping? {
        if case .mapping(let mapping) = node { return mapping }
        error(location(node), "\(key): expected a mapping of keys")
        return nil
    }

    /// A scalar value, env-expanded; nil (with a diagnostic) when it isn't a scalar or a variable is unset.
    /// `null`/empty give nil without a diagnostic when `optional`. A `credential` with an unset variable is kept
    /// as written and its place noted in ``unexpanded`` (an error too unless credentials are deferred), so the
    /// rest of its group is still checked.
    mutating func string(
        _ node: Node, _ key: String, optional: Bool = false, credential: Bool = false
    ) -> (String, SourceLocation)? {
        guard case .scalar(let scalar) = node else {
            error(location(node), "\(key): expected a single value, not a list or mapping")
            return nil
        }
        let at = location(node)
        if scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string) {
            if !optional { error(at, "\(key): a value is required") }
            return nil
        }
        switch expansion.expand(scalar.string) {
        case .success(let value):
            return (value, at)
        case .failure(.unset) where credential:
            let names = expansion.unsetNames(in: scalar.string)
            if expansion.credentials == .required {
                error(at, "\(key): " + EnvironmentExpansion.unsetMessage(names))
            } else {
                deferred.append(ConfigLoader.Deferred(location: at, field: key, variables: names))
            }
            unexpanded.insert(at)
            return (scalar.string, at)
        case .failure(.unset):
            error(at, "\(key): " + EnvironmentExpansion.unsetMessage(expansion.unsetNames(in: scalar.string)))
        case .failure(.malformed):
            error(at, "\(key): malformed ${VAR} reference (use ${NAME} with letters, digits and _)")
        }
        return nil
    }

    mutating func integer(_ node: Node, _ key: String, range: ClosedRange<Int>) -> Int? {
        guard let (text, at) = string(node, key) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            error(at, "\(key): expected a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
            return nil
        }
        return value
    }

    mutating func duration(_ node: Node, _ key: String) -> Duration? {
        guard let (text, at) = string(node, key) else { return nil }
        guard let value = DurationSyntax.parse(text), value > .zero else {
            error(at, "\(key): expected a duration such as 250ms, 15s, 5m or 1h, got '\(text)'")
            return nil
        }
        return value
    }

    mutating func bool(_ node: Node, _ key: String) -> Bool? {
        guard let (text, at) = string(node, key) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            error(at, "\(key): expected true or false, got '\(text)'")
            return nil
        }
    }

    mutating func rateLimit(_ node: Node, _ key: String) -> RateLimit? {
        guard let (text, at) = string(node, key) else { return nil }
        guard let rate = RateLimit(parsing: text) else {
            error(at, "\(key): expected a rate such as 10/min, 1/s or 5/s,100/min, got '\(text)'")
            return nil
        }
        return rate
    }

    /// The top-level `mention_all` and `urgent_prefix`, read before the groups that take them.
    mutating func groupDefault(_ key: String, _ node: Node) {
        if key == "urgent_prefix" {
            // An empty value turns the prefix off.
            if case .scalar(let scalar) = node, scalar.string.isEmpty || scalar.string == "~" || scalar.string == "null"
            {
                urgentPrefix = ""
            } else if let (text, _) = string(node, key) {
                urgentPrefix = text
            }
            return
        }
        guard let (text, at) = string(node, key) else { return }
        guard let value = MentionAll(parsing: text) else {
            error(at, "mention_all: expected false, true or urgent, got '\(text)'")
            return
        }
        defaultMentionAll = value
    }

    mutating func messageFormat(_ node: Node, _ key: String) -> MessageFormat? {
        guard let (text, at) = string(node, key) else { return nil }
        guard let format = MessageFormat(rawValue: text) else {
            error(at, "\(key): expected text or markdown, got '\(text)'")
            return nil
        }
        return format
    }
}
