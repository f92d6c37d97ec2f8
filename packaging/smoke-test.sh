#!/bin/sh
# Runs the installed /usr/bin/gridcast the way a fresh machine would, in WORK (prepared by scripts/test-package.sh:
# the packaged example config with its groups.csv, the demo config pointed at PORT): --version, check on the
# example, and a send to the 18 demo groups of the bundled emulator, recorded and verified. No Swift toolchain may
# be reachable. Usage: smoke-test.sh WORK PORT
set -eu
work=$1
port=$2
cd "$work"
if command -v swift >/dev/null 2>&1 || command -v swiftc >/dev/null 2>&1; then
    echo "a Swift toolchain is still reachable: $(command -v swift swiftc)" >&2
    exit 1
fi
if ldd /usr/bin/gridcast | grep -Ei 'swift|not found'; then
    echo "gridcast loads libraries of the Swift toolchain, or misses some" >&2
    exit 1
fi

echo "--- gridcast --version ---"
gridcast --version | grep -E '^gridcast [0-9]+\.[0-9]+\.[0-9]+ \(commit [0-9a-f]{7,}'

echo "--- gridcast check on the packaged example ---"
mkdir -p credentials
head -c 32 /dev/urandom | base64 >credentials/api-token
CREDENTIALS_DIRECTORY="$work/credentials"
export CREDENTIALS_DIRECTORY
# Every ${VAR} the example names, with a made-up value.
for name in $(grep -oh '\${[A-Z0-9_]*}' gridcast.yaml groups.csv | tr -d '${}' | sort -u); do
    [ "$name" = CREDENTIALS_DIRECTORY ] || export "$name=value-of-$name"
done
sed -i 's#^  path: /var/lib/gridcast/gridcast.sqlite#  path: example.sqlite#' gridcast.yaml
gridcast check --config gridcast.yaml
test ! -e example.sqlite   # check creates no ledger

echo "--- gridcast send to 18 groups of the emulator ---"
gridcast check --config demo.yaml
gridcast emulate --listen "127.0.0.1:$port" --config demo.yaml >emulator.log 2>&1 &
emulator=$!
trap 'kill $emulator 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/_emulator/healthz" >/dev/null && break
    sleep 0.1
done
gridcast send --config demo.yaml --to all --id package-test --title 安装检查 --text '安装后第一条：不转账、不透露验证码。'
gridcast report daily --config demo.yaml --format json | grep -Eq '"sent" *: *18'
gridcast ledger verify --config demo.yaml
test "$(grep -c '安装后第一条' emulator.log)" -eq 18
