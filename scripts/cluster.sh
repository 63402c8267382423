#!/usr/bin/env bash
# A throwaway FlashSale cluster on this machine: one PostgreSQL, N `flashsale serve` nodes
# on loopback ports, nginx in front with deploy/nginx/flashsale.conf.
#
#   scripts/cluster.sh up [--nodes N] [--port P] [--dir DIR] [--demo]
#                         [--serve-args "ARGS"] [--nginx-exempt CIDR] [--nginx-include FILE]
#   scripts/cluster.sh status [--dir DIR]
#   scripts/cluster.sh down [--dir DIR]
#
#   --nodes N          flashsale nodes (default 3)
#   --port P           nginx's port on 127.0.0.1 (default 8080, or a free one if 8080 is taken)
#   --dir DIR          state: pids, ports, token, logs, the database (default
#                      ${TMPDIR:-/tmp}/flashsale-cluster); `down` removes it
#   --demo             node 0 runs with --demo (a demo sale opening 30 s after start; one
#                      node only, so that no two nodes create it)
#   --serve-args ARGS  more `flashsale serve` flags for every node (or FLASHSALE_SERVE_ARGS),
#                      e.g. lifted per-client limits for a single-address load generator
#   --nginx-exempt CIDR   a network nginx does not limit (repeatable)
#   --nginx-include FILE  an nginx server block to load beside the shop's (repeatable)
#
# The binary: FLASHSALE_BIN if set; else `swift build -c release --product flashsale` runs
# first (minutes on a cold 2-core machine) and its product is used.
#
# Every node: --database <the PostgreSQL URL> --secret <one shared random secret>
# --admin-token <one random token> --trusted-proxy 127.0.0.1/32 --log-level warning.
# No --node-count: on PostgreSQL the nodes find each other and share the admission rate.
# `down` stops exactly what `up` started, by the pids it recorded.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
PATH=$PATH:/usr/sbin:/sbin

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
}
die() {
    echo "cluster.sh: $*" >&2
    exit 1
}
log() { echo "== $*" >&2; }

[ $# -gt 0 ] || usage
command=$1
shift
case "$command" in up | down | status) ;; -h | --help) usage ;; *) echo "cluster.sh: unknown command: $command" >&2; usage ;; esac

nodes=3 port="" dir=${TMPDIR:-/tmp}/flashsale-cluster demo=false
serve_args=${FLASHSALE_SERVE_ARGS:-}
exempt=() includes=()
while [ $# -gt 0 ]; do
    case "$1" in
    --nodes) nodes=${2:?--nodes needs a number}; shift 2 ;;
    --port) port=${2:?--port needs a number}; shift 2 ;;
    --dir) dir=${2:?--dir needs a directory}; shift 2 ;;
    --demo) demo=true; shift ;;
    --serve-args) serve_args=${2?--serve-args needs a string}; shift 2 ;;
    --nginx-exempt) exempt+=("${2:?--nginx-exempt needs a CIDR}"); shift 2 ;;
    --nginx-include) includes+=("${2:?--nginx-include needs a file}"); shift 2 ;;
    -h | --help) usage ;;
    *) echo "cluster.sh: unknown argument: $1" >&2; usage ;;
    esac
done
[[ $nodes =~ ^[1-9][0-9]*$ ]] || die "--nodes must be a positive number, not '$nodes'"
[ -z "$port" ] || [[ $port =~ ^[1-9][0-9]*$ && $port -lt 65536 ]] || die "--port must be a port number, not '$port'"
mkdir -p "$(dirname "$dir")"
dir=$(cd "$(dirname "$dir")" && pwd)/$(basename "$dir")
state=$dir/state

# --- state: KEY=VALUE lines, read back without sourcing anything
state_set() { echo "$1=$2" >>"$state"; }
state_get() { sed -n "s/^$1=//p" "$state" | tail -n 1; }

# A recorded pid counts only while it is still the process we started (pids are reused).
alive() { # PID WORD: the process runs and its command line holds WORD
    [ -n "$1" ] && [ -r "/proc/$1/cmdline" ] && [[ "$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null)" == *"$2"* ]]
}

stop_pid() { # PID WORD NAME: TERM its process group (setsid made it a leader), then KILL
    local pid=$1 word=$2 name=$3
    alive "$pid" "$word" || return 0
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
        alive "$pid" "$word" || { echo "stopped $name (pid $pid)" >&2; return 0; }
        sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    echo "killed $name (pid $pid): it did not stop within 10 s of SIGTERM" >&2
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
port_free() {
    python3 -c 'import socket, sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
}

http_code() { # URL → its status, or "no answer in 3 s"
    local code
    code=$(curl -s -o /dev/null -m 3 -w '%{http_code}' "$1" || true)
    [ "$code" = 000 ] && code="(no answer in 3 s)"
    echo "$code"
}

wait_for() { # URL NAME LOGFILE PID WORD: until URL answers 200 (60 s), unless the process dies
    for _ in $(seq 600); do
        [ "$(http_code "$1")" = 200 ] && return 0
        alive "$4" "$5" || { tail -n 20 "$3" >&2; die "$2 exited before $1 answered 200 (log: $3)"; }
        sleep 0.1
    done
    tail -n 20 "$3" >&2
    die "$2 did not answer 200 at $1 within 60 s (log: $3)"
}

random_hex() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

down() {
    [ -f "$state" ] || die "nothing is up in $dir (no state file)"
    local i
    stop_pid "$(state_get nginx_pid)" nginx nginx
    for i in $(seq 0 $(($(state_get nodes) - 1))); do
        stop_pid "$(state_get "node${i}_pid")" serve "node $i"
    done
    if [ -d "$dir/pg/data" ]; then
        scripts/test-postgres.sh stop "$dir/pg" 2>/dev/null && echo "stopped PostgreSQL" >&2 || true
    fi
    rm -rf "$dir"
    echo "cluster down; $dir removed" >&2
}

report() { # LABEL PID WORD URL CHECK-NAME CHECK-URL LOGS: one line; fails unless running and 200
    local code
    if alive "$2" "$3"; then
        code=$(http_code "$6")
        echo "$1 pid $2  $4  $5 $code  $7"
        [ "$code" = 200 ]
    else
        echo "$1 pid $2  $4  NOT RUNNING  $7"
        return 1
    fi
}

status() {
    [ -f "$state" ] || { echo "not up ($dir has no state file)"; return 3; }
    local ok=0 i nport url
    url=$(state_get url)
    echo "cluster in $dir: $(state_get nodes) nodes behind $url (binary $(state_get bin))"
    echo "admin token: $(state_get admin_token)"
    local pg_pid
    pg_pid=$(head -n 1 "$dir/pg/data/postmaster.pid" 2>/dev/null || true)
    if alive "$pg_pid" postgres; then
        echo "PostgreSQL  pid $pg_pid  $(state_get database)  running"
    else
        echo "PostgreSQL  $(state_get database)  NOT RUNNING"
        ok=1
    fi
    for i in $(seq 0 $(($(state_get nodes) - 1))); do
        nport=$(state_get "node${i}_port")
        report "node $i     " "$(state_get "node${i}_pid")" serve "http://127.0.0.1:$nport" readyz \
            "http://127.0.0.1:$nport/readyz" "log $dir/nodes/$i.log" || ok=1
    done
    report "nginx      " "$(state_get nginx_pid)" nginx "$url" "readyz through nginx" "$url/readyz" \
        "logs $dir/nginx/logs/" || ok=1
    return $ok
}

up() {
    if [ -f "$state" ]; then
        die "already up in $dir (scripts/cluster.sh status${dir_arg}; scripts/cluster.sh down${dir_arg} first)"
    fi
    [ ! -e "$dir" ] || [ -z "$(ls -A "$dir")" ] || die "$dir exists and is not empty; choose another --dir or remove it"
    command -v nginx >/dev/null || die "nginx is not installed (Debian: apt-get install nginx-light or nginx)"
    command -v curl >/dev/null || die "curl is not installed"
    local include
    for include in "${includes[@]}"; do [ -f "$include" ] || die "--nginx-include: no file $include"; done
    if [ -z "$port" ]; then
        port=8080
        port_free "$port" || { port=$(free_port); log "port 8080 is taken; nginx listens on $port"; }
    else
        port_free "$port" || die "port $port is taken; choose another --port"
    fi

    local bin=${FLASHSALE_BIN:-}
    if [ -z "$bin" ]; then
        log "swift build -c release --product flashsale (set FLASHSALE_BIN to skip)"
        swift build -c release --product flashsale >&2
        bin=$(swift build -c release --show-bin-path)/flashsale
    fi
    [ -x "$bin" ] || die "no executable flashsale at $bin"
    bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

    mkdir -p "$dir/nodes" "$dir/pg"
    chmod 711 "$dir" # PostgreSQL's own user (as root) must reach its cluster inside
    : >"$state"
    chmod 600 "$state"
    state_set nodes 0 # until the nodes are recorded, `down` stops none
    # From here a failure or an interrupt takes down whatever was started.
    trap 'echo "cluster.sh: up failed; stopping what it started" >&2; down' EXIT
    trap 'exit 130' INT TERM

    log "PostgreSQL (scripts/test-postgres.sh start $dir/pg)"
    local database
    database=$(scripts/test-postgres.sh start "$dir/pg")
    state_set database "$database"

    local secret admin_token
    secret=$(random_hex) admin_token=$(random_hex)
    state_set admin_token "$admin_token"
    state_set bin "$bin"
    local extra=()
    [ -n "$serve_args" ] && read -r -a extra <<<"$serve_args"

    log "$nodes flashsale nodes"
    local i nport pid node_args=() nginx_nodes=()
    for i in $(seq 0 $((nodes - 1))); do
        nport=$(free_port)
        node_args=(serve --host 127.0.0.1 --port "$nport" --database "$database" --secret "$secret"
            --admin-token "$admin_token" --trusted-proxy 127.0.0.1/32 --log-level warning
            --mail-drop "$dir/nodes/$i-mail")
        [ "$i" = 0 ] && $demo && node_args+=(--demo)
        setsid "$bin" "${node_args[@]}" "${extra[@]}" >"$dir/nodes/$i.log" 2>&1 </dev/null &
        pid=$!
        state_set "node${i}_pid" "$pid"
        state_set "node${i}_port" "$nport"
        sed -i "s/^nodes=.*/nodes=$((i + 1))/" "$state"
        nginx_nodes+=(--node "127.0.0.1:$nport")
    done
    for i in $(seq 0 $((nodes - 1))); do
        wait_for "http://127.0.0.1:$(state_get "node${i}_port")/readyz" "node $i" "$dir/nodes/$i.log" \
            "$(state_get "node${i}_pid")" serve
    done

    log "nginx on 127.0.0.1:$port"
    local ngx=$dir/nginx user_args=() exempt_args=() cidr
    [ "$(id -u)" = 0 ] && user_args=(--user root) # the workers write $ngx, which root owns
    for cidr in "${exempt[@]}"; do exempt_args+=(--exempt "$cidr"); done
    deploy/nginx/render.sh --prefix "$ngx" --listen "127.0.0.1:$port" "${nginx_nodes[@]}" \
        "${user_args[@]}" "${exempt_args[@]}" >"$dir/nginx.conf"
    for include in "${includes[@]}"; do cp "$include" "$ngx/conf.d/"; done
    nginx -t -q -p "$ngx" -c "$dir/nginx.conf" -e "$ngx/logs/error.log" ||
        die "nginx -t failed on $dir/nginx.conf"
    setsid nginx -p "$ngx" -c "$dir/nginx.conf" -e "$ngx/logs/error.log" -g 'daemon off;' \
        >"$ngx/logs/stderr.log" 2>&1 </dev/null &
    pid=$!
    state_set nginx_pid "$pid"
    state_set url "http://127.0.0.1:$port"
    wait_for "http://127.0.0.1:$port/readyz" nginx "$ngx/logs/error.log" "$pid" nginx
    trap - EXIT INT TERM

    local url=http://127.0.0.1:$port
    cat <<EOF
FlashSale cluster up: $nodes node(s) on one PostgreSQL, behind nginx.
  URL          $url
  admin token  $admin_token
  nodes        $(for i in $(seq 0 $((nodes - 1))); do printf '127.0.0.1:%s ' "$(state_get "node${i}_port")"; done)
  PostgreSQL   $database
  logs         $dir/nodes/<i>.log, $dir/nginx/logs/{access,error}.log
  state        scripts/cluster.sh status${dir_arg} | scripts/cluster.sh down${dir_arg}
Create a sale opening in 30 s:
  curl -s -X POST $url/api/v1/admin/sales -H 'Authorization: Bearer $admin_token' -d '{
    "sku": "CLUSTER-1", "name": "Cluster sale", "price_cents": 12900, "currency": "USD", "quantity": 100,
    "starts_at": "'\$(date -u -d '+30 sec' +%FT%TZ)'", "ends_at": "'\$(date -u -d '+1 hour' +%FT%TZ)'",
    "per_customer_limit": 1, "reservation_ttl_seconds": 600, "admission_rate_per_second": 20}'
EOF
}

dir_arg=""
[ "$dir" = "${TMPDIR:-/tmp}/flashsale-cluster" ] || dir_arg=" --dir $dir"
case "$command" in
up) up ;;
down) down ;;
status) status ;;
esac
