import Foundation

/// The checks every way of giving a notice a poster or a link card shares: front matter, `send` flags and the API
/// (docs/rich-notices.md, "Input").
extension Notice {
    /// The largest poster accepted, in bytes: 2 MiB, WeCom's limit for an image message; a platform that allows less
    /// refuses a larger poster at planning, naming the group.
    public static let maxPosterBytes = 2 * 1024 * 1024

    /// Why `address` can't be a poster's, card's or card picture's address (an https URL with a host), or nil.
    public static func addressProblem(_ address: String) -> String? {
        guard let url = URL(string: address), url.scheme?.lowercased() == "https", let host = url.host, !host.isEmpty
        else { return "expected an https:// address" }
        return nil
    }

    /// A poster of `bytes` with its address, or why not: not a PNG or JPEG, too large, or the address not https.
    public static func makePoster(bytes: [UInt8], url: String?) -> Result<Poster, Poster.Failure> {
        guard bytes.count <= maxPosterBytes else {
            return .failure(
                Poster.Failure(
                    message: "the image is \(bytes.count) bytes; a poster may have at most \(maxPosterBytes)"))
        }
        if let url, let problem = addressProblem(url) {
            return .failure(Poster.Failure(message: "image_url: \(problem)"))
        }
        do {
            return .success(try Poster(bytes: bytes, url: url))
        } catch {
            return .failure(error)
        }
    }
}
