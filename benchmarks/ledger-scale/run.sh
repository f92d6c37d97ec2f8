#!/usr/bin/env bash
# The ledger at a city's scale: builds a ledger of NOTICES notices to GROUPS groups (default 10 × 100,000 =
# 1,000,000 deliveries) by real `gridcast send`s against `gridcast emulate --blackhole`, then times every audit
# command on it with its peak RSS, and prints a table.
#
#   benchmarks/ledger-scale/run.sh [--groups N] [--notices K] [--keep DIR] [--ledger postgres]
#
# --keep DIR builds the ledger in DIR and keeps it; run again with the same DIR to time the commands without
# building again. --ledger postgres builds it in a fresh PostgreSQL database on GRIDCAST_BENCH_POSTGRES_URL or
# GRIDCAST_TEST_POSTGRES_URL (scripts/postgres-test-server.sh) instead of a SQLite file.
set -euo pipefail
GROUPS_N=100000
NOTICES=10
KEEP=
LEDGER=sqlite
while [ $# -gt 0 ]; do
    case "$1" in
        --groups) GROUPS_N=$2; shift 2 ;;
        --notices) NOTICES=$2; shift 2 ;;
        --keep) KEEP=$2; shift 2 ;;
        --ledger) LEDGER=$2; shift 2 ;;
        *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
PORT=${PORT:-18645}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source benchmarks/fanout/setup.sh
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }
swift build -c release --product gridcast >/dev/null
bin=$(swift build -c release --show-bin-path)/gridcast
if [ -n "$KEEP" ]; then
    mkdir -p "$KEEP"
    work=$(cd "$KEEP" && pwd)
else
    work=$(mktemp -d)
fi
cleanup() {
    kill ${emu:-} ${serve:-} 2>/dev/null || true
    [ -n "$KEEP" ] || rm -rf "$work"
}
trap cleanup EXIT
cp "$bin" "$work/gridcast.bin"  # a private copy: other builds relink .build meanwhile
bin=$work/gridcast.bin
cd "$work"

if [ ! -f built ]; then
    fanout_write_config "$work" "$GROUPS_N" "$PORT"   # groups.csv and bench.yaml (SQLite, concurrency 64)
    if [ "$LEDGER" = postgres ]; then
        server=${GRIDCAST_BENCH_POSTGRES_URL:-${GRIDCAST_TEST_POSTGRES_URL:-}}
        [ -n "$server" ] || { echo "run.sh: set GRIDCAST_BENCH_POSTGRES_URL or GRIDCAST_TEST_POSTGRES_URL" >&2; exit 2; }
        db=ledger_scale_$$
        psql "$server" -Xq -v ON_ERROR_STOP=1 -c "CREATE DATABASE $db"
        url=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$server" "$db")
        printf 'ledger:\n  url: %s\ndispatch:\n  concurrency: 64\ngroups_file: groups.csv\n' "$url" >bench.yaml
    fi
    fanout_start_receiver "$bin" "$PORT"
    for i in $(seq "$NOTICES"); do
        /usr/bin/time -f "%e %M" -o send.time "$bin" send --config bench.yaml --to all --id "scale-$i" \
            --title "第${i}期反诈提醒" --text "【反诈提醒】不回拨、不轻信、不点击、不透露、不转账。第${i}期。" >send.out
        grep -q "$GROUPS_N of $GROUPS_N groups sent" send.out || { echo "send $i: $(tail -1 send.out)" >&2; exit 1; }
        read -r wall rss <send.time
        echo "send $i of $NOTICES: $wall s, $((rss / 1024)) MiB" >&2
        [ "$i" -gt 1 ] || echo "$wall $rss" >first-send
    done
    kill $emu
    emu=
    touch built
fi

deliveries=$((GROUPS_N * NOTICES))
rows=()
# timed NAME COMMAND...: runs it with stdout to a file; records wall seconds and peak RSS
timed() {
    local name=$1
    shift
    /usr/bin/time -f "%e %M" -o cmd.time "$@" >cmd.out 2>cmd.err || { echo "$name failed: $(tail -3 cmd.err)" >&2; }
    read -r wall rss <cmd.time
    rows+=("$name|$wall|$((rss / 1024))|$(wc -c <cmd.out)")
}
timed "report daily --format json" "$bin" report daily --config bench.yaml --format json
day=$(python3 -c 'import json; print(json.load(open("cmd.out"))["date"])')
timed "report monthly --format json" "$bin" report monthly --config bench.yaml --format json
timed "ledger list --format csv" "$bin" ledger list --config bench.yaml --format csv
csv_rows=$(($(wc -l <cmd.out) - 1))
csv_wall=$(cut -d' ' -f1 cmd.time)
timed "ledger list --group g04242" "$bin" ledger list --config bench.yaml --group g04242
timed "ledger verify" "$bin" ledger verify --config bench.yaml

# The web audit page and a notice's status, answered by `gridcast serve` on the same ledger: each request's wall
# time (the second of two, the first warming the daemon), and the daemon's peak RSS over all of them.
api_port=$((PORT + 1))
head -c 24 /dev/urandom | base64 | tr -d '/+=' >api-token
{ cat bench.yaml; printf 'api:\n  listen: 127.0.0.1:%s\n  token_file: api-token\n' "$api_port"; } >serve.yaml
"$bin" serve --config serve.yaml >serve.log 2>&1 &
serve=$!
for _ in $(seq 600); do
    curl -sf --max-time 1 http://127.0.0.1:"$api_port"/healthz >/dev/null && break
    kill -0 $serve 2>/dev/null || { echo "gridcast serve did not start: $(tail -3 serve.log)" >&2; exit 1; }
    sleep 0.1
done
# requested NAME PATH
requested() {
    local wall
    for _ in 1 2; do
        wall=$(curl -s -o page.out -w '%{time_total}' -H "Authorization: Bearer $(cat api-token)" \
            "http://127.0.0.1:$api_port$2")
    done
    rows+=("$1|$(printf '%.2f' "$wall")|-|$(wc -c <page.out)")
}
requested "GET /?date= (audit page)" "/?date=$day"
requested "GET /v1/notices/scale-5 (a page)" "/v1/notices/scale-5"
last=$(python3 -c 'import json; print(json.load(open("page.out"))["next"])')
requested "GET /v1/notices/scale-5?after=" "/v1/notices/scale-5?after=$last"
requested "GET /audit/report.csv?date=" "/audit/report.csv?date=$day"
serve_rss=$(awk '/VmHWM/ {print int($2 / 1024)}' /proc/$serve/status)
rows+=("serve: peak over those requests|-|$serve_rss|-")
kill $serve
serve=

read -r first_wall first_rss <first-send
echo
echo "ledger: $NOTICES notices × $GROUPS_N groups = $deliveries deliveries ($LEDGER)"
printf '| %-34s | %8s | %9s |\n' "command" "wall" "peak RSS"
printf '|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..36})" "----------" "-----------"
printf '| %-34s | %6s s | %5s MiB |\n' "send of $GROUPS_N groups (first)" "$first_wall" "$((first_rss / 1024))"
for row in "${rows[@]}"; do
    IFS='|' read -r name wall rss _ <<<"$row"
    printf '| %-34s | %6s %s | %5s %s |\n' "$name" "$wall" "$([ "$wall" = - ] && echo ' ' || echo s)" "$rss" \
        "$([ "$rss" = - ] && echo '   ' || echo MiB)"
done
echo "ledger list --format csv: $csv_rows rows, $(python3 -c "print(f'{$csv_rows / max($csv_wall, 0.001):,.0f}')") rows/s"
if [ "$LEDGER" = sqlite ]; then
    size=$(du -cb ledger.sqlite* | tail -1 | cut -f1)
    echo "ledger file: $size bytes, $((size / deliveries)) bytes per delivery"
fi
