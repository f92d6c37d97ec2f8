import Foundation
import GridcastCore

/// Retry delays: `dispatch.backoff` for the first retry, doubling per attempt, capped, with ±20 % jitter so that
/// many groups failing together don't retry in lockstep.
struct Backoff {
    let base: Duration
    let cap: Duration

    init(_ settings: DispatchSettings) {
        base = settings.backoff
        cap = settings.maxBackoff
    }

    /// The delay after the `attempt`-th failed attempt (1-based).
    func delay(afterAttempt attempt: Int, random: Double = Double.random(in: 0.8...1.2)) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        let seconds = min(base.seconds * pow(2, Double(exponent)), cap.seconds)
        return .milliseconds(Int64(seconds * random * 1000))
    }
}

extension Duration {
    /// The duration in (fractional) seconds.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
