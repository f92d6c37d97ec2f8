import Foundation
import Testing

@testable import Reports

/// Listings write times with their own formatter: it must write what `ISO8601DateFormatter` writes, in every zone,
/// across daylight-saving changes, offsets of half and three-quarter hours, and before 1970.
@Suite("Listing times")
struct ListingTimeTests {
    @Test(arguments: [
        "Asia/Shanghai", "UTC", "America/New_York", "Europe/London", "Asia/Kolkata", "Pacific/Chatham",
        "America/St_Johns", "Australia/Lord_Howe",
    ])
    func theyReadAsISO8601DateFormatterWritesThem(zone: String) throws {
        let timeZone = try #require(TimeZone(identifier: zone))
        let reference = ISO8601DateFormatter()
        reference.timeZone = timeZone
        var time = ListingTime(timeZone: timeZone)
        var generator = SystemRandomNumberGenerator()
        var dates: [Date] = (0..<5000).map { _ in
            Date(timeIntervalSince1970: Double(Int64.random(in: -2_000_000_000...4_000_000_000, using: &generator)) / 1)
        }
        // Every quarter hour across two years that hold daylight-saving changes, with milliseconds.
        dates += stride(from: 1_711_000_000.0, to: 1_711_000_000 + 2 * 365 * 86_400, by: 899.377).map(
            Date.init(timeIntervalSince1970:))
        dates += [
            Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: -0.5),
            Date(timeIntervalSince1970: 1_795_000_000.999),
        ]
        for date in dates {
            #expect(time.string(date) == reference.string(from: date), "\(date.timeIntervalSince1970)")
        }
    }
}
