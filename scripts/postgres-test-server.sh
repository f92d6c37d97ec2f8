#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, on a free loopback port, its data in a temporary directory.
# Source it, then:
#   gridcast_postgres_start   # exports GRIDCAST_TEST_POSTGRES_URL (postgres://postgres@127.0.0.1:PORT/postgres,
#                             # trust login), GRIDCAST_TEST_POSTGRES_DIR (data, socket, server.log),
#                             # GRIDCAST_TEST_POSTGRES_BIN (initdb, pg_ctl…) and GRIDCAST_TEST_POSTGRES_CTL (pg_ctl
#                             # for this server, run as the right user: `"$GRIDCAST_TEST_POSTGRES_CTL" restart -m fast`)
#   gridcast_postgres_stop    # stops it and removes the directory
# Both are idempotent and safe under `set -euo pipefail`. initdb and pg_ctl refuse to run as root: as root they run
# as the postgres user (the postgresql package creates it). Needs PostgreSQL's server binaries and python3.

# The newest installed server's bin directory (Debian keeps them off PATH), else the one of initdb on PATH.
gridcast_postgres_bindir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
    if [ -z "$dir" ] && command -v initdb >/dev/null; then dir=$(dirname "$(command -v initdb)"); fi
    [ -n "$dir" ] || { echo "postgres-test-server: no PostgreSQL server binaries (install postgresql)" >&2; return 1; }
    echo "$dir"
}

# gridcast_postgres_run COMMAND…: runs it as the postgres user when root, else as is, from the server's directory
# (the postgres user may not enter the caller's).
gridcast_postgres_run() {
    if [ "$(id -u)" -eq 0 ]; then
        (cd "$GRIDCAST_TEST_POSTGRES_DIR" && runuser -u postgres -- "$@")
    else
        (cd "$GRIDCAST_TEST_POSTGRES_DIR" && "$@")
    fi
}

gridcast_postgres_start() {
    if [ -n "${GRIDCAST_TEST_POSTGRES_DIR:-}" ] && [ -f "$GRIDCAST_TEST_POSTGRES_DIR/data/postmaster.pid" ]; then
        return 0 # already running
    fi
    local bin dir port attempt
    bin=$(gridcast_postgres_bindir) || return 1
    dir=$(mktemp -d /tmp/gridcast-pg.XXXXXX) || return 1
    GRIDCAST_TEST_POSTGRES_DIR=$dir
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir" || { rm -rf "$dir"; return 1; }; fi
    if ! gridcast_postgres_run "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync -E UTF8 \
        --locale=C.UTF-8 >"$dir/initdb.log" 2>&1; then
        echo "postgres-test-server: initdb failed:" >&2
        cat "$dir/initdb.log" >&2
        rm -rf "$dir"
        unset GRIDCAST_TEST_POSTGRES_DIR
        return 1
    fi
    # pg_ctl for this server as the right user, always logging to server.log (a restart without -l would keep
    # the caller's stdout open for the server's lifetime).
    cat >"$dir/ctl" <<CTL
#!/usr/bin/env bash
set -euo pipefail
cd "$dir"
if [ "\$(id -u)" -eq 0 ]; then
    exec runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" "\$@"
fi
exec "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" "\$@"
CTL
    chmod 755 "$dir/ctl"
    # The free port is found by binding port 0 and closing it: another process may take it before the server
    # does, so try a few.
    for attempt in 1 2 3; do
        port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        if "$dir/ctl" start -w -t 60 -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c fsync=off \
-c synchronous_commit=off -c full_page_writes=off -c max_connections=300" >/dev/null 2>&1; then
            export GRIDCAST_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
            export GRIDCAST_TEST_POSTGRES_DIR="$dir"
            export GRIDCAST_TEST_POSTGRES_BIN="$bin"
            export GRIDCAST_TEST_POSTGRES_CTL="$dir/ctl"
            return 0
        fi
        echo "postgres-test-server: start on port $port failed (attempt $attempt):" >&2
        tail -5 "$dir/server.log" >&2 2>/dev/null || true
    done
    rm -rf "$dir"
    unset GRIDCAST_TEST_POSTGRES_DIR
    return 1
}

gridcast_postgres_stop() {
    local dir=${GRIDCAST_TEST_POSTGRES_DIR:-}
    unset GRIDCAST_TEST_POSTGRES_URL GRIDCAST_TEST_POSTGRES_DIR GRIDCAST_TEST_POSTGRES_BIN GRIDCAST_TEST_POSTGRES_CTL
    [ -n "$dir" ] && [ -d "$dir" ] || return 0
    if [ -f "$dir/data/postmaster.pid" ]; then
        "$dir/ctl" stop -m fast -w -t 60 >/dev/null 2>&1 || echo "postgres-test-server: stop failed" >&2
    fi
    rm -rf "$dir"
}
