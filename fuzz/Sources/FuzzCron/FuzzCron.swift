import Foundation
import FuzzSupport
import GridcastCore
import Scheduling

/// The one-line parsers of schedules on arbitrary text: cron expressions, quiet hours, durations, rates and
/// selectors. Each may refuse, none may crash; what cron accepts must be evaluable.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCron(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0, size <= 4096 else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let zone = TimeZone(identifier: "Asia/Shanghai")!
    // 2026-11-28 10:00 in Asia/Shanghai.
    let now = Date(timeIntervalSince1970: 1_795_831_200)
    if let cron = try? CronSchedule(parsing: text) {
        if let next = cron.next(after: now, in: zone) {
            if next <= now || !cron.matches(next, in: zone) { FuzzSupport.fail("next firing does not match: \(text)") }
        }
    }
    if let quiet = try? QuietHours(parsing: text) {
        if quiet.release(now, in: zone) < now { FuzzSupport.fail("quiet hours release in the past: \(text)") }
    }
    if let duration = DurationSyntax.parse(text) {
        if duration < .zero { FuzzSupport.fail("negative duration: \(text)") }
    }
    _ = RateLimit(parsing: text)
    _ = try? Selector(parsing: text)
    return 0
}
