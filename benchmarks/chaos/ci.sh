#!/usr/bin/env bash
# The reduced chaos run for CI: 2,000 groups, 10 SIGKILLs, fixed seed, for both in_doubt policies and both modes
# (gridcast serve and gridcast send). Runs all four, prints each summary, fails if any run violates a target.
# Run directories: var/chaos/ci/<mode>-<policy> (gitignored). Override with CHAOS_GROUPS, CHAOS_KILLS, CHAOS_SEED.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
if ! command -v python3 >/dev/null; then  # the harness is Python 3 (standard library only)
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3 >/dev/null
fi
groups=${CHAOS_GROUPS:-2000} kills=${CHAOS_KILLS:-10} seed=${CHAOS_SEED:-20261129}
failed=()
for mode in serve send; do
    for policy in hold resend; do
        log=var/chaos/ci/$mode-$policy.out
        mkdir -p var/chaos/ci
        "$here/run.sh" --groups "$groups" --kills "$kills" --seed "$seed" --mode "$mode" --policy "$policy" \
            --dir "var/chaos/ci/$mode-$policy" >"$log" 2>&1
        code=$?
        # the one-screen summary (the killer's progress lines stay in the run's killer.log)
        sed -n '/^== chaos/,$p' "$log"
        if [ "$code" -ne 0 ]; then
            failed+=("$mode/$policy (exit $code)")
            grep -q '^== chaos' "$log" || tail -20 "$log" >&2  # no summary: show why
        fi
        echo
    done
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "chaos CI: FAILED: ${failed[*]} (run directories under var/chaos/ci)" >&2
    exit 1
fi
echo "chaos CI: all targets met (serve and send, hold and resend; $groups groups, $kills kills, seed $seed)"
