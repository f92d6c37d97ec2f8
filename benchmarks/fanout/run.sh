#!/usr/bin/env bash
# Fan one notice out to N groups (wecom sink) against a fast loopback receiver, and the same POSTs with
# `curl --parallel --parallel-max 64`. Prints wall time, deliveries/s and peak RSS for both, and the ratio.
#
#   benchmarks/fanout/run.sh [N]          (default 10000)
#
# The receiver is `gridcast emulate --blackhole` (release build): WeCom's success answer to every request, no checks,
# written as bytes right behind SwiftNIO's request decoder. The gridcast figure includes
# process start, config load, planning N deliveries in the SQLite ledger (WAL, synchronous=FULL) and every
# durable claim and outcome commit.
set -euo pipefail
N=${1:-10000}
PORT=${PORT:-18641}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl; }
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }
swift build -c release --product gridcast >/dev/null
bin=$(swift build -c release --show-bin-path)/gridcast
work=$(mktemp -d)
trap 'kill $emu 2>/dev/null || true; rm -rf "$work"' EXIT

python3 - "$work" "$N" "$PORT" <<'PY'
import sys
work, n, port = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(f"{work}/groups.csv", "w") as f:
    f.write("id,name,sink,url,secret,keyword,tags\n")
    for i in range(n):
        f.write(f"g{i:05d},网格群{i},wecom,http://127.0.0.1:{port}/cgi-bin/webhook/send?key=bench-{i:05d},,,bench\n")
with open(f"{work}/bench.yaml", "w") as f:
    f.write(f"ledger:\n  path: {work}/ledger.sqlite\ndispatch:\n  concurrency: 64\ngroups_file: groups.csv\n")
body = '{"msgtype":"text","text":{"content":"【反诈提醒】不回拨、不轻信、不点击、不透露、不转账。"}}'
# One block per URL, separated by `next`: without it curl accumulates every header and data line into every request.
quoted = body.replace("\\", "\\\\").replace('"', '\\"')
with open(f"{work}/curl.cfg", "w") as f:
    for i in range(n):
        if i:
            f.write("next\n")
        f.write(f'url = "http://127.0.0.1:{port}/cgi-bin/webhook/send?key=bench-{i:05d}"\n')
        f.write('header = "Content-Type: application/json"\n')
        f.write(f'data = "{quoted}"\n')
        f.write('output = "/dev/null"\n')
PY

"$bin" emulate --listen 127.0.0.1:$PORT --blackhole --quiet >/dev/null &
emu=$!
for _ in $(seq 100); do
    # Something else answering is not enough: it may hold the port (PORT=... picks another).
    kill -0 $emu 2>/dev/null || { echo "the receiver did not start: is port $PORT taken?" >&2; exit 1; }
    curl -sf --max-time 1 http://127.0.0.1:$PORT/_emulator/healthz >/dev/null && break
    sleep 0.05
done
# Warm the receiver with one untimed pass of the same POSTs, so neither timed run pays for its first connections
# and allocations (otherwise whichever runs first does).
curl --silent --no-progress-meter --parallel --parallel-max 64 --config "$work/curl.cfg"

/usr/bin/time -f "%e %M" -o "$work/gridcast.time" \
    "$bin" send --config "$work/bench.yaml" --to all --id bench-notice \
    --text "【反诈提醒】不回拨、不轻信、不点击、不透露、不转账。" >"$work/send.out"
/usr/bin/time -f "%e %M" -o "$work/curl.time" \
    curl --silent --no-progress-meter --parallel --parallel-max 64 --config "$work/curl.cfg"

received=$(curl -sf http://127.0.0.1:$PORT/_emulator/stats)
read -r g_wall g_rss <"$work/gridcast.time"
read -r c_wall c_rss <"$work/curl.time"
sent=$(tail -1 "$work/send.out")
python3 - "$N" "$g_wall" "$g_rss" "$c_wall" "$c_rss" "$sent" "$received" <<'PY'
import json, sys
n, gw, gr, cw, cr, sent = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
received = json.loads(sys.argv[7])
print(f"groups               {n}")
print(f"gridcast send        wall {gw:.2f} s   {n/gw:,.0f} deliveries/s   peak RSS {gr/1024:.1f} MiB")
print(f"curl --parallel 64   wall {cw:.2f} s   {n/cw:,.0f} requests/s     peak RSS {cr/1024:.1f} MiB")
print(f"ratio gridcast/curl  {gw/cw:.2f}x wall time")
print(f"ledger               {sent}")
print(f"receiver             {received['accepted']} accepted (warm-up {n} + gridcast {n} + curl {n} expected: {3 * n})")
PY
