#!/usr/bin/env bash
# The main job on embedded defaults: the bundled emulator plays the 18 demo groups of config/demo.yaml and its
# WeCom app with 5 residents' customer groups, and `gridcast serve` runs the daemon on them with the bundled notice
# library: the scheduled warning fans out at start (the customer groups as mass-message tasks, one per owner), an
# urgent alert comes in through the HTTP API, the daily report is read from the SQLite ledger in var/, owner
# zhangsan confirms his tasks and the daemon records them sent. SIGTERM stops the daemon cleanly at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
gridcast_install_deps
swift build --product gridcast
bin=$(swift build --show-bin-path)/gridcast
mkdir -p var
token=$(cat config/demo-api-token)
started=$(date +%s)
api=http://127.0.0.1:8640
# The config by its absolute path: with a relative one, serve's check for a ledger left where earlier versions
# looked (relative to the working directory) misreads demo.yaml's "../var" and refuses a second run.
config=$PWD/config/demo.yaml

"$bin" check --config "$config"

"$bin" emulate --listen 127.0.0.1:8641 --config "$config" >var/emulator.log 2>&1 &
emulator=$!
"$bin" serve --config "$config" >var/daemon.log 2>&1 &
daemon=$!
trap 'kill $emulator $daemon 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    curl -sf http://127.0.0.1:8641/_emulator/healthz >/dev/null && curl -sf $api/healthz >/dev/null && break
    sleep 0.2
done

echo
echo "--- the schedule (gridcast schedule preview) ---"
"$bin" schedule preview --config "$config" --days 1 >var/preview.txt
head -8 var/preview.txt

echo
echo "--- an urgent alert through the API ---"
curl -s -X POST $api/v1/notices -H "Authorization: Bearer $token" -H "Content-Type: application/json" \
    -d '{"title":"紧急提醒","text":"今天辖区出现冒充“社区医保专员”上门收取“医保卡升级费”的骗局。医保卡升级不收任何费用，遇到请拨打110。","to":"tag:elderly","urgent":true}'
echo

# Wait until nothing planned today is still waiting to be sent.
for _ in $(seq 150); do
    left=$("$bin" report daily --config "$config" --format json |
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
"$bin" report daily --config "$config"

# Residents' WeChat groups: each owner confirms the mass-message task in WeCom; until then the ledger says
# awaiting_confirmation. The emulator plays zhangsan tapping "send"; lisi doesn't, within this demo.
# customer_groups prints the customer-group deliveries of the notices this run planned so far (the first call
# remembers them in var/demo-notices, as the schedule keeps firing every minute) and exits 0 once all of
# zhangsan's are sent.
customer_groups() {
    "$bin" ledger list --config "$config" --format json | DEMO_START=$started python3 -c '
import datetime, json, os, sys
start = int(os.environ["DEMO_START"])
rows = [r for r in json.load(sys.stdin) if r["sink"] == "wecom-customer-group" and r["first_attempt_at"]
        and datetime.datetime.fromisoformat(r["first_attempt_at"]).timestamp() >= start]
try:
    notices = set(open("var/demo-notices").read().split())
    rows = [r for r in rows if r["notice_id"] in notices]
except FileNotFoundError:
    busy = {r["notice_id"] for r in rows if r["state"] == "claimed"}
    rows = [r for r in rows if r["notice_id"] not in busy]
    open("var/demo-notices", "w").write("\n".join(sorted({r["notice_id"] for r in rows})))
for r in sorted(rows, key=lambda r: (r["notice_id"], r["group_id"])):
    print("  %-24s %-18s %s  %-22s %s" % (r["notice_id"], r["group_id"], r["group_name"], r["state"],
                                          r["sent_at"] or ""))
zhangsan = [r["state"] for r in rows if r["group_id"].startswith("cg-demolingshui")]
sys.exit(0 if all(s == "sent" for s in zhangsan) else 1)'
}
rm -f var/demo-notices
echo
echo "--- residents' WeChat groups (WeCom customer groups): one task per owner and notice, waiting for the owner ---"
curl -s http://127.0.0.1:8641/_emulator/wecom/tasks | python3 -c '
import json, sys
for t in json.load(sys.stdin):
    n = len(t["chats"])
    print("  task %s: owner %s, %d group%s" % (t["msgid"], t["sender"], n, "" if n == 1 else "s"))'
customer_groups || true
if [ ! -s var/demo-notices ]; then
    echo "  (none in this run: this minute's firing was already sent; run the demo again a minute later)"
else
    echo
    echo "--- zhangsan taps send in WeCom (POST /_emulator/wecom/confirm?owner=zhangsan) ---"
    curl -s -X POST 'http://127.0.0.1:8641/_emulator/wecom/confirm?owner=zhangsan' >/dev/null
    echo "the daemon reads each task's results every 30 s (poll: in wecom_apps); waiting for it to record them..."
    for _ in $(seq 75); do
        customer_groups >/dev/null && break
        sleep 1
    done
    customer_groups || echo "(not all recorded yet: the daemon records them at its next read; see var/daemon.log)"
    echo "(lisi's groups stay awaiting_confirmation until lisi confirms, or end expired at the app's confirm deadline)"
fi
echo

echo "(while it runs, the web audit page is at http://127.0.0.1:8640/ — log in with config/demo-api-token)"

kill -TERM $daemon
wait $daemon && echo "daemon stopped cleanly (exit 0); its log: var/daemon.log"
echo
echo "--- tamper evidence (gridcast ledger verify; the daemon's last checkpoint line is in var/daemon.log) ---"
"$bin" ledger verify --config "$config"
grep -o 'checkpoint=[0-9]*:[0-9a-f]*' var/daemon.log | tail -1
