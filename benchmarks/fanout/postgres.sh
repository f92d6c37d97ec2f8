#!/usr/bin/env bash
# `benchmarks/fanout/run.sh --ledger postgres [N] [ROUNDS]` runs this: one notice to N groups (WeCom sink) against
# `gridcast emulate --blackhole`, through
#   (a) `gridcast send` on SQLite                       (as run.sh: process start to exit)
#   (b) `gridcast send` on PostgreSQL, one process      (the same, the ledger a fresh database)
#   (c) one `gridcast serve` on PostgreSQL              (POST /v1/notices to every delivery final)
#   (d) three `gridcast serve` on one PostgreSQL        (the notice posted to one; POST to every delivery final)
# each round in that order, each with a fresh ledger, and prints the medians. (c) and (d) start their daemons
# before the clock starts (they are long-running) and stop them after; "final" is read with psql every 20 ms
# (no delivery planned, claimed or retry, N rows). (b) and (c) compare `send` with `serve` on one store.
#
# The server: GRIDCAST_BENCH_POSTGRES_URL, else GRIDCAST_TEST_POSTGRES_URL (scripts/postgres-test-server.sh). Each
# database gets synchronous_commit = on (the test server runs with it off, which would make a commit's
# acknowledgement not durable); the test server's fsync=off still spares PostgreSQL the disk sync SQLite pays
# (synchronous=FULL), so on it PostgreSQL is measured without its sync cost.
# BUILD=debug uses the debug build instead of building the release one (a smoke run, not figures to publish).
set -euo pipefail
N=${1:-10000}
ROUNDS=${2:-3}
PORT=${PORT:-18643}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source benchmarks/fanout/setup.sh
server=${GRIDCAST_BENCH_POSTGRES_URL:-${GRIDCAST_TEST_POSTGRES_URL:-}}
[ -n "$server" ] || { echo "postgres.sh: set GRIDCAST_BENCH_POSTGRES_URL or GRIDCAST_TEST_POSTGRES_URL" >&2; exit 2; }
command -v psql >/dev/null || { echo "postgres.sh: needs psql" >&2; exit 2; }
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }
build=${BUILD:-release}
if [ "$build" = debug ]; then
    bin=$(swift build --show-bin-path)/gridcast
    [ -x "$bin" ] || swift build --product gridcast >/dev/null
else
    swift build -c release --product gridcast >/dev/null
    bin=$(swift build -c release --show-bin-path)/gridcast
fi
work=$(mktemp -d)
cp "$bin" "$work/gridcast"  # a private copy: other builds relink .build meanwhile
bin=$work/gridcast
daemons=()
cleanup() {
    for pid in ${daemons[@]+"${daemons[@]}"}; do kill "$pid" 2>/dev/null || true; done
    kill $emu 2>/dev/null || true
    for db in $(psql "$server" -XAt -c "SELECT datname FROM pg_database WHERE datname LIKE 'bench\\_%\\_$$'" 2>/dev/null); do
        drop_db "$db" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
TEXT="【反诈提醒】不回拨、不轻信、不点击、不透露、不转账。"
TOKEN=bench-api-token-0123456789abcdef
echo "$TOKEN" >"$work/api-token"
fanout_write_config "$work" "$N" "$PORT"   # groups.csv and the SQLite bench.yaml
fanout_start_receiver "$bin" "$PORT"

# fresh_db NAME: creates it (synchronous_commit on) and prints its URL. Each database is dropped as soon as its
# run is measured (drop_db), so autovacuum working through earlier rounds' databases doesn't run alongside later ones;
# the cleanup drops any left by an interrupted run.
fresh_db() {
    psql "$server" -Xq -v ON_ERROR_STOP=1 -c "CREATE DATABASE $1" -c "ALTER DATABASE $1 SET synchronous_commit = on"
    python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$server" "$1"
}
drop_db() { psql "$server" -Xq -c "DROP DATABASE IF EXISTS $1"; }
# pg_config FILE URL [API_PORT]
pg_config() {
    {
        printf 'ledger:\n  url: %s\ndispatch:\n  concurrency: 64\ngroups_file: groups.csv\n' "$2"
        [ -z "${3:-}" ] || printf 'api:\n  listen: 127.0.0.1:%s\n  token_file: api-token\n' "$3"
    } >"$1"
}
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# serve_run K URL: K serve instances on URL, the notice posted to the first; prints the seconds from the POST until
# every delivery is final
serve_run() {
    local k=$1 url=$2 i port ports=() start end
    daemons=()
    for i in $(seq "$k"); do
        port=$(free_port)
        ports+=("$port")
        pg_config "$work/serve-$i.yaml" "$url" "$port"
        "$bin" serve --config "$work/serve-$i.yaml" >>"$work/serve-$i.log" 2>&1 &
        daemons+=($!)
    done
    for port in "${ports[@]}"; do
        for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
    done
    start=$(date +%s.%N)
    curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        -d "{\"id\":\"bench-notice\",\"to\":\"all\",\"text\":\"$TEXT\"}" "http://127.0.0.1:${ports[0]}/v1/notices"
    for _ in $(seq 30000); do
        done_=$(psql "$url" -XAt -c "SELECT count(*) FILTER (WHERE state NOT IN ('planned','claimed','retry')),
            count(*) FILTER (WHERE state = 'sent') FROM deliveries" | tr '|' ' ')
        read -r final sent <<<"$done_"
        [ "$final" -ge "$N" ] && break
        sleep 0.02
    done
    end=$(date +%s.%N)
    for pid in "${daemons[@]}"; do kill -TERM "$pid"; done
    for pid in "${daemons[@]}"; do wait "$pid" || echo "serve exited $? on SIGTERM" >&2; done
    daemons=()
    [ "$sent" -eq "$N" ] || echo "only $sent of $N sent" >&2
    echo "$end - $start" | bc
}

for round in $(seq "$ROUNDS"); do
    rm -f "$work"/ledger.sqlite*
    /usr/bin/time -f "%e" -o "$work/t" "$bin" send --config "$work/bench.yaml" --to all --id bench-notice \
        --text "$TEXT" >"$work/send.out"
    grep -q "$N of $N groups sent" "$work/send.out" || echo "sqlite: $(tail -1 "$work/send.out")" >&2
    a=$(cat "$work/t")
    url=$(fresh_db "bench_send_${round}_$$")
    pg_config "$work/pg-send.yaml" "$url"
    /usr/bin/time -f "%e" -o "$work/t" "$bin" send --config "$work/pg-send.yaml" --to all --id bench-notice \
        --text "$TEXT" >"$work/send.out"
    grep -q "$N of $N groups sent" "$work/send.out" || echo "postgres send: $(tail -1 "$work/send.out")" >&2
    b=$(cat "$work/t")
    drop_db "bench_send_${round}_$$"
    c=$(serve_run 1 "$(fresh_db "bench_one_${round}_$$")")
    drop_db "bench_one_${round}_$$"
    d=$(serve_run 3 "$(fresh_db "bench_three_${round}_$$")")
    drop_db "bench_three_${round}_$$"
    echo "round $round  sqlite send $a s   postgres send $b s   postgres 1 serve $c s   postgres 3 serve $d s" >&2
    echo "$a $b $c $d" >>"$work/rounds"
done

python3 - "$N" "$ROUNDS" "$work/rounds" "$build build" <<'PY'
import statistics, sys
n, rounds = int(sys.argv[1]), int(sys.argv[2])
cols = list(zip(*[[float(x) for x in line.split()] for line in open(sys.argv[3])]))
names = ["(a) SQLite, gridcast send", "(b) PostgreSQL, gridcast send", "(c) PostgreSQL, 1 gridcast serve",
         "(d) PostgreSQL, 3 gridcast serve"]
print(f"groups {n}, {rounds} rounds, {sys.argv[4]}")
base = statistics.median(cols[0])
for name, values in zip(names, cols):
    m = statistics.median(values)
    print(f"{name:34} median {m:.2f} s (min {min(values):.2f}, max {max(values):.2f})  {n / m:,.0f} deliveries/s  "
          f"{m / base:.2f}x (a)")
PY
