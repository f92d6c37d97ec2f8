/// The browser driver of ``AuditPageBrowserTests``: a Python 3 script, standard library only, that starts headless
/// Chromium with `--remote-debugging-pipe` and speaks the DevTools protocol over that pipe (NUL-delimited JSON, so no
/// WebSocket client is needed).
///
/// It is kept in Swift, not as a `.py` file beside the tests, so SwiftPM has no unhandled file to warn about; the test
/// writes it to a temporary directory and runs it with `python3`.
enum AuditBrowserScript {
    /// The script's source: the shared driver, then the walk through the page.
    static let source = driver + "\n\n\n" + pageWalk

    /// The DevTools driver every browser script of these tests starts with: the pipe, a tab, starting Chromium.
    static let driver = #"""
        """Drives headless Chromium through the audit page over the DevTools protocol (--remote-debugging-pipe).

        Python standard library only. Reads its inputs from the environment (AUDIT_BASE, AUDIT_CHROMIUM, AUDIT_PROFILE
        and the walk's own, such as AUDIT_TOKEN and AUDIT_DATE), prints one JSON object of what it saw on stdout, and
        exits 1 with a message on stderr when the browser can't be driven.
        """

        import base64
        import json
        import os
        import select
        import subprocess
        import sys
        import time

        TIMEOUT = 30.0


        class DevTools:
            """One NUL-delimited JSON message per command or event, over the browser's pipe."""

            def __init__(self, write_fd, read_fd):
                self.write_fd = write_fd
                self.read_fd = read_fd
                self.buffer = b""
                self.events = []
                self.last_id = 0

            def _read_message(self, deadline):
                while b"\0" not in self.buffer:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise TimeoutError("no answer from chromium in time")
                    ready, _, _ = select.select([self.read_fd], [], [], remaining)
                    if ready:
                        chunk = os.read(self.read_fd, 1 << 20)
                        if not chunk:
                            raise EOFError("chromium closed the DevTools pipe")
                        self.buffer += chunk
                message, self.buffer = self.buffer.split(b"\0", 1)
                return json.loads(message)

            def call(self, method, params=None, session=None):
                self.last_id += 1
                message = {"id": self.last_id, "method": method, "params": params or {}}
                if session:
                    message["sessionId"] = session
                os.write(self.write_fd, json.dumps(message).encode() + b"\0")
                deadline = time.monotonic() + TIMEOUT
                while True:
                    answer = self._read_message(deadline)
                    if answer.get("id") == self.last_id:
                        if "error" in answer:
                            raise RuntimeError(f"{method}: {answer['error']}")
                        return answer.get("result", {})
                    self.events.append(answer)

            def clear(self, method):
                self.events = [event for event in self.events if event.get("method") != method]

            def wait_for(self, method, session):
                deadline = time.monotonic() + TIMEOUT
                while True:
                    for index, event in enumerate(self.events):
                        if event.get("method") == method and event.get("sessionId") == session:
                            return self.events.pop(index)
                    self.events.append(self._read_message(deadline))


        class Tab:
            """A page target attached in flat mode."""

            def __init__(self, devtools):
                self.devtools = devtools
                target = devtools.call("Target.createTarget", {"url": "about:blank"})["targetId"]
                attached = devtools.call("Target.attachToTarget", {"targetId": target, "flatten": True})
                self.session = attached["sessionId"]
                self.call("Page.enable")
                self.call("Emulation.setDeviceMetricsOverride",
                          {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False})

            def call(self, method, params=None):
                return self.devtools.call(method, params, self.session)

            def loads(self, action):
                """Runs action (a navigation or a click) and waits for the resulting page's load event."""
                self.devtools.clear("Page.loadEventFired")
                action()
                self.devtools.wait_for("Page.loadEventFired", self.session)

            def navigate(self, url):
                self.loads(lambda: self.call("Page.navigate", {"url": url}))

            def evaluate(self, expression):
                result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
                if "exceptionDetails" in result:
                    raise RuntimeError(f"evaluate failed: {result['exceptionDetails']}")
                return result["result"].get("value")

            def type_into(self, selector, text):
                self.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")
                self.call("Input.insertText", {"text": text})

            def click(self, selector):
                self.loads(lambda: self.evaluate(f"document.querySelector({json.dumps(selector)}).click()"))

            def login_state(self):
                return self.evaluate("""({
                    path: location.pathname,
                    form: !!document.querySelector('form#login input[name=token][type=password]'),
                    error: (document.getElementById('login-error') || {innerText: ''}).innerText,
                    tokenFieldValue: (document.getElementById('token') || {value: ''}).value
                })""")

            def screenshot(self, path):
                metrics = self.call("Page.getLayoutMetrics")
                size = metrics.get("cssContentSize") or metrics["contentSize"]
                self.call("Emulation.setDeviceMetricsOverride",
                          {"width": 1280, "height": int(size["height"]) + 1, "deviceScaleFactor": 1, "mobile": False})
                data = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})["data"]
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as file:
                    file.write(base64.b64decode(data))


        def start_browser(chromium, profile, log):
            """Starts chromium with fds 3 (commands in) and 4 (answers out) as its DevTools pipe; its stderr to log."""
            commands_read, commands_write = os.pipe()
            answers_read, answers_write = os.pipe()

            def wire_pipe():
                read_copy, write_copy = os.dup(commands_read), os.dup(answers_write)
                os.dup2(read_copy, 3)
                os.dup2(write_copy, 4)

            browser = subprocess.Popen(
                [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--remote-debugging-pipe", f"--user-data-dir={profile}", "--no-first-run",
                 "--no-default-browser-check",
                 "--disable-extensions", "--disable-background-networking", "--disable-sync", "--lang=zh-CN",
                 "--hide-scrollbars", "about:blank"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
                preexec_fn=wire_pipe, close_fds=False,
            )
            os.close(commands_read)
            os.close(answers_write)
            return browser, DevTools(commands_write, answers_read)


        def run_walk(walk):
            """Starts chromium, runs walk(tab, env, report) and prints the report as JSON; on an error, prints what
            failed with chromium's last words and returns 1 (the Swift test fails on the exit status)."""
            env = os.environ
            log_path = os.path.join(env["AUDIT_PROFILE"], "chromium.log")
            with open(log_path, "wb") as log:
                browser, devtools = start_browser(env["AUDIT_CHROMIUM"], env["AUDIT_PROFILE"], log)
            report = {}
            try:
                walk(Tab(devtools), env, report)
                devtools.call("Browser.close")
            except Exception as error:
                browser.kill()
                with open(log_path, "rb") as log:
                    stderr = log.read().decode(errors="replace")[-2000:]
                print(f"{type(error).__name__}: {error}\nchromium stderr:\n{stderr}", file=sys.stderr)
                return 1
            finally:
                try:
                    browser.wait(timeout=TIMEOUT)
                except subprocess.TimeoutExpired:
                    browser.kill()
            json.dump(report, sys.stdout, ensure_ascii=False)
            return 0
        """#

    /// Log in, read the page, take the screenshot, log out.
    static let pageWalk = #"""
        PAGE_STATE = """(() => {
            const counts = {};
            for (const element of document.querySelectorAll('data[id^="count-"]')) {
                counts[element.id.slice(6)] = Number(element.value);
            }
            const bars = [...document.querySelectorAll('svg#chart g.bar')].map(bar => ({
                date: bar.dataset.date,
                deliveries: Number(bar.dataset.deliveries),
                sent: Number(bar.dataset.sent),
                dead: Number(bar.dataset.dead),
                inDoubt: Number(bar.dataset.inDoubt),
                segments: bar.querySelectorAll('rect[class]').length,
                height: [...bar.querySelectorAll('rect[class]')].reduce((sum, rect) => sum + rect.getBBox().height, 0)
            }));
            return {
                path: location.pathname + location.search,
                title: document.title,
                counts,
                summary: (document.getElementById('summary') || {innerText: ''}).innerText,
                bars,
                chartWidth: (document.getElementById('chart') || {getBoundingClientRect: () => ({width: 0})})
                    .getBoundingClientRect().width,
                gridCells: document.querySelectorAll('#grid td').length,
                deadRows: document.querySelectorAll('#dead-list tbody tr.delivery').length,
                inDoubtRows: document.querySelectorAll('#in-doubt-list tbody tr.delivery').length,
                scripts: document.querySelectorAll('script').length,
                cookie: document.cookie,
                text: document.body.innerText
            };
        })()"""


        def walk(tab, env, report):
            base, date = env["AUDIT_BASE"], env["AUDIT_DATE"]
            tab.navigate(base + "/")
            report["anonymous"] = tab.login_state()

            tab.type_into("#token", env["AUDIT_WRONG_TOKEN"])
            tab.click("form#login button[type=submit]")
            report["wrongToken"] = tab.login_state()

            tab.type_into("#token", env["AUDIT_TOKEN"])
            tab.click("form#login button[type=submit]")
            report["afterLogin"] = tab.evaluate("({path: location.pathname, cookie: document.cookie, "
                                                "hasCounts: !!document.getElementById('count-sent')})")

            tab.navigate(f"{base}/?date={date}")
            report["page"] = tab.evaluate(PAGE_STATE)
            tab.screenshot(env["AUDIT_SCREENSHOT"])

            tab.click("#logout")
            report["afterLogout"] = tab.login_state()
            tab.navigate(base + "/")
            report["revisit"] = tab.login_state()


        if __name__ == "__main__":
            sys.exit(run_walk(walk))
        """#
}
