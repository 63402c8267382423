#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on a free loopback port, for tests and benchmarks.
#   scripts/test-postgres.sh start DIR   → prints the postgres:// URL on stdout
#   scripts/test-postgres.sh stop DIR
#   scripts/test-postgres.sh restart DIR [SECONDS]   → pg_ctl restart -m fast, the server
#       kept away SECONDS (default 0) between its stop and its start, on the same port
# Installs PostgreSQL from Debian's packages when initdb/pg_ctl are missing. PostgreSQL
# refuses to run as root, so as root the cluster belongs to the `postgres` user.
set -euo pipefail
cmd=${1:?start|stop}
dir=${2:?cluster directory}

find_bin() {
    if command -v "$1" >/dev/null 2>&1; then command -v "$1"; return; fi
    ls /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n 1
}

install_postgres() {
    if [ -z "$(find_bin initdb)" ] || [ -z "$(find_bin pg_ctl)" ]; then
        echo "installing PostgreSQL from Debian's packages" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq postgresql >&2
    fi
}

as_owner() {
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

server_start() {
    as_owner "$1" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -c port=$2 -c unix_socket_directories=$dir -c max_connections=200" start >&2
}

case "$cmd" in
start)
    install_postgres
    initdb=$(find_bin initdb)
    pg_ctl=$(find_bin pg_ctl)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && { id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres; chown postgres "$dir"; }
    port=$(free_port)
    as_owner "$initdb" -D "$dir/data" -U flashsale --auth=trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1
    server_start "$pg_ctl" "$port"
    as_owner "$(find_bin createdb)" -h 127.0.0.1 -p "$port" -U flashsale flashsale_test
    echo "$port" >"$dir/port"
    echo "postgres://flashsale@127.0.0.1:$port/flashsale_test"
    ;;
stop)
    pg_ctl=$(find_bin pg_ctl)
    [ -d "$dir/data" ] && as_owner "$pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    ;;
restart)
    # What `pg_ctl restart -m fast` does (sessions are ended at once, the server shuts down
    # cleanly and starts again), with an optional pause while it is away.
    pg_ctl=$(find_bin pg_ctl)
    as_owner "$pg_ctl" -D "$dir/data" -m fast -w stop >&2
    sleep "${3:-0}"
    server_start "$pg_ctl" "$(cat "$dir/port")"
    ;;
*)
    echo "usage: $0 start|stop|restart DIR" >&2
    exit 2
    ;;
esac
