import CCurl
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// How libcurl's error numbers map onto "not sent" and "outcome unknown".
enum CurlError {
    /// Errors that happen before a connection is up and a request can be written (documentation of intent: the
    /// decision itself rests on whether request bytes were counted, which also covers these).
    static let beforeConnection: Set<UInt32> = [
        CURLE_UNSUPPORTED_PROTOCOL.rawValue,
        CURLE_URL_MALFORMAT.rawValue,
        CURLE_COULDNT_RESOLVE_PROXY.rawValue,
        CURLE_COULDNT_RESOLVE_HOST.rawValue,
        CURLE_COULDNT_CONNECT.rawValue,
        CURLE_SSL_CONNECT_ERROR.rawValue,
        CURLE_PEER_FAILED_VERIFICATION.rawValue,
        CURLE_SSL_CERTPROBLEM.rawValue,
        CURLE_SSL_CIPHER.rawValue,
        CURLE_SSL_CACERT_BADFILE.rawValue,
        CURLE_SSL_ENGINE_NOTFOUND.rawValue,
        CURLE_SSL_ENGINE_SETFAILED.rawValue,
        CURLE_SSL_ENGINE_INITFAILED.rawValue,
        CURLE_SSL_CRL_BADFILE.rawValue,
        CURLE_SSL_ISSUER_ERROR.rawValue,
        CURLE_SSL_PINNEDPUBKEYNOTMATCH.rawValue,
        CURLE_SSL_INVALIDCERTSTATUS.rawValue,
        CURLE_BAD_FUNCTION_ARGUMENT.rawValue,
    ]

    /// Classifies a failed transfer.
    ///
    /// - Parameter requestWritten: libcurl had started to send the request (request bytes counted, or the
    ///   pre-transfer point reached). Any failure past that point may have left the request with the server.
    static func classify(_ code: CURLcode, requestWritten: Bool) -> TransportError.Kind {
        // Once request bytes went out, nothing is "not sent": libcurl may have written the request on a reused
        // connection and failed only on its own silent reconnect.
        if requestWritten { return .outcomeUnknown }
        return .notSent
    }

    /// Whether a transfer that failed before its request was written failed because the process (or the system)
    /// had no file descriptor left: libcurl's `CURLINFO_OS_ERRNO` says `EMFILE`/`ENFILE`, or, as libcurl doesn't
    /// record the errno of every failed `socket()`, a socket can't be opened right now either.
    static func outOfDescriptors(osError: Int32) -> Bool {
        if osError == EMFILE || osError == ENFILE { return true }
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if probe >= 0 {
            close(probe)
            return false
        }
        return errno == EMFILE || errno == ENFILE
    }

    /// libcurl's generic text for an error number: it never contains the URL, so it is safe to log and store.
    static func text(_ code: CURLcode) -> String {
        guard let text = curl_easy_strerror(code) else { return "error \(code.rawValue)" }
        return String(cString: text)
    }
}
