#!/usr/bin/env bash
# The reduced chaos run for CI: 2,000 groups, 10 SIGKILLs, fixed seed, for both in_doubt policies and both modes
# (gridcast serve and gridcast send). Runs all four, prints each summary, fails if any run violates a target.
# Run directories: var/chaos/ci/<mode>-<policy> (gitignored). Override with CHAOS_GROUPS, CHAOS_KILLS, CHAOS_SEED.
# Then, when a PostgreSQL server is available (GRIDCAST_CHAOS_POSTGRES_URL or GRIDCAST_TEST_POSTGRES_URL, which
# scripts/test.sh exports), a reduced PostgreSQL run: three serve instances, 1,000 groups, 4 chaos actions (kill -9,
# SIGSTOP, one PostgreSQL restart with GRIDCAST_TEST_POSTGRES_CTL), hold; var/chaos/ci/pg-serve-hold. Override with
# CHAOS_PG_GROUPS, CHAOS_PG_ACTIONS.
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
ran="serve and send, hold and resend; $groups groups, $kills kills, seed $seed"
if [ -n "${GRIDCAST_CHAOS_POSTGRES_URL:-${GRIDCAST_TEST_POSTGRES_URL:-}}" ]; then
    pg_groups=${CHAOS_PG_GROUPS:-1000} pg_actions=${CHAOS_PG_ACTIONS:-4} pg_restarts=1
    if [ ! -x "${GRIDCAST_TEST_POSTGRES_CTL:-}" ]; then
        echo "chaos CI: no GRIDCAST_TEST_POSTGRES_CTL: the PostgreSQL run restarts no server" >&2
        pg_restarts=0
    fi
    log=var/chaos/ci/pg-serve-hold.out
    "$here/run.sh" --ledger postgres --groups "$pg_groups" --kills "$pg_actions" --pg-restarts "$pg_restarts" \
        --seed "$seed" --mode serve --policy hold --dir var/chaos/ci/pg-serve-hold >"$log" 2>&1
    code=$?
    sed -n '/^== chaos/,$p' "$log"
    if [ "$code" -ne 0 ]; then
        failed+=("postgres serve/hold (exit $code)")
        grep -q '^== chaos' "$log" || tail -20 "$log" >&2
    fi
    echo
    ran="$ran; PostgreSQL: 3 instances, $pg_groups groups, $pg_actions actions"
else
    echo "chaos CI: no PostgreSQL server (GRIDCAST_TEST_POSTGRES_URL unset): PostgreSQL run skipped" >&2
fi
if [ ${#failed[@]} -gt 0 ]; then
    echo "chaos CI: FAILED: ${failed[*]} (run directories under var/chaos/ci)" >&2
    exit 1
fi
echo "chaos CI: all targets met ($ran)"
