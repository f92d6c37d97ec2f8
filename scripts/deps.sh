#!/usr/bin/env bash
# Installs the system packages gridcast builds and runs against, when they are missing (Debian/Ubuntu).
# Sourced by the other scripts; safe to run on its own.
set -euo pipefail

gridcast_missing_packages() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    echo "${missing[@]:-}"
}

# gridcast_apt_install LABEL PACKAGE…: says what it installs, then installs it (with sudo when not root).
gridcast_apt_install() {
    local label=$1
    shift
    echo "$label: $*" >&2
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

gridcast_install_deps() {
    # libcurl (the transport), SQLite headers (GRDB), pkg-config (finds libcurl), curl (scripts), time (benchmark)
    local missing
    missing=$(gridcast_missing_packages libcurl4-openssl-dev libsqlite3-dev pkg-config curl time)
    [ -z "$missing" ] && return 0
    # shellcheck disable=SC2086  # one word per package
    gridcast_apt_install "installing" $missing
}

gridcast_install_test_deps() {
    # Only for the tests: headless Chromium drives the web audit page (Tests/AuditPageTests), with CJK fonts so
    # its screenshot shows the Chinese labels; python3 runs the DevTools driver. PostgreSQL's server is the
    # throwaway one of scripts/postgres-test-server.sh, for the PostgreSQL ledger's tests.
    local missing
    missing=$(gridcast_missing_packages chromium fonts-noto-cjk)
    ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || missing="$missing postgresql"
    command -v python3 >/dev/null || missing="$missing python3"
    missing="${missing# }"
    [ -z "$missing" ] && return 0
    # shellcheck disable=SC2086  # one word per package
    gridcast_apt_install "installing (tests)" $missing
}

gridcast_install_package_deps() {
    # Only for scripts/package.sh: objdump and strip (binutils), and unshare (util-linux) for its test.
    local missing
    missing=$(gridcast_missing_packages binutils util-linux)
    [ -z "$missing" ] && return 0
    # shellcheck disable=SC2086  # one word per package
    gridcast_apt_install "installing (package)" $missing
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    gridcast_install_deps
fi
