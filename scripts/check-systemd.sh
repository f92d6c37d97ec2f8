#!/usr/bin/env bash
# Checks the hardening of systemd/gridcast.service: runs `systemd-analyze security` offline on the unit file,
# prints the overall exposure, and fails if it is above the limit (default 1.5; override with $1).
set -euo pipefail
cd "$(dirname "$0")/.."

unit=systemd/gridcast.service
limit=${1:-1.5}

if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "systemd-analyze not found; installing systemd" >&2
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq systemd >/dev/null
fi

# A reload must check the config before it signals the daemon: the first ExecReload= runs `gridcast check` on the
# config ExecStart= serves, the last one sends SIGHUP.
reloads=$(grep -E '^ExecReload=' "$unit" || true)
serve_config=$(sed -nE 's/^ExecStart=.* serve --config ([^ ]+).*/\1/p' "$unit")
if [ -z "$serve_config" ] || ! head -1 <<<"$reloads" | grep -qF "gridcast check --config $serve_config" \
    || ! tail -1 <<<"$reloads" | grep -q 'kill -HUP \$MAINPID'; then
    echo "$unit: ExecReload= must run 'gridcast check --config $serve_config' first, then 'kill -HUP \$MAINPID'" >&2
    echo "$reloads" >&2
    exit 1
fi

# The analyzer's exit status is not the verdict (--threshold only exists in newer versions): parse the summary.
report=$(SYSTEMD_COLORS=0 systemd-analyze security --offline=true --no-pager "$unit" 2>&1) || {
    echo "$report" >&2
    echo "systemd-analyze security failed on $unit" >&2
    exit 2
}
summary=$(grep -E 'Overall exposure level' <<<"$report" || true)
exposure=$(sed -nE 's/.*Overall exposure level for [^:]+: ([0-9]+(\.[0-9]+)?).*/\1/p' <<<"$summary")
if [ -z "$exposure" ]; then
    echo "$report" >&2
    echo "could not find the overall exposure in the output above" >&2
    exit 2
fi

if [ "${VERBOSE:-0}" = 1 ]; then echo "$report"; fi
echo "$unit: overall exposure $exposure (limit $limit)"
if awk -v e="$exposure" -v l="$limit" 'BEGIN { exit !(e > l) }'; then
    echo "exposure $exposure is above $limit; run: systemd-analyze security --offline=true $unit" >&2
    exit 1
fi
