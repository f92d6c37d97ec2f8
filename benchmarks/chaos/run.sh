#!/usr/bin/env bash
# One chaos run: the seeded faulty receiver, SIGKILLs of gridcast during a fan-out to N generic groups, and the
# checker that joins the receiver's log with the ledger. See benchmarks/chaos/README.md.
#
#   benchmarks/chaos/run.sh [--groups N] [--kills K] [--seed S] [--mode serve|send] [--policy hold|resend]
#                           [--dir RUN_DIR] [--bin GRIDCAST] [--faults 429:P,503:P,drop:P,hang:P]
#                           [--ledger sqlite|postgres] [--pg-restarts R] [--pg-ctl PG_CTL] [--concurrency C]
#
# --ledger postgres: three `gridcast serve` instances on a fresh database (chaos_<time>_<pid>) created on the server
# of GRIDCAST_CHAOS_POSTGRES_URL, else GRIDCAST_TEST_POSTGRES_URL; K chaos actions = kill -9 or SIGSTOP (beyond
# instance_timeout 5s) of a random instance, and R (default 1, 2 from K >= 8) immediate restarts of PostgreSQL with
# --pg-ctl (default GRIDCAST_TEST_POSTGRES_CTL). The database is dropped after a passing run, kept otherwise.
# dispatch.concurrency per instance: 64 (sqlite), 16 (postgres: three instances, and a fan-out long enough for the
# chaos to happen during it).
#
# Defaults: 2000 groups, 10 kills, seed 1, serve, hold, faults 429:0.01,503:0.01,drop:0.005,hang:0.005 (the ones
# not named keep their default). The run directory (default var/chaos/<mode>-<policy>-N-K-sS,
# emptied first) keeps the config, ledger, receiver log, gridcast output, kills.json and summary.json/.txt.
# Uses the existing debug build (`swift build --show-bin-path`); builds only when there is no gridcast binary.
# Exit: 0 every target met, 1 a violation (see the summary), 3 the harness itself failed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

groups=2000 kills=10 seed=1 mode=serve policy=hold dir="" bin="${GRIDCAST_BIN:-}" faults="" ledger=sqlite
pg_restarts="" pg_ctl="${GRIDCAST_TEST_POSTGRES_CTL:-}" concurrency=""
while [ $# -gt 0 ]; do
    case "$1" in
        --groups) groups=$2; shift 2 ;;
        --kills) kills=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        --mode) mode=$2; shift 2 ;;
        --policy) policy=$2; shift 2 ;;
        --dir) dir=$2; shift 2 ;;
        --bin) bin=$2; shift 2 ;;
        --faults) faults=$2; shift 2 ;;
        --ledger) ledger=$2; shift 2 ;;
        --pg-restarts) pg_restarts=$2; shift 2 ;;
        --pg-ctl) pg_ctl=$2; shift 2 ;;
        --concurrency) concurrency=$2; shift 2 ;;
        -h|--help) sed -n 2,22p "$0"; exit 0 ;;
        *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
case "$mode" in serve|send) ;; *) echo "run.sh: --mode serve|send" >&2; exit 2 ;; esac
case "$policy" in hold|resend) ;; *) echo "run.sh: --policy hold|resend" >&2; exit 2 ;; esac
case "$ledger" in
    sqlite) ;;
    postgres)
        [ "$mode" = serve ] || { echo "run.sh: --ledger postgres runs serve instances only (--mode serve)" >&2; exit 2; }
        pg_server=${GRIDCAST_CHAOS_POSTGRES_URL:-${GRIDCAST_TEST_POSTGRES_URL:-}}
        [ -n "$pg_server" ] || { echo "run.sh: --ledger postgres needs GRIDCAST_CHAOS_POSTGRES_URL or" \
            "GRIDCAST_TEST_POSTGRES_URL (source scripts/postgres-test-server.sh && gridcast_postgres_start)" >&2; exit 3; }
        if [ -z "$pg_restarts" ]; then pg_restarts=1; [ "$kills" -ge 8 ] && pg_restarts=2; fi
        if [ "$pg_restarts" -gt 0 ] && [ ! -x "$pg_ctl" ]; then
            echo "run.sh: --pg-restarts $pg_restarts needs --pg-ctl PATH or GRIDCAST_TEST_POSTGRES_CTL" >&2; exit 3
        fi
        command -v psql >/dev/null || { echo "run.sh: --ledger postgres needs psql" >&2; exit 3; }
        concurrency=${concurrency:-16} ;;
    *) echo "run.sh: --ledger sqlite|postgres" >&2; exit 2 ;;
esac

if [ -z "$bin" ]; then
    bin="$(swift build --show-bin-path)/gridcast"
    [ -x "$bin" ] || swift build --product gridcast >&2
fi
[ -x "$bin" ] || { echo "run.sh: no gridcast binary at $bin" >&2; exit 3; }

if [ "$ledger" = postgres ]; then
    dir=${dir:-var/chaos/pg-$mode-$policy-$groups-$kills-s$seed}
else
    dir=${dir:-var/chaos/$mode-$policy-$groups-$kills-s$seed}
fi
rm -rf "$dir"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# Run a private copy: the shared .build is relinked by other builds while we run (ETXTBSY, or a changed binary
# between restarts). Retry while a link is in progress.
for _ in $(seq 60); do
    if cp "$bin" "$dir/gridcast.bin" 2>/dev/null && "$dir/gridcast.bin" --help >/dev/null 2>&1; then break; fi
    rm -f "$dir/gridcast.bin"; sleep 5
done
[ -x "$dir/gridcast.bin" ] || { echo "run.sh: cannot copy a working gridcast from $bin" >&2; exit 3; }
bin="$dir/gridcast.bin"

rates=()
IFS=, read -ra specs <<<"$faults"
for spec in "${specs[@]}"; do
    case "${spec%%:*}" in
        429|503|drop|hang) rates+=("--rate-${spec%%:*}" "${spec#*:}") ;;
        *) echo "run.sh: --faults: expected 429:P,503:P,drop:P,hang:P, got '$spec'" >&2; exit 2 ;;
    esac
done

pg_args=()
if [ "$ledger" = postgres ]; then
    # A fresh database on the server for this run: the server's URL with its database replaced.
    db="chaos_$(date +%Y%m%d%H%M%S)_$$"
    psql "$pg_server" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $db" >&2 \
        || { echo "run.sh: cannot create database $db on $pg_server" >&2; exit 3; }
    # gridcast counts on a commit it was told about surviving a crash of the server; the test server runs with
    # synchronous_commit=off (fast, but an immediate restart loses the last ~0.6 s of acknowledged commits: the
    # claims of a batch vanish and their deliveries are claimed and sent again). This run's database has it on.
    psql "$pg_server" -X -q -v ON_ERROR_STOP=1 -c "ALTER DATABASE $db SET synchronous_commit = on" >&2
    ledger_url=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$pg_server" "$db")
    echo "$ledger_url" >"$dir/ledger-url"
    pg_args=(--ledger postgres --ledger-url "$ledger_url" --pg-restarts "$pg_restarts")
    [ -n "$pg_ctl" ] && pg_args+=(--pg-ctl "$pg_ctl")
fi

rm -f "$dir/receiver.port"
python3 "$here/receiver.py" --listen 127.0.0.1:0 --port-file "$dir/receiver.port" --log "$dir/received.jsonl" \
    --seed "$seed" --hang 5 ${rates[@]+"${rates[@]}"} 2>"$dir/receiver.err" &
receiver=$!
trap 'kill $receiver 2>/dev/null || true; wait $receiver 2>/dev/null || true' EXIT
for _ in $(seq 200); do [ -s "$dir/receiver.port" ] && break; sleep 0.05; done
[ -s "$dir/receiver.port" ] || { echo "run.sh: the receiver did not start" >&2; cat "$dir/receiver.err" >&2; exit 3; }
port=$(cat "$dir/receiver.port")

echo "chaos: ledger=$ledger mode=$mode policy=$policy groups=$groups kills=$kills seed=$seed dir=$dir" >&2
set +e
python3 "$here/killer.py" --bin "$bin" --dir "$dir" --receiver-port "$port" --groups "$groups" --kills "$kills" \
    --seed "$seed" --mode "$mode" --policy "$policy" --timeout 2s --concurrency "${concurrency:-64}" \
    ${pg_args[@]+"${pg_args[@]}"} 2>&1 \
    | tee "$dir/killer.log" >&2
killer=${PIPESTATUS[0]}
set -e
kill $receiver 2>/dev/null || true
wait $receiver 2>/dev/null || true
trap - EXIT

set +e
python3 "$here/checker.py" --bin "$bin" --dir "$dir" --harness-exit "$killer"
verdict=$?
set -e
if [ "$ledger" = postgres ] && [ "$verdict" -eq 0 ] && [ -z "${CHAOS_KEEP_DB:-}" ]; then
    # passed: the database has served its purpose (a failing run keeps it, named in ledger-url, for a look)
    psql "$pg_server" -X -q -c "DROP DATABASE IF EXISTS $db" >&2 || true
fi
exit "$verdict"
