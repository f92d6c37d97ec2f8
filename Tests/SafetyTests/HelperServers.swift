import Foundation
import GridcastTesting

/// Odd HTTP servers the emulator doesn't play — a TLS server with a self-signed certificate, a server that
/// redirects, a server with a huge or endless body — as one Python (stdlib only) program run as a real loopback
/// server. It prints `listening PORT` once bound, then one line per event (`request METHOD PATH`,
/// `handshake-failed REASON`, `wrote N`, `closed-after N`).
///
/// The script lives in this Swift file rather than beside it as a `.py`, because SwiftPM warns about files in a
/// target it doesn't know how to handle.
struct HelperServer: Sendable {
    /// What the server does with every request.
    enum Mode: Sendable {
        /// HTTPS with this certificate and key; answers 200 `{"ok":true}`.
        case tls(certificate: String, key: String)
        /// Answers `status` with `Location: location`.
        case redirect(status: Int, location: String)
        /// Answers 200 with a body of `bytes` bytes (Content-Length), or an endless chunked body when nil.
        case body(bytes: Int?)
        /// Answers 200 to any method with header fields in mixed case, one of them twice (`X-Twice: 1`, then
        /// `x-twice: 2`), and logs each request as `request METHOD PATH BODY-LENGTH`.
        case echo
        /// Echoes the request's credentials back in an error, as a careless receiver does: `decoded` and `encoded`
        /// answer WeCom's `errcode` 93000 with the `key` parameter percent-decoded or percent-encoded anew; `basic`
        /// answers 403 with the `Authorization` header as the body; `json` answers 404 with a JSON body holding the
        /// percent-decoded path, `/` written `\/` and non-ASCII `\uXXXX`. Logs `request METHOD PATH`.
        case echoCredentials(String)
    }

    let process: WatchedProcess
    let port: Int

    /// Starts the server on a free loopback port and waits until it listens.
    static func start(_ mode: Mode) async throws -> HelperServer {
        let script = NSTemporaryDirectory() + "gridcast-safety-server-\(UUID().uuidString.prefix(8)).py"
        try source.write(toFile: script, atomically: true, encoding: .utf8)
        var arguments = [script]
        switch mode {
        case .tls(let certificate, let key): arguments += ["tls", certificate, key]
        case .redirect(let status, let location): arguments += ["redirect", "\(status)", location]
        case .body(let bytes): arguments += ["body", bytes.map { "\($0)" } ?? "endless"]
        case .echo: arguments += ["echo"]
        case .echoCredentials(let form): arguments += ["echo-credentials", form]
        }
        let process = try WatchedProcess.program("/usr/bin/env", ["python3", "-u"] + arguments)
        var port: Int?
        try await waitUntil {
            port = process.stdout.split(separator: "\n").first { $0.hasPrefix("listening ") }
                .flatMap { Int($0.dropFirst("listening ".count)) }
            if port == nil && !process.isRunning { throw SafetyFailure("helper server died: \(process.stderr)") }
            return port != nil
        }
        try? FileManager.default.removeItem(atPath: script)
        return HelperServer(process: process, port: port!)
    }

    /// Every event line printed so far (without the `listening` line).
    var events: [String] {
        process.stdout.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("listening ") }
    }

    /// The HTTP requests the server read.
    var requests: [String] { events.filter { $0.hasPrefix("request ") } }

    /// Kills the server (SIGKILL: a child started by Foundation's `Process` inherits a mask that blocks SIGTERM).
    func stop() async {
        process.signal(SIGKILL)
        _ = await process.wait()
        process.discardOutput()
    }

    static let source = #"""
        import http.server
        import json
        import os
        import socketserver
        import ssl
        import sys
        import threading
        import time
        import urllib.parse


        def say(line):
            print(line, flush=True)


        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                self.answer()

            def do_GET(self):
                self.answer()

            def do_PUT(self):
                self.answer()

            def answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                mode = sys.argv[1]
                say(f"request {self.command} {self.path}" + (f" {length}" if mode == "echo" else ""))
                if mode == "echo":
                    body = b'{"ok":true}'
                    self.send_response(200)
                    self.send_header("Retry-After", "7")
                    self.send_header("X-Twice", "1")
                    self.send_header("x-twice", "2")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                elif mode == "echo-credentials":
                    self.echo_credentials(sys.argv[2])
                elif mode == "redirect":
                    self.send_response(int(sys.argv[2]))
                    self.send_header("Location", sys.argv[3])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif mode == "body":
                    self.huge_body(None if sys.argv[2] == "endless" else int(sys.argv[2]))
                else:
                    body = b'{"ok":true}'
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

            def echo_credentials(self, form):
                target = urllib.parse.urlsplit(self.path)
                key = ""
                for pair in target.query.split("&"):
                    if pair.startswith("key="):
                        key = pair[len("key="):]
                status = 200
                if form == "decoded":
                    body = json.dumps({"errcode": 93000, "errmsg": "invalid webhook url, decoded key=" + urllib.parse.unquote(key)})
                elif form == "encoded":
                    body = json.dumps({"errcode": 93000, "errmsg": "invalid key " + urllib.parse.quote(urllib.parse.unquote(key), safe="")})
                elif form == "basic":
                    status = 403
                    body = "invalid_auth: " + str(self.headers.get("Authorization"))
                else:
                    status = 404
                    body = json.dumps({"ok": False, "path": urllib.parse.unquote(target.path)}).replace("/", "\\/")
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def huge_body(self, size):
                chunk = b'{"errcode":0,"errmsg":"ok","padding":"' + b"x" * 65000 + b'"}\n'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                if size is None:
                    self.send_header("Transfer-Encoding", "chunked")
                else:
                    self.send_header("Content-Length", str(size))
                self.end_headers()
                written = 0
                try:
                    while size is None or written < size:
                        part = chunk if size is None else chunk[: size - written]
                        if size is None:
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                        else:
                            self.wfile.write(part)
                        written += len(part)
                    self.wfile.flush()
                    say(f"wrote {written}")
                except OSError:
                    say(f"closed-after {written}")
                self.close_connection = True


        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

            def get_request(self):
                try:
                    return super().get_request()
                except ssl.SSLError as error:
                    say(f"handshake-failed {error.reason}")
                    raise


        def exit_with_parent(parent):
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(0)


        threading.Thread(target=exit_with_parent, args=(os.getppid(),), daemon=True).start()
        server = Server(("127.0.0.1", 0), Handler)
        if sys.argv[1] == "tls":
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(sys.argv[2], sys.argv[3])
            server.socket = context.wrap_socket(server.socket, server_side=True)
        say(f"listening {server.server_address[1]}")
        server.serve_forever()
        """#
}
