/// Who is logged in to the audit page: the admin (the API token) or a viewer (the read-only viewer token).
enum AuditRole: String, Sendable, Equatable {
    /// Sees the page and may retry and resolve deliveries.
    case admin
    /// Sees the page and its downloads; changes nothing.
    case viewer

    /// The name the ledger records as who acted (only the admin acts).
    var actor: String { "page:\(rawValue)" }
}
