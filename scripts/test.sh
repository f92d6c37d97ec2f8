#!/usr/bin/env bash
# Installs what is missing, builds once (sources and tests), and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
gridcast_install_deps
gridcast_install_test_deps
swift build --build-tests
swift test --skip-build
benchmarks/chaos/ci.sh   # kill -9 chaos: 2,000 groups, 10 kills, serve/send × hold/resend
