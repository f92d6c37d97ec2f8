#!/usr/bin/env bash
# One chaos run: the seeded faulty receiver, SIGKILLs of gridcast during a fan-out to N generic groups, and the
# checker that joins the receiver's log with the ledger. See benchmarks/chaos/README.md.
#
#   benchmarks/chaos/run.sh [--groups N] [--kills K] [--seed S] [--mode serve|send] [--policy hold|resend]
#                           [--dir RUN_DIR] [--bin GRIDCAST] [--faults 429:P,503:P,drop:P,hang:P]
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

groups=2000 kills=10 seed=1 mode=serve policy=hold dir="" bin="${GRIDCAST_BIN:-}" faults=""
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
        -h|--help) sed -n 2,14p "$0"; exit 0 ;;
        *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
case "$mode" in serve|send) ;; *) echo "run.sh: --mode serve|send" >&2; exit 2 ;; esac
case "$policy" in hold|resend) ;; *) echo "run.sh: --policy hold|resend" >&2; exit 2 ;; esac

if [ -z "$bin" ]; then
    bin="$(swift build --show-bin-path)/gridcast"
    [ -x "$bin" ] || swift build --product gridcast >&2
fi
[ -x "$bin" ] || { echo "run.sh: no gridcast binary at $bin" >&2; exit 3; }

dir=${dir:-var/chaos/$mode-$policy-$groups-$kills-s$seed}
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

rm -f "$dir/receiver.port"
python3 "$here/receiver.py" --listen 127.0.0.1:0 --port-file "$dir/receiver.port" --log "$dir/received.jsonl" \
    --seed "$seed" --hang 5 ${rates[@]+"${rates[@]}"} 2>"$dir/receiver.err" &
receiver=$!
trap 'kill $receiver 2>/dev/null || true; wait $receiver 2>/dev/null || true' EXIT
for _ in $(seq 200); do [ -s "$dir/receiver.port" ] && break; sleep 0.05; done
[ -s "$dir/receiver.port" ] || { echo "run.sh: the receiver did not start" >&2; cat "$dir/receiver.err" >&2; exit 3; }
port=$(cat "$dir/receiver.port")

echo "chaos: mode=$mode policy=$policy groups=$groups kills=$kills seed=$seed dir=$dir" >&2
set +e
python3 "$here/killer.py" --bin "$bin" --dir "$dir" --receiver-port "$port" --groups "$groups" --kills "$kills" \
    --seed "$seed" --mode "$mode" --policy "$policy" --timeout 2s 2>&1 | tee "$dir/killer.log" >&2
killer=${PIPESTATUS[0]}
set -e
kill $receiver 2>/dev/null || true
wait $receiver 2>/dev/null || true
trap - EXIT

python3 "$here/checker.py" --bin "$bin" --dir "$dir" --harness-exit "$killer"
