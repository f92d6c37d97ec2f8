#!/usr/bin/env bash
# Fan one notice out to N groups (wecom sink) against a fast loopback receiver, and the same POSTs with
# `curl --parallel --parallel-max 64`. Prints wall time, deliveries/s and peak RSS for both, and the ratio of medians.
#
#   benchmarks/fanout/run.sh [N] [ROUNDS]          (default 10000 groups, 5 rounds)
#   benchmarks/fanout/run.sh --ledger postgres [N] [ROUNDS]   (SQLite send, PostgreSQL send, one and three
#                                                  PostgreSQL serve instances; default 3 rounds: see postgres.sh)
#
# Each round times one gridcast send (fresh ledger) and then one curl pass; the figures are per round and the
# median over rounds, since a single run on a shared VM can move by a third from one minute to the next.
#
# The receiver is `gridcast emulate --blackhole` (release build): WeCom's success answer to every request, no checks,
# written as bytes right behind SwiftNIO's request decoder. The gridcast figure includes
# process start, config load, planning N deliveries in the SQLite ledger (WAL, synchronous=FULL) and every
# durable claim and outcome commit.
set -euo pipefail
if [ "${1:-}" = --ledger ]; then
    case "${2:-}" in
        sqlite) shift 2 ;;
        postgres) shift 2; exec "$(dirname "$0")/postgres.sh" "$@" ;;
        *) echo "run.sh: --ledger sqlite|postgres" >&2; exit 2 ;;
    esac
fi
N=${1:-10000}
ROUNDS=${2:-5}
PORT=${PORT:-18641}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source benchmarks/fanout/setup.sh
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl; }
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }
swift build -c release --product gridcast >/dev/null
bin=$(swift build -c release --show-bin-path)/gridcast
work=$(mktemp -d)
trap 'kill $emu 2>/dev/null || true; rm -rf "$work"' EXIT

fanout_write_config "$work" "$N" "$PORT"
python3 - "$work" "$N" "$PORT" <<'PY'
import sys
work, n, port = sys.argv[1], int(sys.argv[2]), sys.argv[3]
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

fanout_start_receiver "$bin" "$PORT"
# Warm the receiver with one untimed pass of the same POSTs, so neither timed run pays for its first connections
# and allocations (otherwise whichever runs first does).
curl --silent --no-progress-meter --parallel --parallel-max 64 --config "$work/curl.cfg"

for round in $(seq "$ROUNDS"); do
    rm -f "$work"/ledger.sqlite*
    /usr/bin/time -f "%e %M" -o "$work/gridcast.time" \
        "$bin" send --config "$work/bench.yaml" --to all --id bench-notice \
        --text "【反诈提醒】不回拨、不轻信、不点击、不透露、不转账。" >"$work/send.out"
    /usr/bin/time -f "%e %M" -o "$work/curl.time" \
        curl --silent --no-progress-meter --parallel --parallel-max 64 --config "$work/curl.cfg"
    echo "$(cat "$work/gridcast.time") $(cat "$work/curl.time") $(tail -1 "$work/send.out")" >>"$work/rounds"
done

received=$(curl -sf http://127.0.0.1:$PORT/_emulator/stats)
python3 - "$N" "$ROUNDS" "$work/rounds" "$received" <<'PY'
import json, statistics, sys
n, rounds, received = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[4])
runs = []
for line in open(sys.argv[3]):
    gw, gr, cw, cr, sent = line.split(maxsplit=4)
    runs.append((float(gw), int(gr), float(cw), int(cr), sent.strip()))
print(f"groups               {n}, {rounds} rounds (gridcast, then curl, each round)")
for i, (gw, gr, cw, cr, _) in enumerate(runs, 1):
    print(f"  round {i}            gridcast {gw:.2f} s ({gr / 1024:.1f} MiB)   curl {cw:.2f} s   ratio {gw / cw:.2f}x")
gws, cws = [r[0] for r in runs], [r[2] for r in runs]
g, c = statistics.median(gws), statistics.median(cws)
print(f"gridcast send        median {g:.2f} s (min {min(gws):.2f}, max {max(gws):.2f})   {n / g:,.0f} deliveries/s   "
      f"peak RSS {max(r[1] for r in runs) / 1024:.1f} MiB")
print(f"curl --parallel 64   median {c:.2f} s (min {min(cws):.2f}, max {max(cws):.2f})   {n / c:,.0f} requests/s     "
      f"peak RSS {max(r[3] for r in runs) / 1024:.1f} MiB")
print(f"ratio gridcast/curl  {g / c:.2f}x median wall time")
print(f"ledger               {runs[-1][4]}")
expected = n * (1 + 2 * rounds)
print(f"receiver             {received['accepted']} accepted (warm-up {n} + {rounds} x (gridcast {n} + curl {n}): {expected})")
PY
