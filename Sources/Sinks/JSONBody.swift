import Foundation

/// Reading platforms' JSON answers.
enum JSONBody {
    /// The body as a JSON object, or nil when it is not one.
    static func object(_ bytes: [UInt8]) -> [String: Any]? {
        guard !bytes.isEmpty else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
    }

    /// An integer field, whether JSON wrote it as a number or a string.
    static func int(_ object: [String: Any], _ key: String) -> Int? {
        if let number = object[key] as? NSNumber { return number.intValue }
        if let text = object[key] as? String { return Int(text) }
        return nil
    }

    /// A short, printable excerpt of a platform's error message.
    static func message(_ object: [String: Any], _ key: String) -> String {
        let text = (object[key] as? String) ?? ""
        return String(text.prefix(200))
    }
}
