#!/usr/bin/env bash
# The main job on embedded defaults: the bundled emulator plays the 18 demo groups of config/demo.yaml, and
# `gridcast serve` runs the daemon on them with the bundled notice library: the scheduled warning fans out at
# start, an urgent alert comes in through the HTTP API, and the daily report is read from the SQLite ledger in
# var/. SIGTERM stops the daemon cleanly at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
gridcast_install_deps
swift build --product gridcast
bin=$(swift build --show-bin-path)/gridcast
mkdir -p var
token=$(cat config/demo-api-token)
api=http://127.0.0.1:8640

"$bin" check --config config/demo.yaml

"$bin" emulate --listen 127.0.0.1:8641 --config config/demo.yaml >var/emulator.log 2>&1 &
emulator=$!
"$bin" serve --config config/demo.yaml >var/daemon.log 2>&1 &
daemon=$!
trap 'kill $emulator $daemon 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    curl -sf http://127.0.0.1:8641/_emulator/healthz >/dev/null && curl -sf $api/healthz >/dev/null && break
    sleep 0.2
done

echo
echo "--- the schedule (gridcast schedule preview) ---"
"$bin" schedule preview --config config/demo.yaml --days 1 >var/preview.txt
head -8 var/preview.txt

echo
echo "--- an urgent alert through the API ---"
curl -s -X POST $api/v1/notices -H "Authorization: Bearer $token" -H "Content-Type: application/json" \
    -d '{"title":"紧急提醒","text":"今天辖区出现冒充“社区医保专员”上门收取“医保卡升级费”的骗局。医保卡升级不收任何费用，遇到请拨打110。","to":"tag:elderly","urgent":true}'
echo

# Wait until nothing planned today is still waiting to be sent.
for _ in $(seq 150); do
    left=$("$bin" report daily --config config/demo.yaml --format json |
        python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["pending"] + r["retry"])')
    [ "$left" = 0 ] && break
    sleep 0.2
done

echo
if grep -q "→" var/emulator.log; then
    echo "--- what the first group saw (all of them: var/emulator.log) ---"
    awk '/^\[[0-9][0-9 :+-]*\] / { if (seen) exit; if (/→/) seen = 1 } seen' var/emulator.log
fi
echo
"$bin" report daily --config config/demo.yaml

echo "(while it runs, the web audit page is at http://127.0.0.1:8640/ — log in with config/demo-api-token)"

kill -TERM $daemon
wait $daemon && echo "daemon stopped cleanly (exit 0); its log: var/daemon.log"
echo
echo "--- tamper evidence (gridcast ledger verify; the daemon's last checkpoint line is in var/daemon.log) ---"
"$bin" ledger verify --config config/demo.yaml
grep -o 'checkpoint=[0-9]*:[0-9a-f]*' var/daemon.log | tail -1
