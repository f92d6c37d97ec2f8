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

# A scratch directory: the package's example config and groups, the demo config pointed at a free port.
cp /usr/share/doc/gridcast/examples/gridcast.yaml /usr/share/doc/gridcast/examples/groups.csv "$work/"
ln -s /etc/gridcast/notices "$work/notices"
cp config/demo.yaml config/demo-groups.csv config/demo-api-token "$work/"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -i -e "s#127.0.0.1:8641#127.0.0.1:$port#g" -e "s#path: ../var/gridcast.sqlite#path: demo.sqlite#" \
    "$work/demo.yaml" "$work/demo-groups.csv"
chmod -R a+rX "$work"

toolchain=$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")   # /opt/swift/usr for /opt/swift/usr/bin/swift
hide=":"
case "$toolchain" in
    /usr | /usr/local | /) echo "note: the toolchain lives in $toolchain; it is only taken off the PATH" ;;
    *) hide="mount -t tmpfs -o size=1m none '$toolchain'" ;;   # an empty directory where the toolchain was
esac

cp packaging/smoke-test.sh "$work/"
env -i HOME="$work" PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    unshare --mount --propagation private -- sh -euc "$hide; exec sh '$work/smoke-test.sh' '$work' '$port'"
echo "package test passed: $deb installs and runs without a Swift toolchain"
