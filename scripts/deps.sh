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

gridcast_install_deps() {
    # libcurl (the transport), SQLite headers (GRDB), pkg-config (finds libcurl), curl (scripts), time (benchmark)
    local missing
    missing=$(gridcast_missing_packages libcurl4-openssl-dev libsqlite3-dev pkg-config curl time)
    [ -z "$missing" ] && return 0
    echo "installing: $missing" >&2
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null
}

gridcast_install_test_deps() {
    # Only for the tests: headless Chromium drives the web audit page (Tests/AuditPageTests), with CJK fonts so
    # its screenshot shows the Chinese labels; python3 runs the DevTools driver.
    local missing
    missing=$(gridcast_missing_packages chromium fonts-noto-cjk)
    command -v python3 >/dev/null || missing="$missing python3"
    missing="${missing# }"
    [ -z "$missing" ] && return 0
    echo "installing (tests): $missing" >&2
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    gridcast_install_deps
fi
