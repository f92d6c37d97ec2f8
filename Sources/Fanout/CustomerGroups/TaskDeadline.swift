import Foundation
import GridcastCore

extension ConfirmDeadline {
    /// When a task created at `created` is cancelled if its member hasn't confirmed it: `confirm_within` after it,
    /// or the first `confirm_by` local time after it in `zone`.
    func deadline(forTaskCreatedAt created: Date, in zone: TimeZone) -> Date {
        switch self {
        case .within(let duration):
            return created.addingTimeInterval(Double(duration.components.seconds))
        case .by(let hour, let minute):
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            let next = calendar.nextDate(
                after: created, matching: DateComponents(hour: hour, minute: minute), matchingPolicy: .nextTime)
            return next ?? created.addingTimeInterval(86_400)
        }
    }
}
