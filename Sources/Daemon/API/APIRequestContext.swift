import Hummingbird

/// The request context of the API: Hummingbird's core storage with the API's 64 KiB body limit.
struct APIRequestContext: RequestContext {
    /// Hummingbird's per-request storage (logger, route parameters, endpoint path).
    var coreContext: CoreRequestContextStorage

    /// Creates a context for one request.
    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }

    /// Bodies over this size are refused with 413.
    var maxUploadSize: Int { APISettings.maxBodySize }
}
