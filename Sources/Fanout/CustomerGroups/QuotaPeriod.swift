import Foundation
import GridcastCore
import Ledger

extension MassMessageQuota {
    /// The allowance in force at `now` in `zone`: since the start of the current calendar month (as many as it has
    /// days), week (from Monday 00:00) or day.
    func allowance(at now: Date, in zone: TimeZone) -> MassMessageAllowance {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        calendar.firstWeekday = 2
        let since: Date
        let limit: Int
        switch self {
        case .daysOfMonth:
            since = calendar.dateInterval(of: .month, for: now)?.start ?? calendar.startOfDay(for: now)
            limit = calendar.range(of: .day, in: .month, for: now)?.count ?? 30
        case .perWeek(let count):
            since = calendar.dateInterval(of: .weekOfYear, for: now)?.start ?? calendar.startOfDay(for: now)
            limit = count
        case .perDay(let count):
            since = calendar.startOfDay(for: now)
            limit = count
        }
        return MassMessageAllowance(since: since, limit: limit, rule: description)
    }
}
