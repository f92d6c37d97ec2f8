/// Which groups a notice goes to: `all`, `group:ID`, `tag:NAME`, or several of them joined by commas (a union).
public struct Selector: Sendable, Hashable, CustomStringConvertible {
    /// One term of a selector.
    public enum Term: Sendable, Hashable {
        /// Every group.
        case all
        /// One group by id.
        case group(String)
        /// Every group with the tag.
        case tag(String)
    }

    /// The terms, in the order written.
    public var terms: [Term]

    /// Why a selector could not be used.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// What is wrong.
        public var message: String
        public var description: String { message }
    }

    /// Exactly these groups.
    public init(groupIDs: [String]) {
        terms = groupIDs.map(Term.group)
    }

    /// Parses `all`, `group:ID`, `tag:NAME`, comma-separated.
    public init(parsing text: String) throws(Failure) {
        var terms: [Term] = []
        for raw in text.split(separator: ",", omittingEmptySubsequences: false) {
            let part = String(raw).trimmingSpaces
            if part == "all" {
                terms.append(.all)
            } else if part.hasPrefix("group:"), part.count > 6 {
                terms.append(.group(String(part.dropFirst(6))))
            } else if part.hasPrefix("tag:"), part.count > 4 {
                terms.append(.tag(String(part.dropFirst(4))))
            } else {
                throw Failure(
                    message: "invalid selector term '\(part)': use all, group:ID or tag:NAME, joined by commas")
            }
        }
        guard !terms.isEmpty else { throw Failure(message: "empty selector: use all, group:ID or tag:NAME") }
        self.terms = terms
    }

    /// The groups selected, in config order, each once; unknown group ids and tags are errors.
    public func resolve(in groups: [Group]) throws(Failure) -> [Group] {
        var unknown: [String] = []
        var ids = Set<String>()
        for term in terms {
            switch term {
            case .all:
                continue
            case .group(let id):
                if groups.contains(where: { $0.id == id }) { ids.insert(id) } else { unknown.append("group '\(id)'") }
            case .tag(let tag):
                let tagged = groups.filter { $0.tags.contains(tag) }
                if tagged.isEmpty { unknown.append("tag '\(tag)'") }
                ids.formUnion(tagged.map(\.id))
            }
        }
        guard unknown.isEmpty else {
            throw Failure(message: "selector names unknown \(unknown.joined(separator: ", "))")
        }
        // Everyone, in config order, without looking each one up again.
        if terms.contains(.all) { return groups }
        return groups.filter { ids.contains($0.id) }
    }

    public var description: String {
        terms.map { term in
            switch term {
            case .all: "all"
            case .group(let id): "group:\(id)"
            case .tag(let tag): "tag:\(tag)"
            }
        }.joined(separator: ",")
    }
}
