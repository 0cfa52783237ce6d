#!/usr/bin/env bash
# Start a throwaway PostgreSQL server on loopback for the ledger tests and print its
# SQLAlchemy URL on stdout (everything else goes to stderr), for example:
#
#   export MATCHMAKER_TEST_PG_URL="$(bash scripts/start_postgres.sh)"
#   .venv/bin/pytest tests/ledger/test_ledger_postgres.py
#   bash scripts/start_postgres.sh stop
#
# * Installs Debian's `postgresql` package when no PostgreSQL server is installed
#   (apt-get update; apt-get install -y postgresql; needs root).
# * Creates a cluster in $MATCHMAKER_PG_DIR (default: $TMPDIR/matchmaker-pg), owned by
#   the `postgres` user when run as root (PostgreSQL refuses to run as root), listening
#   on 127.0.0.1 only, on a free port, with `trust` authentication (loopback only: a
#   test server, never a production one).
# * Creates the database $MATCHMAKER_PG_DB (default: matchmaker_test).
# * Running it again while the server runs prints the same URL (idempotent).
#
# Usage: start_postgres.sh [start|stop|url]   (--start, --stop, --url work too)
set -euo pipefail

ACTION="${1:-start}"
PGDIR="${MATCHMAKER_PG_DIR:-${TMPDIR:-/tmp}/matchmaker-pg}"
DB="${MATCHMAKER_PG_DB:-matchmaker_test}"
DATA="$PGDIR/data"
log() { echo "start_postgres: $*" >&2; }
die() { log "error: $*"; exit 1; }

bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

install_if_missing() {
    local b
    b="$(bindir)"
    if [[ -n "$b" && -x "$b/initdb" && -x "$b/pg_ctl" ]]; then
        return
    fi
    [[ "$(id -u)" == 0 ]] || die "PostgreSQL is not installed; as root run: apt-get update && apt-get install -y postgresql"
    log "installing Debian's postgresql package"
    apt-get update >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql >&2
    b="$(bindir)"
    [[ -n "$b" && -x "$b/initdb" ]] || die "apt-get installed postgresql but no /usr/lib/postgresql/*/bin/initdb was found"
}

# Run a command as the cluster's owner: `postgres` when we are root, else ourselves.
as_owner() {
    if [[ "$(id -u)" == 0 ]]; then
        id postgres >/dev/null 2>&1 || die "user 'postgres' is missing (it comes with Debian's postgresql package)"
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
    local p
    for p in $(seq 54320 54420); do
        if ! port_in_use "$p"; then echo "$p"; return; fi
    done
    die "no free TCP port in 54320-54420 on 127.0.0.1"
}

url() { echo "postgresql+psycopg://postgres@127.0.0.1:$(cat "$PGDIR/port")/$DB"; }

running() { [[ -f "$PGDIR/port" ]] && as_owner "$(bindir)/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

start() {
    install_if_missing
    local b port
    b="$(bindir)"
    mkdir -p "$PGDIR"
    [[ "$(id -u)" == 0 ]] && chown postgres: "$PGDIR"
    chmod 700 "$PGDIR"
    if running; then
        log "already running (data: $DATA)"
    else
        if [[ ! -f "$DATA/PG_VERSION" ]]; then
            log "initdb $DATA"
            as_owner "$b/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --no-locale \
                >>"$PGDIR/initdb.log" 2>&1 || die "initdb failed, see $PGDIR/initdb.log"
        fi
        port="$(free_port)"
        echo "$port" >"$PGDIR/port"
        log "starting PostgreSQL on 127.0.0.1:$port (log: $PGDIR/server.log)"
        # The server's own output goes to its log so that $(start_postgres.sh) returns.
        as_owner "$b/pg_ctl" -D "$DATA" -l "$PGDIR/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $PGDIR" start \
            >>"$PGDIR/pg_ctl.log" 2>&1 </dev/null || die "server did not start, see $PGDIR/server.log"
    fi
    port="$(cat "$PGDIR/port")"
    if ! as_owner "$b/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
            "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
        as_owner "$b/createdb" -h 127.0.0.1 -p "$port" -U postgres "$DB" || die "createdb $DB failed"
    fi
    url
}

stop() {
    local b
    b="$(bindir)"
    if [[ -n "$b" ]] && running; then
        as_owner "$b/pg_ctl" -D "$DATA" -m fast -w stop >&2
    else
        log "not running (data: $DATA)"
    fi
}

case "$ACTION" in
    start | --start) start ;;
    stop | --stop) stop ;;
    url | --url) running || die "not running; start it with: $0 start"; url ;;
    *) die "unknown action '$ACTION' (use start, stop or url)" ;;
esac
