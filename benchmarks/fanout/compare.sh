#!/usr/bin/env bash
# Compare gridcast builds on one `send` of N groups against one loopback receiver, alternating the builds.
#
#   benchmarks/fanout/compare.sh N ROUNDS BINARY...
#
# ROUNDS rounds, each build once per round, so that the machine's slow and fast minutes fall on every build alike.
# Prints the wall time and the CPU time (user + system, all threads) of each send, then the medians and their ratio
# to the first build's. On a shared VM the CPU time moves much less than the wall time; compare medians of 20 or
# more rounds. Each send gets a fresh ledger. The receiver is the first build's `emulate --blackhole`, as in run.sh.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
N=$1
ROUNDS=$2
shift 2
PORT=${PORT:-18642}
work=$(mktemp -d)
trap 'kill $emu 2>/dev/null || true; rm -rf "$work"' EXIT
fanout_write_config "$work" "$N" "$PORT"
fanout_start_receiver "$1" "$PORT"
for round in $(seq "$ROUNDS"); do
    for index in $(seq $#); do
        rm -f "$work"/ledger.sqlite*
        /usr/bin/time -f "%e %U %S" -o "$work/time" "${!index}" send --config "$work/bench.yaml" --to all \
            --id bench-notice --text "【反诈提醒】不回拨、不轻信、不点击、不透露、不转账。" >"$work/send.out"
        grep -q "$N of $N groups sent" "$work/send.out" || { echo "not all sent: $(tail -1 "$work/send.out")" >&2; exit 1; }
        read -r wall user system <"$work/time"
        cpu=$(echo "$user + $system" | bc)
        echo "round $round  build $index  wall $wall s  cpu $cpu s"
        echo "$index $wall $cpu" >>"$work/figures"
    done
done
python3 - "$work/figures" "$@" <<'PY'
import statistics, sys
wall, cpu = {}, {}
for line in open(sys.argv[1]):
    index, w, c = line.split()
    wall.setdefault(int(index), []).append(float(w))
    cpu.setdefault(int(index), []).append(float(c))
for name, figures in (("wall", wall), ("cpu", cpu)):
    base = statistics.median(figures[1])
    for index, values in sorted(figures.items()):
        median = statistics.median(values)
        print(f"{name:4} build {index} ({sys.argv[1 + index]}): median {median:.3f} s "
              f"(min {min(values):.3f}, max {max(values):.3f}), {median / base:.3f}x build 1")
PY
