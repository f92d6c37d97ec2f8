#!/usr/bin/env bash
# Installs what is missing, builds once (sources and tests), starts a throwaway PostgreSQL server, and runs every
# test.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
gridcast_install_deps
gridcast_install_test_deps
swift build --build-tests
# A throwaway PostgreSQL server for the PostgreSQL ledger's tests (GRIDCAST_TEST_POSTGRES_URL), gone on exit.
source scripts/postgres-test-server.sh
trap gridcast_postgres_stop EXIT
gridcast_postgres_start
# One test target at a time (suites inside a target still run in parallel): the end-to-end targets each start
# daemons, emulators, browsers and hundreds of transfers, and on 2 cores they would time each other out.
# Every Tests/*Tests folder is a test target, so a new one is never left out.
for target in $(cd Tests && ls -d *Tests); do
    echo "--- swift test: $target ---"
    swift test --skip-build --filter "^$target\."
done
benchmarks/chaos/ci.sh   # kill -9 chaos: 2,000 groups, 10 kills, serve/send × hold/resend
# The Debian package: a static release build, installed with dpkg and run with the toolchain hidden (needs root).
if [ "$(id -u)" -eq 0 ]; then scripts/test-package.sh; else sudo scripts/test-package.sh; fi
