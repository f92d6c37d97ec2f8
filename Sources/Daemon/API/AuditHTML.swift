/// The HTML building blocks of the audit page: escaping, bilingual labels and the document shell with its inline
/// style sheet (no external assets, so the page works offline and under a `default-src 'none'` policy).
enum AuditHTML {
    /// `text` with `&`, `<`, `>`, `"` and `'` replaced by character references: safe in element content and in
    /// quoted attribute values. Every string that comes from the ledger or the config goes through here.
    static func escape(_ text: some StringProtocol) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A Chinese label with its English in smaller type: `今日投递 <small>Deliveries today</small>`.
    static func label(_ chinese: String, _ english: String) -> String {
        "\(escape(chinese)) <small>\(escape(english))</small>"
    }

    /// A complete document: `<!doctype html>`, UTF-8, the style sheet, `title` and `body` (already HTML).
    static func document(title: String, body: String) -> String {
        """
        <!doctype html>
        <html lang="zh-CN">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="same-origin">
        <title>\(escape(title))</title>
        <style>\(style)</style>
        </head>
        <body>
        \(body)
        </body>
        </html>

        """
    }

    /// The one style sheet, inline (the policy allows inline styles and nothing external).
    static let style = """
        :root{--sent:#2e7d32;--dead:#c62828;--doubt:#f9a825;--retry:#1565c0;--pending:#90a4ae;--none:#eceff1;
        --ink:#1f2933;--muted:#5f6b76;--line:#d8dee4}
        *{box-sizing:border-box}
        body{margin:0;padding:24px 32px 48px;color:var(--ink);background:#f7f9fb;
        font:15px/1.5 "Noto Sans CJK SC","Noto Sans SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif}
        h1{font-size:22px;margin:0}
        h2{font-size:17px;margin:28px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}
        small{color:var(--muted);font-size:75%;font-weight:normal}
        header{display:flex;flex-wrap:wrap;gap:12px 24px;align-items:center;justify-content:space-between}
        nav{display:flex;gap:12px;align-items:center;flex-wrap:wrap}
        nav a,button.link{color:var(--retry);background:none;border:0;padding:0;font:inherit;cursor:pointer;
        text-decoration:underline}
        form.inline{display:inline}
        .summary{margin:16px 0;padding:12px 16px;background:#fff;border-left:4px solid var(--sent);font-size:17px}
        .tiles{display:flex;flex-wrap:wrap;gap:12px}
        .tile{background:#fff;border:1px solid var(--line);border-radius:6px;padding:10px 14px;min-width:120px}
        .tile data{display:block;font-size:26px;font-weight:bold}
        .tile.dead data{color:var(--dead)}.tile.doubt data{color:#b7791f}.tile.sent data{color:var(--sent)}
        .scroll{overflow-x:auto;background:#fff;border:1px solid var(--line);border-radius:6px;padding:8px}
        table{border-collapse:collapse}
        table.list{width:100%;background:#fff}
        table.list th,table.list td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;
        vertical-align:top}
        table.grid th,table.grid td{padding:0;border:1px solid #fff}
        table.grid th.group{writing-mode:vertical-rl;transform:rotate(180deg);font-size:11px;font-weight:normal;
        padding:4px 0;white-space:nowrap;max-height:140px;overflow:hidden}
        table.grid th.notice{text-align:left;font-weight:normal;font-size:13px;padding:0 8px 0 0;white-space:nowrap;
        max-width:320px;overflow:hidden;text-overflow:ellipsis}
        table.grid td{width:16px;min-width:16px;height:16px;font-size:10px;text-align:center;color:#fff}
        .s-sent{background:var(--sent)}.s-dead{background:var(--dead)}.s-in_doubt{background:var(--doubt)}
        .s-accepted{background:var(--sent);opacity:.5}
        .s-awaiting_confirmation{background:var(--pending);color:#333}.s-quota_refused,.s-not_delivered,.s-expired{
        background:var(--dead);opacity:.7}
        .s-retry{background:var(--retry)}.s-planned,.s-claimed{background:var(--pending)}.s-none{background:var(--none)}
        .legend{display:flex;flex-wrap:wrap;gap:4px 16px;margin:8px 0;font-size:13px}
        .legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
        .note{color:#8a5a00;background:#fff8e1;border:1px solid #f3d27a;border-radius:4px;padding:6px 10px;
        margin:8px 0;font-size:14px}
        .empty{color:var(--muted)}
        .downloads a{margin-right:20px}
        .login{max-width:420px;margin:10vh auto;background:#fff;border:1px solid var(--line);border-radius:8px;
        padding:24px 28px}
        .login label{display:block;margin:16px 0 6px}
        .login input{width:100%;padding:8px;font:inherit;border:1px solid var(--line);border-radius:4px}
        .login button,button.primary{padding:8px 20px;font:inherit;background:var(--retry);color:#fff;border:0;
        border-radius:4px;cursor:pointer}
        .login button{margin-top:16px}
        button small{color:inherit}
        .role{font-size:13px;padding:2px 8px;border:1px solid var(--line);border-radius:10px;background:#fff}
        table.list tr.action td{background:#f3f6f9;padding:8px}
        form.action{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center}
        form.action input[type=text]{padding:6px;font:inherit;border:1px solid var(--line);border-radius:4px;
        min-width:240px}
        table.list td.reason small{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}
        table.list td.time{white-space:nowrap;font-size:13px}
        .window time{white-space:nowrap}
        .done{color:#1b5e20;background:#e8f5e9;border:1px solid #a5d6a7;border-radius:4px;padding:8px 12px}
        .confirm{max-width:900px;margin:5vh auto;background:#fff;border:1px solid var(--line);border-radius:8px;
        padding:24px 28px}
        .confirm form{margin-top:20px;display:flex;gap:20px;align-items:center}
        .error{color:var(--dead);background:#fdecea;border-radius:4px;padding:8px 10px;margin-top:12px}
        footer{margin-top:32px;color:var(--muted);font-size:13px}
        """
}
