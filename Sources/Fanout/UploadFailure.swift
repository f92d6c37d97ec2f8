import Channels
import Sinks

/// A poster upload that failed before its message was sent, and what that means for the delivery: a network or
/// platform hiccup is retried, a refusal (bad app secret, untrusted IP, an image the platform won't take) is final.
struct UploadFailure: Error {
    /// Why the upload failed (secret-free).
    let error: AppCallError

    /// The delivery's verdict: nothing was posted, so never "outcome unknown".
    var verdict: Verdict {
        let reason = "poster upload failed: \(error)"
        return error.isTransient ? .retry(after: nil, reason: reason) : .permanent(reason: reason)
    }
}
