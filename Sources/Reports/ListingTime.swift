import Foundation

/// A time as listings write it: `2026-11-28T08:00:00+08:00` (`Z` for UTC), whole seconds, in one zone — what
/// `ISO8601DateFormatter` writes, without its cost: a listing of a million deliveries writes three million times,
/// and the formatter was most of the time it took. The zone's offset is looked up once per quarter hour of times.
struct ListingTime {
    let timeZone: TimeZone
    /// The quarter hour (seconds since 1970 / 900) whose offset is `offset`.
    private var bucket = Int64.min
    private var offset = 0

    init(timeZone: TimeZone) {
        self.timeZone = timeZone
    }

    /// `date` in the zone.
    mutating func string(_ date: Date) -> String {
        let seconds = Int64((date.timeIntervalSince1970).rounded(.down))
        let quarter = seconds >= 0 ? seconds / 900 : (seconds - 899) / 900
        if quarter != bucket {
            bucket = quarter
            offset = timeZone.secondsFromGMT(for: date)
        }
        let local = seconds + Int64(offset)
        let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        let clock = local - days * 86_400
        let (year, month, day) = Self.civil(days: days)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(25)
        func digits(_ value: Int64, _ count: Int) {
            var divisor: Int64 = 1
            for _ in 1..<count { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                bytes.append(UInt8(48 + rest / divisor))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(year, 4)
        bytes.append(0x2D)
        digits(month, 2)
        bytes.append(0x2D)
        digits(day, 2)
        bytes.append(0x54)
        digits(clock / 3600, 2)
        bytes.append(0x3A)
        digits(clock / 60 % 60, 2)
        bytes.append(0x3A)
        digits(clock % 60, 2)
        if offset == 0 {
            bytes.append(0x5A)
        } else {
            let seconds = Int64(abs(offset))
            bytes.append(offset < 0 ? 0x2D : 0x2B)
            digits(seconds / 3600, 2)
            bytes.append(0x3A)
            digits(seconds / 60 % 60, 2)
            // Local mean time before standard zones (St. John's: -03:30:52).
            if seconds % 60 != 0 {
                bytes.append(0x3A)
                digits(seconds % 60, 2)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's `civil_from_days`).
    static func civil(days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shifted = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shifted + 2) / 5 + 1
        let month = shifted < 10 ? shifted + 3 : shifted - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
