import Foundation
import GridcastCore
import Hummingbird
import Ledger
import Reports

/// `GET /v1/reports/{daily,weekly,monthly,yearly}?date=YYYY-MM-DD`: the report of the day, its Monday–Sunday week,
/// its month or its year, as `gridcast report daily|weekly|monthly|yearly --format json` prints it.
struct ReportController: Sendable {
    let store: any LedgerStore
    let timeZone: TimeZone
    let now: @Sendable () -> Date

    /// Adds the routes to `group` (mounted at `/v1/reports`).
    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("daily") { request, context in try await report(.day, request) }
        group.get("weekly") { request, context in try await report(.week, request) }
        group.get("monthly") { request, context in try await report(.month, request) }
        group.get("yearly") { request, context in try await report(.year, request) }
    }

    /// The report of the `period` containing `date` (default: today in the config's time zone); 400 with field
    /// `date` when it is no date.
    @Sendable func report(_ period: PeriodReport.Period, _ request: Request) async throws -> Response {
        let day: LocalDay
        if let text = request.uri.queryParameters["date"] {
            guard let parsed = LocalDay(parsing: String(text), timeZone: timeZone) else {
                throw APIError.badRequest("date must be a calendar date YYYY-MM-DD", field: "date")
            }
            day = parsed
        } else {
            day = LocalDay(date: now(), timeZone: timeZone)
        }
        let report = try await PeriodReport.make(period, containing: day, store: store)
        return JSONResponse.make(json: report.rendered(as: .json).utf8)
    }
}
