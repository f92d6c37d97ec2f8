#!/usr/bin/env python3
"""How soon an alert posted to one of two idle `gridcast serve` instances on one PostgreSQL ledger reaches its group.

Usage: benchmarks/wakeup/measure.py GRIDCAST_BIN POSTGRES_URL WORK_DIR
(POSTGRES_URL names an empty database.) Starts the emulator and two instances, posts ten urgent notices, each to
one group of its own, alternately to each instance, and prints the time from the POST to the emulator's receipt
and how many each instance sent (either may: the poster wakes in process, the other through LISTEN/NOTIFY).
"""
import json, os, subprocess, sys, time, urllib.request

bin_, url, d = sys.argv[1], sys.argv[2], sys.argv[3]
emu_port, api = 18731, [18741, 18742]
def get(u, data=None, token=None):
    req = urllib.request.Request(u, data=data, method="POST" if data else "GET")
    if token: req.add_header("Authorization", "Bearer " + token)
    if data: req.add_header("Content-Type", "application/json")
    return urllib.request.urlopen(req, timeout=10).read()
groups = "".join(f"""  - id: g{i}
    name: 群{i}
    sink: wecom
    url: "http://127.0.0.1:{emu_port}/cgi-bin/webhook/send?key=key-g{i}"
""" for i in range(10))
procs = []
emu = subprocess.Popen([bin_, "emulate", "--listen", f"127.0.0.1:{emu_port}", "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
procs.append(emu)
for i, p in enumerate(api):
    cfg = f"{d}/g{i}.yaml"
    open(cfg, "w").write(f"""timezone: Asia/Shanghai
ledger:
  url: {url}
api:
  listen: 127.0.0.1:{p}
  token: wake-token-0123456789abcdef
groups:
{groups}""")
    procs.append(subprocess.Popen([bin_, "serve", "--config", cfg], stdout=subprocess.DEVNULL, stderr=open(f"{d}/serve{i}.log", "w"), env=dict(os.environ, GRIDCAST_LOG_LEVEL="debug")))
for p in api:
    for _ in range(100):
        try: get(f"http://127.0.0.1:{p}/healthz"); break
        except Exception: time.sleep(0.2)
time.sleep(3)
lat = []
for n in range(10):
    target = api[n % 2]
    t0 = time.time()
    get(f"http://127.0.0.1:{target}/v1/notices", json.dumps({"id": f"w{n}", "text": f"紧急提醒{n}", "to": f"group:g{n}", "urgent": True}).encode(), "wake-token-0123456789abcdef")
    while True:
        msgs = json.loads(get(f"http://127.0.0.1:{emu_port}/_emulator/messages"))
        if len(msgs) > n: break
        time.sleep(0.002)
    lat.append((time.time() - t0) * 1000)
    time.sleep(2.5)
for p in procs: p.terminate()
for p in procs: p.wait()
lat.sort()
print("post-to-receipt ms:", ", ".join(f"{x:.0f}" for x in lat), " median %.0f max %.0f" % (lat[len(lat)//2], lat[-1]))
sent = [open(f"{d}/serve{i}.log").read().count("verdict=sent") for i in range(2)]
print("sent per instance:", sent)
