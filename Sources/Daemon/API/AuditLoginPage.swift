/// The login page of the audit page: one password field for the API token (admin) or the viewer token (read-only),
/// posted to `/login`.
///
/// The field is never pre-filled and nothing the visitor typed is echoed back, so the token can't end up in the
/// page; the form posts (never GETs), so it can't end up in a URL or an access log either.
enum AuditLoginPage {
    /// Why the form is shown again.
    enum Notice: Sendable, Equatable {
        /// First visit, or a visit without a valid session.
        case none
        /// The token was wrong (answered 401).
        case wrongToken
        /// The visitor just logged out.
        case loggedOut
    }

    /// The page's HTML.
    static func html(notice: Notice = .none) -> String {
        let message: String
        switch notice {
        case .none:
            message = ""
        case .wrongToken:
            message = """
                <p class="error" id="login-error" role="alert">令牌错误，请重新输入。\
                <small>Wrong token, please try again.</small></p>
                """
        case .loggedOut:
            message = """
                <p class="note" id="logged-out">已退出登录。<small>You have logged out.</small></p>
                """
        }
        return AuditHTML.document(
            title: "登录 · 反诈信息发布台帐",
            body: """
                <main class="login">
                <h1>\(AuditHTML.label("反诈信息发布台帐", "gridcast audit"))</h1>
                <form id="login" method="post" action="/login" autocomplete="off">
                <label for="token">\(AuditHTML.label("访问令牌", "Token"))</label>
                <input id="token" name="token" type="password" required autofocus>
                <button type="submit">\(AuditHTML.label("登录", "Log in"))</button>
                </form>
                \(message)
                <p><small>管理员令牌即 gridcast serve 配置中的 api.token（或 api.token_file），只读令牌即 \
                api.viewer_token（或 api.viewer_token_file）。The admin token is the api.token (or api.token_file) of \
                the daemon's config; the read-only token its api.viewer_token (or api.viewer_token_file).</small></p>
                </main>
                """
        )
    }
}
