#!/usr/bin/env bash
# Builds the Debian package (scripts/package.sh), installs it with dpkg, and runs the installed gridcast with the
# Swift toolchain out of reach: off the PATH and, when it lives outside /usr, hidden under an empty tmpfs in a
# private mount namespace. There it must print its version, pass `check` on the packaged example config, and send
# a notice to 18 groups of the bundled emulator, recorded in a SQLite ledger that verifies. Removes the package
# afterwards. Needs root (dpkg -i, unshare). Usage: scripts/test-package.sh [DEB]
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "test-package.sh: run as root (dpkg -i, unshare)" >&2; exit 2; }

deb=${1:-$(scripts/package.sh | tail -n 1)}
echo "--- $deb ---"
dpkg-deb --field "$deb" Package Version Depends
for dep in libcurl4 libsqlite3-0; do
    dpkg-deb --field "$deb" Depends | grep -qw "$dep" || { echo "Depends lacks $dep" >&2; exit 1; }
done
if dpkg-deb --field "$deb" Depends | grep -qi swift; then echo "Depends names a Swift package" >&2; exit 1; fi

was_installed=$(dpkg-query -W -f='${Status}' gridcast 2>/dev/null | grep -c "ok installed" || true)
[ "$was_installed" = 0 ] || { echo "gridcast is installed here already; not touching it" >&2; exit 2; }
work=$(mktemp -d)
trap 'dpkg --purge gridcast >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
dpkg -i "$deb"
test -x /usr/bin/gridcast
test -f /lib/systemd/system/gridcast.service
grep -q '^ExecStart=/usr/bin/gridcast serve' /lib/systemd/system/gridcast.service
test "$(ls /etc/gridcast/notices/*.md | wc -l)" -ge 1

# A config from the package's example, the demo config and groups for the emulator, both in a scratch directory.
cp /usr/share/doc/gridcast/examples/gridcast.yaml /usr/share/doc/gridcast/examples/groups.csv "$work/"
ln -s /etc/gridcast/notices "$work/notices"
cp config/demo.yaml config/demo-groups.csv config/demo-api-token "$work/"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -i -e "s#127.0.0.1:8641#127.0.0.1:$port#g" -e "s#path: ../var/gridcast.sqlite#path: demo.sqlite#" \
    "$work/demo.yaml" "$work/demo-groups.csv"
chmod -R a+rX "$work"

toolchain=$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")   # /opt/swift/usr for /opt/swift/usr/bin/swift
hide=""
case "$toolchain" in
    /usr | /usr/local | /) echo "note: the toolchain lives in $toolchain; it is only taken off the PATH" ;;
    *) hide="mount -t tmpfs -o size=1m none '$toolchain'" ;;
esac

env -i HOME="$work" PATH=/usr/sbin:/usr/bin:/sbin:/bin WORK="$work" \
    unshare --mount --propagation private -- sh -euc "
    $hide
    if command -v swift swiftc >/dev/null 2>&1; then echo 'a Swift toolchain is still reachable' >&2; exit 1; fi
    [ -z '$hide' ] || [ -z \"\$(ls -A '$toolchain')\" ]
    if ldd /usr/bin/gridcast | grep -Ei 'swift|not found'; then echo 'gridcast loads toolchain libraries' >&2; exit 1; fi
    cd \"\$WORK\"
    echo '--- gridcast --version ---'
    gridcast --version | grep -E '^gridcast [0-9]+\.[0-9]+\.[0-9]+ \(commit [0-9a-f]{7,}'
    echo '--- gridcast check on the packaged example ---'
    . ./example.env
    gridcast check --config gridcast.yaml
    echo '--- gridcast send to the emulator ---'
    gridcast check --config demo.yaml
    gridcast emulate --listen 127.0.0.1:$port --config demo.yaml >emulator.log 2>&1 &
    emulator=\$!
    trap 'kill \$emulator 2>/dev/null || true' EXIT
    for _ in \$(seq 100); do
        curl -sf http://127.0.0.1:$port/_emulator/healthz >/dev/null && break
        sleep 0.1
    done
    gridcast send --config demo.yaml --id package-test --title 安装检查 --text '安装后第一条：不转账、不透露验证码。'
    gridcast report daily --config demo.yaml --format json | grep -q '\"sent\" *: *18'
    gridcast ledger verify --config demo.yaml
    test \"\$(grep -c '安装后第一条' emulator.log)\" -eq 18
"
echo "package test passed: $deb installs and runs without a Swift toolchain"
