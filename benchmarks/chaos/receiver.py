#!/usr/bin/env python3
"""Chaos receiver: a loopback Standard Webhooks endpoint (gridcast's `generic` sink) with seeded faults.

Every request to POST /hooks/<group> is appended to the log as one JSON line -- and the line is flushed and
fsynced (group commit) -- BEFORE the receiver answers, drops or hangs. So the log is a lower bound of what the
receiver has seen and an exact record of what it ACCEPTED: no 2xx ever leaves without its line on disk.

Faults are decided per request from sha256(seed, webhook-id, n), n = how many times this webhook-id was seen
before, so a fault does not depend on thread scheduling or arrival order: one seed gives a webhook-id's n-th
request the same fate in every run (gridcast derives delivery ids from notice and group):

    429   answer 429 + Retry-After: 1           (refused: gridcast retries without spending an attempt)
    503   answer 503                            (refused: gridcast retries after its backoff)
    drop  read the whole request, then close the connection without answering (RST or FIN, alternating by
          hash bit): the receiver may have processed it, the client cannot know -> outcome unknown
    hang  read the whole request, then answer nothing for --hang seconds (longer than dispatch.timeout), then
          close: the client times out -> outcome unknown
    ok    answer 200

Log line fields: seq, t (unix time), group, notice, wid (webhook-id), n, fault, status (HTTP status sent, or
null for drop/hang), path (the group named by the URL path), ok (body consistent: JSON, id == webhook-id,
group_id == path group).

An answer that leaves --late seconds (default 1, half the chaos timeout) or more after the request was read
(the group commit's fsync stalled, the host was busy) is followed by an extra line {"event": "late", wid, group,
notice, n, status, latency}: the client may have timed out on it, so for the client it may have been a hang.

GET /_chaos/stats answers counters as JSON (used by the killer to time its kills); GET /_chaos/healthz -> ok.
"""

import argparse
import hashlib
import json
import os
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Journal:
    """Append-only JSON-lines log with group commit: append() returns once the line is fsynced."""

    def __init__(self, path):
        self.file = open(path, "ab", buffering=0)
        self.cond = threading.Condition()
        self.pending = []
        self.next_seq = 0
        self.durable = -1
        self.closed = False
        self.writer = threading.Thread(target=self._run, name="journal", daemon=True)
        self.writer.start()

    def append(self, record):
        with self.cond:
            seq = self.next_seq
            self.next_seq += 1
            record["seq"] = seq
            self.pending.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
            self.cond.notify_all()
            while self.durable < seq:
                self.cond.wait()
        return seq

    def _run(self):
        while True:
            with self.cond:
                while not self.pending and not self.closed:
                    self.cond.wait()
                if not self.pending and self.closed:
                    return
                batch, self.pending = self.pending, []
                last = self.next_seq - 1
            self.file.write(b"".join(batch))
            os.fsync(self.file.fileno())
            with self.cond:
                self.durable = last
                self.cond.notify_all()


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.seen = {}  # webhook-id -> times seen
        self.counts = {"received": 0, "ok": 0, "429": 0, "503": 0, "drop": 0, "hang": 0, "bad": 0, "late": 0}
        self.inflight = 0
        self.max_inflight = 0

    def snapshot(self):
        with self.lock:
            return dict(self.counts, inflight=self.inflight, max_inflight=self.max_inflight,
                        distinct=len(self.seen))


def decide(seed, wid, n, rates):
    digest = hashlib.sha256(f"{seed}:{wid}:{n}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    edge = 0.0
    for fault, rate in rates:
        edge += rate
        if u < edge:
            return fault, digest[8] & 1
    return "ok", digest[8] & 1


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "chaos-receiver"

    def log_message(self, *args):  # quiet
        pass

    def _answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def do_GET(self):
        srv = self.server
        if self.path == "/_chaos/healthz":
            return self._answer(200, b"ok")
        if self.path == "/_chaos/stats":
            return self._answer(200, json.dumps(srv.stats.snapshot()).encode())
        return self._answer(404, b'{"error":"not found"}')

    def do_POST(self):
        srv = self.server
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if not self.path.startswith("/hooks/"):
            return self._answer(404, b'{"error":"no such webhook"}')
        path_group = self.path[len("/hooks/"):].split("?")[0]
        wid = self.headers.get("webhook-id") or ""
        try:
            payload = json.loads(body)
            group, notice, body_id = payload.get("group_id"), payload.get("notice_id"), payload.get("id")
        except Exception:
            payload, group, notice, body_id = None, None, None, None
        read_at = time.monotonic()
        consistent = bool(payload) and body_id == wid and group == path_group and bool(wid)
        stats = srv.stats
        with stats.lock:
            n = stats.seen.get(wid, 0)
            stats.seen[wid] = n + 1
            stats.inflight += 1
            stats.max_inflight = max(stats.max_inflight, stats.inflight)
        try:
            fault, bit = decide(srv.seed, wid, n, srv.rates) if consistent else ("bad", 0)
            status = {"ok": 200, "429": 429, "503": 503, "bad": 400}.get(fault)
            srv.journal.append({
                "t": round(time.time(), 6), "group": group, "notice": notice, "wid": wid, "n": n,
                "fault": fault, "status": status, "path": path_group, "ok": consistent,
                **({"close": "rst" if bit else "fin"} if fault == "drop" else {}),
            })
            with stats.lock:
                stats.counts["received"] += 1
                stats.counts[fault] += 1
            if fault == "ok":
                self._answer(200, b'{"ok":true}')
            elif fault == "429":
                self._answer(429, b'{"error":"too many requests"}', [("Retry-After", "1")])
            elif fault == "503":
                self._answer(503, b'{"error":"unavailable"}')
            elif fault == "bad":
                self._answer(400, b'{"error":"inconsistent webhook-id, id, group_id or path"}')
            elif fault == "drop":
                self.close_connection = True
                if bit:  # reset: linger 0 and close at once, no FIN first
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                else:  # orderly close: FIN without a byte of answer
                    self.connection.shutdown(socket.SHUT_RDWR)
            elif fault == "hang":
                time.sleep(srv.hang)
                self.close_connection = True
            latency = time.monotonic() - read_at
            if fault in ("ok", "429", "503") and latency >= srv.late:
                # Answered, but so late (a stalled fsync, a starved thread) that the client may have timed out:
                # for the client this request was a hang. Recorded after the answer, for the checker.
                srv.journal.append({"event": "late", "t": round(time.time(), 6), "group": group, "notice": notice,
                                    "wid": wid, "n": n, "status": status, "latency": round(latency, 3)})
                with stats.lock:
                    stats.counts["late"] += 1
        finally:
            with stats.lock:
                stats.inflight -= 1


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT (port 0: pick one)")
    ap.add_argument("--log", required=True, help="the reception log (JSON lines, appended)")
    ap.add_argument("--port-file", help="write the bound port here once listening")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rate-429", type=float, default=0.01)
    ap.add_argument("--rate-503", type=float, default=0.01)
    ap.add_argument("--rate-drop", type=float, default=0.005)
    ap.add_argument("--rate-hang", type=float, default=0.005)
    ap.add_argument("--hang", type=float, default=5.0, help="seconds a hung request is held (> dispatch.timeout)")
    ap.add_argument("--late", type=float, default=1.0,
                    help="log a 'late' event for an answer that took this long after the request was read")
    args = ap.parse_args()
    host, port = args.listen.rsplit(":", 1)
    server = Server((host, int(port)), Handler)
    server.seed = args.seed
    server.rates = [("429", args.rate_429), ("503", args.rate_503), ("drop", args.rate_drop),
                    ("hang", args.rate_hang)]
    server.hang = args.hang
    server.late = args.late
    server.stats = Stats()
    server.journal = Journal(args.log)
    bound = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{bound}\n")
        os.replace(tmp, args.port_file)
    print(f"chaos receiver on {host}:{bound} seed={args.seed} log={args.log}", file=sys.stderr, flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
