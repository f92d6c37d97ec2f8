#!/usr/bin/env bash
# Shared by run.sh and compare.sh: the benchmark's groups and config, and the blackhole receiver.

# fanout_write_config WORK N PORT: N WeCom groups (WORK/groups.csv) pointing at 127.0.0.1:PORT, and WORK/bench.yaml
# with a ledger in WORK and concurrency 64.
fanout_write_config() {
    python3 - "$1" "$2" "$3" <<'PY'
import sys
work, n, port = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(f"{work}/groups.csv", "w") as f:
    f.write("id,name,sink,url,secret,keyword,tags\n")
    for i in range(n):
        f.write(f"g{i:05d},网格群{i},wecom,http://127.0.0.1:{port}/cgi-bin/webhook/send?key=bench-{i:05d},,,bench\n")
with open(f"{work}/bench.yaml", "w") as f:
    f.write(f"ledger:\n  path: {work}/ledger.sqlite\ndispatch:\n  concurrency: 64\ngroups_file: groups.csv\n")
PY
}

# fanout_start_receiver BIN PORT: `BIN emulate --blackhole` on PORT in the background (its pid in $emu), waiting
# until it answers.
fanout_start_receiver() {
    "$1" emulate --listen 127.0.0.1:"$2" --blackhole --quiet >/dev/null &
    emu=$!
    for _ in $(seq 100); do
        # Something else answering is not enough: it may hold the port (PORT=... picks another).
        kill -0 $emu 2>/dev/null || { echo "the receiver did not start: is port $2 taken?" >&2; exit 1; }
        curl -sf --max-time 1 http://127.0.0.1:"$2"/_emulator/healthz >/dev/null && return 0
        sleep 0.05
    done
}
