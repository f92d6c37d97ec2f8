#!/usr/bin/env bash
# The main job on embedded defaults: the bundled emulator plays all 18 demo groups (config/demo.yaml),
# gridcast sends today's warning to every group through it, and prints the daily report from the
# SQLite ledger in var/. Run it twice: the second run sends nothing, because each group already has it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
gridcast_install_deps
swift build --product gridcast
bin=$(swift build --show-bin-path)/gridcast
mkdir -p var

"$bin" check --config config/demo.yaml

"$bin" emulate --listen 127.0.0.1:8641 --config config/demo.yaml >var/emulator.log 2>&1 &
emulator=$!
trap 'kill $emulator 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    curl -sf http://127.0.0.1:8641/_emulator/healthz >/dev/null && break
    sleep 0.1
done

echo
status=0
"$bin" send --config config/demo.yaml --to all --file config/demo-notice.md || status=$?

echo
if grep -q "→" var/emulator.log; then
    echo "--- what the first group saw (all of them: var/emulator.log) ---"
    awk '/^\[[0-9:]+\] / { if (seen) exit; if (/→/) seen = 1 } seen' var/emulator.log
else
    echo "--- the emulator received nothing this run: every group already had today's notice ---"
fi
echo
"$bin" report daily --config config/demo.yaml
exit $status
