/// The walk of ``AuditActionBrowserTests``, after ``AuditBrowserScript/driver``: the login button's contrast, then as
/// the admin retry a dead delivery and resolve in_doubt ones through the confirmation step, then as the viewer look
/// at the same page. Inputs: AUDIT_BASE, AUDIT_TOKEN, AUDIT_VIEWER_TOKEN, AUDIT_DATE, AUDIT_NOTICE (whose
/// deliveries change), AUDIT_KEEP (an in_doubt group of it to resolve separately, as resend), AUDIT_CHROMIUM,
/// AUDIT_PROFILE.
enum AuditActionBrowserScript {
    /// The script's source.
    static let source = AuditBrowserScript.driver + "\n\n\n" + walk

    /// The walk.
    static let walk = #"""
        CONTRAST = """(() => {
            // WCAG 2 contrast of every text-bearing element of the login button against the button's background.
            const channel = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
            const luminance = color => {
                const [r, g, b] = color.match(/[0-9.]+/g).map(Number);
                return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
            };
            const button = document.querySelector('form#login button[type=submit]');
            const background = luminance(getComputedStyle(button).backgroundColor);
            const elements = [button, ...button.querySelectorAll('*')].filter(e => e.textContent.trim());
            return elements.map(element => {
                const foreground = luminance(getComputedStyle(element).color);
                const [light, dark] = [Math.max(foreground, background), Math.min(foreground, background)];
                return {text: element.textContent.trim(), ratio: (light + 0.05) / (dark + 0.05)};
            });
        })()"""

        PAGE = """(() => ({
            path: location.pathname + location.search,
            role: (document.getElementById('role') || {dataset: {}}).dataset.role || '',
            done: (document.getElementById('action-done') || {innerText: ''}).innerText,
            actionForms: document.querySelectorAll('form[action^="/audit/"]').length,
            checkboxes: document.querySelectorAll('input[type=checkbox]').length,
            gridNotices: [...document.querySelectorAll('#grid th.notice')].map(th => th.title),
            deadReasons: [...document.querySelectorAll('#dead-list td.reason .zh')].map(e => e.innerText),
            inDoubtReasons: [...document.querySelectorAll('#in-doubt-list td.reason .zh')].map(e => e.innerText),
            windows: [...document.querySelectorAll('#in-doubt-list tr.delivery')].map(row => ({
                group: row.dataset.group,
                name: row.children[row.children.length - 4].innerText,
                from: (row.querySelector('.window time.from') || {innerText: ''}).innerText,
                to: (row.querySelector('.window time.to') || {innerText: ''}).innerText
            }))
        }))()"""

        CONFIRMATION = """(() => ({
            path: location.pathname,
            question: (document.getElementById('confirm-question') || {innerText: ''}).innerText,
            groups: [...document.querySelectorAll('#confirm-groups tr.target')].map(row => ({
                id: row.dataset.group,
                name: row.querySelector('td.name').innerText,
                window: (row.querySelector('.window') || {innerText: ''}).innerText
            })),
            note: (document.getElementById('confirm-note') || {innerText: ''}).innerText
        }))()"""


        def choose(tab, list_id, notice, groups, resolution, note):
            """Ticks exactly `groups` among the notice's rows, picks the resolution, types the note, submits."""
            body = f"#{list_id} tbody[data-notice={json.dumps(notice)}]"
            tab.evaluate(f"""(() => {{
                const wanted = {json.dumps(groups)};
                for (const box of document.querySelectorAll({json.dumps(body + ' input[type=checkbox]')})) {{
                    box.checked = wanted.includes(box.value);
                }}
            }})()""")
            if resolution:
                tab.evaluate(f"document.querySelector({json.dumps(body + ' input[name=as][value=' + resolution + ']')})"
                             ".checked = true")
            tab.type_into(body + " form input[name=note]", note)
            tab.click(body + " form button[type=submit]")


        def walk(tab, env, report):
            base, date, notice, keep = env["AUDIT_BASE"], env["AUDIT_DATE"], env["AUDIT_NOTICE"], env["AUDIT_KEEP"]
            tab.navigate(base + "/")
            report["contrast"] = tab.evaluate(CONTRAST)
            tab.type_into("#token", env["AUDIT_TOKEN"])
            tab.click("form#login button[type=submit]")
            tab.navigate(f"{base}/?date={date}")
            report["admin"] = tab.evaluate(PAGE)

            choose(tab, "dead-list", notice, ["g0001"], None, "机器人已重新加入")
            report["retryConfirmation"] = tab.evaluate(CONFIRMATION)
            tab.click("form#confirm button[type=submit]")
            report["afterRetry"] = tab.evaluate(PAGE)

            tab.navigate(f"{base}/?date={date}")
            groups = tab.evaluate(f"""[...document.querySelectorAll(
                '#in-doubt-list tbody[data-notice={json.dumps(notice)}] input[type=checkbox]')].map(b => b.value)""")
            settle = [group for group in groups if group != keep]
            report["resolvedAsSent"] = settle
            choose(tab, "in-doubt-list", notice, settle, "sent", "已在群里看到")
            report["resolveConfirmation"] = tab.evaluate(CONFIRMATION)
            tab.click("form#confirm button[type=submit]")
            report["afterResolve"] = tab.evaluate(PAGE)

            tab.navigate(f"{base}/?date={date}")
            choose(tab, "in-doubt-list", notice, [keep], "resend", "群里没有")
            report["resendConfirmation"] = tab.evaluate(CONFIRMATION)
            tab.click("form#confirm button[type=submit]")
            report["afterResend"] = tab.evaluate(PAGE)

            tab.click("#logout")
            tab.type_into("#token", env["AUDIT_VIEWER_TOKEN"])
            tab.click("form#login button[type=submit]")
            tab.navigate(f"{base}/?date={date}")
            report["viewer"] = tab.evaluate(PAGE)


        if __name__ == "__main__":
            sys.exit(run_walk(walk))
        """#
}
