/// A form POST's body (`application/x-www-form-urlencoded`): its fields in order, a name possibly repeated (one
/// `group` per ticked checkbox).
struct AuditForm: Sendable, Equatable {
    /// One decoded `name=value` pair.
    struct Field: Sendable, Equatable {
        var name: String
        var value: String
    }

    /// The fields that decoded; a malformed escape drops its field.
    var fields: [Field]

    /// Reads the form from the body bytes.
    init(body: some Collection<UInt8>) {
        let text = String(decoding: body, as: UTF8.self)
        fields = text.split(separator: "&").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = AuditLoginForm.decode(parts[0]),
                let value = parts.count == 2 ? AuditLoginForm.decode(parts[1]) : ""
            else { return nil }
            return Field(name: name, value: value)
        }
    }

    /// The first value of `name`, if the form has it.
    func value(_ name: String) -> String? {
        fields.first { $0.name == name }?.value
    }

    /// Every value of `name`, in order.
    func values(_ name: String) -> [String] {
        fields.filter { $0.name == name }.map(\.value)
    }
}
