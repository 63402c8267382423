#!/usr/bin/env bash
# The benchmark suite: every figure beside its peer, measured in the same run on the same
# machine, printed as one Markdown table and appended to BENCHMARKS.md.
#
#   scripts/bench-suite.sh           # the full suite, appends to BENCHMARKS.md
#   scripts/bench-suite.sh --quick   # a smoke run (short measurements), prints only
#
# - cached sale reads and queue polls with wrk (64 and 256 connections) against nginx
#   serving a static file of the same bytes;
# - single-SKU reservations/s: the inventory engine against the naive design on a
#   throwaway PostgreSQL, and against Redis with a Lua check-and-decrement (redis-benchmark);
# - the crowd end to end (flashsale crowd): oversell, undersell, fairness, p99 per endpoint,
#   admissions per second; 20,000 shoppers on SQLite, and 100,000 on SQLite and on
#   PostgreSQL (issue 15: the flow of admissions, the admitted who find nothing, checkout p99);
# - issue 10's reseller farm (20 addresses, 1,000 joins) against 500 honest shoppers through
#   the shield's default limits: the farm's units, the honest units, the NAT's rate, the
#   honest shoppers' proof-of-work cost;
# - server memory with 100,000 waiting passes (flashsale bench queue).
#
# Installs wrk, nginx and Redis from Debian's packages when missing (PostgreSQL through
# scripts/test-postgres.sh), starts every peer itself on loopback and stops it on exit.
# The release build comes first and is not timed: the first incremental build may take
# 5–15 minutes on a 2-core machine. After it, the suite takes under 15 minutes (about 10
# on the 2-core machine of BENCHMARKS.md, half of it the two 100,000-shopper crowds).
set -euo pipefail
cd "$(dirname "$0")/.."

command_line="$0${*:+ $*}"
quick=false
for arg in "$@"; do
    case "$arg" in
    --quick) quick=true ;;
    *) echo "usage: $0 [--quick]" >&2; exit 2 ;;
    esac
done

# Sizes: the full run follows the issue; --quick only checks that every step works.
if $quick; then
    wrk_seconds=3 warm_seconds=1 engine_attempts=5000 naive_attempts=300 redis_requests=20000
    shoppers=2000 units=100 crowd_max_seconds=90 passes=10000
    big_shoppers=5000 big_units=1000 big_rate=100
else
    wrk_seconds=10 warm_seconds=2 engine_attempts=30000 naive_attempts=2000 redis_requests=200000
    shoppers=20000 units=1000 crowd_max_seconds=300 passes=100000
    big_shoppers=100000 big_units=5000 big_rate=500
fi
admission_rate=200
admin_token=bench-suite-admin-token
# FLASHSALE_BENCH_BINARY: a release binary built elsewhere (the build step is then skipped).
bin=${FLASHSALE_BENCH_BINARY:-.build/release/flashsale}
PATH=$PATH:/usr/sbin:/sbin

log() { echo "== $*" >&2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# The peers come from Debian's packages, so that their versions are the distribution's.
install_peers() {
    local missing=()
    command -v wrk >/dev/null || missing+=(wrk)
    command -v nginx >/dev/null || missing+=(nginx)
    command -v redis-server >/dev/null || missing+=(redis-server)
    command -v redis-benchmark >/dev/null || missing+=(redis-tools)
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]} from Debian's packages"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
    fi
}

# --- processes: each started in its own session, so that stopping it stops its children
started=()
start_process() { # LOGFILE COMMAND... → sets last_pid
    local logfile=$1
    shift
    setsid "$@" >"$logfile" 2>&1 &
    last_pid=$!
    started+=("$last_pid")
}

stop_process() {
    kill -TERM -- "-$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

cleanup() {
    local pid
    for pid in "${started[@]}"; do stop_process "$pid"; done
    [ -d "$work/pg" ] && scripts/test-postgres.sh stop "$work/pg" 2>/dev/null
    [ -d "$work/pg-crowd" ] && scripts/test-postgres.sh stop "$work/pg-crowd" 2>/dev/null
    rm -rf "$work"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_for_http() { # URL
    for _ in $(seq 200); do
        curl -sf -o /dev/null "$1" && return 0
        sleep 0.1
    done
    echo "nothing answered at $1" >&2
    return 1
}

# --- numbers and table rows
int() { printf '%.0f' "$1" | sed ':a; s/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/; ta'; }
percent() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f%%", 100 * a / b }'; }
times() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f×", a / b }'; }
holds() { awk "BEGIN { exit !($1) }"; } # an awk condition, e.g. holds "3 >= 2"
met() { if "$@"; then echo yes; else echo "**no**"; fi; } # met COMMAND...

table=""
row() { # figure ours peer peer-version ratio target met
    table+=$(printf '| %s | %s | %s | %s | %s | %s | %s |' "$@")$'\n'
}

json_get() { # FILE PYTHON-EXPRESSION-ON-d
    python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# --- HTTP: our cached reads and polls against nginx, same wrk settings, same bytes
wrk_measure() { # CONNECTIONS URL [HEADER] → "requests/s p99-ms errors"
    local connections=$1 url=$2
    shift 2
    local headers=()
    [ $# -gt 0 ] && headers=(-H "$1")
    wrk -t2 -c"$connections" -d"${warm_seconds}s" "${headers[@]}" "$url" >/dev/null
    wrk -t2 -c"$connections" -d"${wrk_seconds}s" --latency "${headers[@]}" "$url" | awk '
        /Requests\/sec:/ { rps = $2 }
        $1 == "99%" { v = $2; p99 = v ~ /us$/ ? v / 1000 : v ~ /ms$/ ? v + 0 : v * 1000 }
        /Non-2xx/ { errors += $NF }
        /Socket errors/ { n = split($0, f, /[^0-9]+/); for (i = 1; i <= n; i++) errors += f[i] }
        END { printf "%.0f %.2f %d\n", rps, p99, errors }'
}

start_server() { # NAME [DATABASE-URL] → sets server_pid, server_url
    local port
    port=$(free_port)
    start_process "$work/$1.log" "$bin" serve --port "$port" --database "${2:-sqlite:$work/$1.sqlite}" \
        --admin-token "$admin_token" --secret bench-suite-secret --log-level warning \
        --join-limit 1000000/1000000 --request-limit 1000000/1000000 --checkout-limit 1000000/1000000 \
        --max-connections-per-client 4096
    # (the load comes from one loopback address; the shield's limits have their own runs:
    # scripts/attack-suite.sh)
    server_pid=$last_pid
    server_url=http://127.0.0.1:$port
    wait_for_http "$server_url/readyz" || { tail "$work/$1.log" >&2; return 1; }
}

admin_post() { # PATH JSON
    curl -sf -X POST -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' \
        -d "$2" "$server_url$1"
}

# One unit and one admission per second: the first shopper is admitted at once and takes
# the only admission the stock allows, so the second one's pass keeps waiting, which is
# what almost every poll of a flash sale carries.
measure_http() {
    log "HTTP: cached sale reads and queue polls (wrk, ${wrk_seconds} s per run)"
    start_server http
    local sale id pass
    sale=$(admin_post /api/v1/admin/sales "{\"sku\": \"SUITE-HTTP\", \"name\": \"Benchmark suite\",
        \"price_cents\": 1000, \"currency\": \"USD\", \"quantity\": 1, \"admission_rate_per_second\": 1,
        \"starts_at\": \"$(date -u -d '-1 sec' +%FT%TZ)\", \"ends_at\": \"$(date -u -d '+1 hour' +%FT%TZ)\",
        \"reservation_ttl_seconds\": 3600}")
    id=$(jq -r .id <<<"$sale")
    curl -sf -X POST "$server_url/api/v1/sales/$id/queue" >/dev/null
    pass=$(curl -sf -X POST "$server_url/api/v1/sales/$id/queue" | jq -r .pass)
    curl -sf "$server_url/api/v1/sales/$id" >"$work/sale.json"
    sale_bytes=$(wc -c <"$work/sale.json")

    local c
    for c in 64 256; do
        read -r "read_rps[c]" "read_p99[c]" "read_errors[c]" <<<"$(wrk_measure $c "$server_url/api/v1/sales/$id")"
        read -r "poll_rps[c]" "poll_p99[c]" "poll_errors[c]" \
            <<<"$(wrk_measure $c "$server_url/api/v1/sales/$id/queue" "X-Queue-Pass: $pass")"
    done
    poll_status=$(curl -sf -H "X-Queue-Pass: $pass" "$server_url/api/v1/sales/$id/queue" | jq -r .status)
    stop_process "$server_pid"

    start_nginx
    for c in 64 256; do
        read -r "nginx_rps[c]" "nginx_p99[c]" "nginx_errors[c]" <<<"$(wrk_measure $c "$nginx_url/sale.json")"
    done
    stop_process "$nginx_pid"
}

# Its own prefix, config and port; 2 workers like our 2 cores; keep-alive connections are
# never closed by nginx (its default closes one every 1,000 requests, which Hummingbird
# does not), so both sides serve the same wrk connections throughout.
start_nginx() {
    local dir=$work/nginx port
    port=$(free_port)
    mkdir -p "$dir/www" "$dir/tmp"
    cp "$work/sale.json" "$dir/www/sale.json"
    cat >"$dir/nginx.conf" <<EOF
$([ "$(id -u)" = 0 ] && echo "user root;")
worker_processes 2;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    types { application/json json; }
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    open_file_cache max=16;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    server {
        listen 127.0.0.1:$port;
        root $dir/www;
    }
}
EOF
    start_process "$dir/stderr.log" nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log"
    nginx_pid=$last_pid
    nginx_url=http://127.0.0.1:$port
    wait_for_http "$nginx_url/sale.json" || { cat "$dir/error.log" >&2; return 1; }
}

http_rows() {
    local peer="nginx $nginx_version (wrk $wrk_version)" c
    for c in 64 256; do
        row "cached sale read, $c conns (req/s)" "$(int "${read_rps[c]}")" "$(int "${nginx_rps[c]}")" "$peer" \
            "$(percent "${read_rps[c]}" "${nginx_rps[c]}")" "≥ 70%" "$(met holds "${read_rps[c]} >= 0.7 * ${nginx_rps[c]}")"
        row "queue poll, $c conns (req/s)" "$(int "${poll_rps[c]}")" "$(int "${nginx_rps[c]}")" "$peer" \
            "$(percent "${poll_rps[c]}" "${nginx_rps[c]}")" "≥ 50%" "$(met holds "${poll_rps[c]} >= 0.5 * ${nginx_rps[c]}")"
    done
    for c in 64 256; do
        local target=— met=—
        [ $c = 256 ] && target="< 25 ms"
        [ $c = 256 ] && met=$(met holds "${read_p99[c]} < 25")
        row "cached sale read, $c conns (p99)" "${read_p99[c]} ms" "${nginx_p99[c]} ms" "$peer" — "$target" "$met"
        [ $c = 256 ] && met=$(met holds "${poll_p99[c]} < 25")
        row "queue poll, $c conns (p99)" "${poll_p99[c]} ms" "${nginx_p99[c]} ms" "$peer" — "$target" "$met"
    done
    local errors=$((read_errors[64] + read_errors[256] + poll_errors[64] + poll_errors[256]))
    local peer_errors=$((nginx_errors[64] + nginx_errors[256]))
    row "wrk errors (non-2xx, socket)" "$errors" "$peer_errors" "$peer" — 0 "$(met holds "$errors == 0")"
}

# --- reservations on one SKU: engine against naive on PostgreSQL, and against Redis
measure_engine() {
    log "engine vs naive on a throwaway PostgreSQL"
    mkdir -p "$work/pg"
    local pg out c
    pg=$(scripts/test-postgres.sh start "$work/pg")
    postgres_version=$(psql "$pg" -Atc 'SHOW server_version' | cut -d' ' -f1)
    for c in 64 256; do
        out=$("$bin" bench engine --database "$pg" --attempts "$engine_attempts" \
            --naive-attempts "$naive_attempts" --concurrency $c 2>>"$work/engine.log")
        naive_rate[c]=$(sed -n 's|^naive .* = \([0-9]*\) reservations/s.*|\1|p' <<<"$out")
        engine_rate[c]=$(sed -n 's|^engine .* = \([0-9]*\) reservations/s.*|\1|p' <<<"$out")
    done
    scripts/test-postgres.sh stop "$work/pg"
}

# The design many shops use: the stock in Redis, a Lua script that checks and decrements
# atomically. No persistence: Redis answers before anything reaches a disk, whereas every
# reservation of the engine is committed with fsync.
measure_redis() {
    log "Redis: Lua check-and-decrement with redis-benchmark"
    local port sha redis_pid
    port=$(free_port)
    mkdir -p "$work/redis"
    start_process "$work/redis/log" redis-server --port "$port" --bind 127.0.0.1 --save '' \
        --appendonly no --dir "$work/redis"
    redis_pid=$last_pid
    for _ in $(seq 100); do redis-cli -p "$port" PING >/dev/null 2>&1 && break; sleep 0.1; done
    sha=$(redis-cli -p "$port" SCRIPT LOAD "local stock = tonumber(redis.call('GET', KEYS[1]) or '0')
        if stock >= tonumber(ARGV[1]) then return redis.call('DECRBY', KEYS[1], ARGV[1]) end
        return -1")
    # Enough stock that no run sells out: every call takes the decrementing path.
    redis-cli -p "$port" SET stock 1000000000 >/dev/null
    redis_rate=$(redis_benchmark "$port" -c 50 -n "$redis_requests" EVALSHA "$sha" 1 stock 1)
    redis_pipelined_rate=$(redis_benchmark "$port" -c 50 -n "$redis_requests" -P 16 EVALSHA "$sha" 1 stock 1)
    redis_decrements=$((1000000000 - $(redis-cli -p "$port" GET stock)))
    stop_process "$redis_pid"
}

redis_benchmark() { # PORT ARGS... → requests/s
    local port=$1
    shift
    redis-benchmark -p "$port" --csv "$@" | awk -F'"' 'NR == 2 { printf "%.0f\n", $4 }'
}

engine_rows() {
    local c
    for c in 64 256; do
        row "single-SKU reservations/s, $c in flight: engine vs naive (PostgreSQL)" \
            "$(int "${engine_rate[c]}")" "$(int "${naive_rate[c]}")" "PostgreSQL $postgres_version" \
            "$(times "${engine_rate[c]}" "${naive_rate[c]}")" "≥ 20,000/s and ≥ 20×" \
            "$(met holds "${engine_rate[c]} >= 20000 && ${engine_rate[c]} >= 20 * ${naive_rate[c]}")"
    done
    row "engine (64 in flight, durable) vs Redis Lua check-and-decrement, 50 clients" \
        "$(int "${engine_rate[64]}")" "$(int "$redis_rate")" "Redis $redis_version" \
        "$(times "${engine_rate[64]}" "$redis_rate")" — —
    row "engine (256 in flight, durable) vs Redis, 50 clients pipelined ×16" \
        "$(int "${engine_rate[256]}")" "$(int "$redis_pipelined_rate")" "Redis $redis_version" \
        "$(times "${engine_rate[256]}" "$redis_pipelined_rate")" — —
}

# --- the crowd end to end, against a server of its own
declare -A crowd_status crowd_title crowd_units crowd_rate
measure_crowd() { # NAME TITLE SHOPPERS UNITS RATE CONNECTIONS [DATABASE-URL]
    local name=$1 count=$3 quantity=$4 rate=$5 connections=$6
    crowd_title[$name]=$2 crowd_units[$name]=$quantity crowd_rate[$name]=$rate
    log "crowd ($2): $count shoppers, $quantity units, admission $rate/s (at most $crowd_max_seconds s)"
    start_server "crowd-$name" "${7:-}"
    crowd_status[$name]=0
    "$bin" crowd --url "$server_url" --admin-token "$admin_token" --shoppers "$count" --quantity "$quantity" \
        --rate "$rate" --connections "$connections" --max-seconds "$crowd_max_seconds" \
        --json "$work/crowd-$name.json" >&2 || crowd_status[$name]=$?
    stop_process "$server_pid"
}

measure_crowds() {
    measure_crowd sqlite "SQLite" "$shoppers" "$units" "$admission_rate" 128
    measure_crowd big-sqlite "SQLite" "$big_shoppers" "$big_units" "$big_rate" 256
    local pg
    pg=$(scripts/test-postgres.sh start "$work/pg-crowd")
    measure_crowd big-postgres "PostgreSQL" "$big_shoppers" "$big_units" "$big_rate" 256 "$pg"
    scripts/test-postgres.sh stop "$work/pg-crowd"
}

crowd_rows() { # NAME FAIRNESS-TARGET(100 or 95) [checkout-targets]
    local name=$1 j=$work/crowd-$1.json title=${crowd_title[$1]} units=${crowd_units[$1]} rate=${crowd_rate[$1]}
    local count
    if [ "${crowd_status[$name]}" = 1 ] || [ ! -f "$j" ]; then
        row "crowd ($title)" "did not run (exit ${crowd_status[$name]})" — — — — "**no**"
        return
    fi
    count=$(json_get "$j" "format(d['shoppers'], ',')")
    local label="crowd, $count shoppers, $title"
    local sold cut_off seconds
    sold=$(json_get "$j" "(d.get('stats') or {}).get('sold', '?')")
    cut_off=$(json_get "$j" "d['outcomes'].get('cut_off', 0)")
    seconds=$(json_get "$j" "round(d['duration_seconds'])")
    row "$label: units sold (admission $rate/s)" \
        "$sold of $units in $seconds s$([ "$cut_off" != 0 ] && echo ", $cut_off shoppers cut off at $crowd_max_seconds s")" \
        — — — "all $units" "$(met [ "$sold" = "$units" ])"
    local check
    for check in oversell undersell; do
        local passed
        passed=$(json_get "$j" "next(c['passed'] for c in d['checks'] if c['name'] == '$check')")
        row "$label: $check check" "$(json_get "$j" "next(c['detail'] for c in d['checks'] if c['name'] == '$check')")" \
            — — — zero "$(met [ "$passed" = True ])"
    done
    local soldout
    soldout=$(json_get "$j" "d['outcomes'].get('sold_out_at_reserve', 0)")
    row "$label: admitted, then told sold out at reservation" "$soldout" — — — "≤ $((units / 10)) (10% of the stock)" \
        "$(met holds "$soldout <= $units / 10")"
    row "$label: fairness (pairs > 1 s apart admitted in arrival order)" \
        "$(json_get "$j" "'%.2f%% (%s of %s pairs inverted)' % (100 * d['fairness']['in_order_share'], format(d['fairness']['inverted'], ','), format(d['fairness']['pairs'], ','))")" \
        — — — "$([ "$2" = 100 ] && echo "100%" || echo "≥ $2%")" "$(met holds "$(json_get "$j" "d['fairness']['in_order_share']") * 100 >= $2")"
    if [ "$(json_get "$j" "d['admission_flow']['windows']")" = 0 ]; then
        row "$label: admissions in each 5 s window while the stock lasts" "no whole window (the stock lasted under 6 s)" — — — — —
    else
        row "$label: admissions in each 5 s window while the stock lasts" \
            "$(json_get "$j" "'%d%%–%d%% of %d/s (%d windows)' % (round(100 * d['admission_flow']['lowest_share']), round(100 * d['admission_flow']['highest_share']), d['admission_rate'], d['admission_flow']['windows'])")" \
            — — — "80%–120%" \
            "$(met holds "$(json_get "$j" "int(0.8 <= d['admission_flow']['lowest_share'] and d['admission_flow']['highest_share'] <= 1.2)") == 1")"
    fi
    row "$label: admissions per second" \
        "\`|$(json_get "$j" "(lambda v, b='▁▂▃▄▅▆▇█': ''.join(' ' if x == 0 else b[min(7, (x * 8 - 1) // max(v))] for x in v))(d['admissions_per_second'][:90])")|\` (peak $(json_get "$j" "max(d['admissions_per_second'] or [0])")/s)" \
        — — — — —
    local reserve pay
    reserve=$(json_get "$j" "next((e['p99_ms'] for e in d['endpoints'] if e['endpoint'] == 'reserve'), 0)")
    pay=$(json_get "$j" "next((e['p99_ms'] for e in d['endpoints'] if e['endpoint'] == 'pay'), 0)")
    if [ "${3:-}" = checkout-targets ]; then
        row "$label: reserve p99, pay p99" "$(printf '%.0f ms, %.0f ms' "$reserve" "$pay")" — — — "≤ 250 ms, ≤ 500 ms" \
            "$(met holds "$reserve <= 250 && $pay <= 500")"
    fi
    row "$label: p99 per endpoint" \
        "$(json_get "$j" "', '.join('%s %.1f ms' % (e['endpoint'], e['p99_ms']) for e in d['endpoints'] if e['requests'])")" \
        — — — — —
    row "$label: errors, 5xx, 429" \
        "$(json_get "$j" "'%d, %d, %d (of %s requests)' % (d['errors'], d['server_errors'], d['too_many_requests'], format(sum(e['requests'] for e in d['endpoints']), ','))")" \
        — — — zero "$(met holds "$(json_get "$j" "d['errors'] + d['server_errors'] + d['too_many_requests']") == 0")"
}

# --- issue 10's reseller farm against honest shoppers, through the shield's default limits
# (every virtual client has its own address through X-Forwarded-For from a trusted loopback)
measure_farm() {
    log "bot farm: 20 addresses, 1,000 joins, against 500 shoppers (50 behind one NAT); 100 units at 25/s"
    local port
    port=$(free_port)
    start_process "$work/farm.log" "$bin" serve --port "$port" --database "sqlite:$work/farm.sqlite" \
        --admin-token "$admin_token" --secret bench-suite-secret --log-level warning --trusted-proxy 127.0.0.1/32
    server_pid=$last_pid
    server_url=http://127.0.0.1:$port
    wait_for_http "$server_url/readyz" || { tail "$work/farm.log" >&2; return 1; }
    farm_status=0
    "$bin" crowd --url "$server_url" --admin-token "$admin_token" --shoppers 500 --nat-shoppers 50 --quantity 100 \
        --rate 25 --forwarded-addresses --farm-addresses 20 --farm-joins 1000 --min-think-seconds 2 --think-seconds 6 \
        --max-seconds "$crowd_max_seconds" --json "$work/farm.json" >&2 || farm_status=$?
    stop_process "$server_pid"
}

farm_rows() {
    local j=$work/farm.json label="bot farm (20 addresses, 1,000 joins) vs 500 shoppers, 100 units"
    if [ "$farm_status" = 1 ] || [ ! -f "$j" ]; then
        row "$label" "did not run (exit $farm_status)" — — — — "**no**"
        return
    fi
    local farm honest ratio refused
    farm=$(json_get "$j" "d['farm']['units_bought']")
    honest=$(json_get "$j" "d['honest']['units_bought']")
    ratio=$(json_get "$j" "d['honest']['nat_ratio'] or 0")
    refused=$(json_get "$j" "d['honest']['too_many_requests'] + d['honest']['server_errors']")
    row "$label: units the farm bought" "$farm" — — — "≤ 5" "$(met holds "$farm <= 5")"
    row "$label: units honest shoppers bought" "$honest" — — — "≥ 90" "$(met holds "$honest >= 90")"
    row "$label: NAT shoppers' success rate against the others'" \
        "$(json_get "$j" "'%.2f (%.1f%% vs %.1f%%)' % (d['honest']['nat_ratio'] or 0, 100 * d['honest']['nat_success_rate'], 100 * d['honest']['other_success_rate'])")" \
        — — — "≥ 0.6" "$(met holds "$ratio >= 0.6")"
    row "$label: honest 429 and 5xx" "$refused" — — — zero "$(met [ "$refused" = 0 ])"
    row "$label: honest proof of work (hashing, median / p95)" \
        "$(json_get "$j" "'%.0f ms / %.0f ms over %d solves (%s)' % (d['proof_of_work']['hashing_median_ms'], d['proof_of_work']['hashing_p95_ms'], d['proof_of_work']['count'], ', '.join('%s bits×%d' % (b, n) for b, n in sorted(d['proof_of_work']['by_bits'].items(), key=lambda x: int(x[0])))) if d.get('proof_of_work') else 'none asked'")" \
        — — — "< 1 s" "$(met holds "$(json_get "$j" "(d.get('proof_of_work') or {}).get('hashing_p95_ms', 0)") < 1000")"
    row "$label: the farm's challenges, passes" \
        "$(json_get "$j" "'%s; %d of %d passes obtained, %d solved' % (', '.join('%s bits×%d' % (b, n) for b, n in sorted(d['farm']['challenges_by_bits'].items(), key=lambda x: int(x[0]))), d['farm']['passes_obtained'], d['farm']['passes_asked'], d['farm']['challenges_solved'])")" \
        — — — — —
}

# --- waiting room memory: flashsale bench queue spawns its own server and reads its RSS
measure_queue() {
    log "server memory with $passes waiting passes"
    local out
    out=$("$bin" bench queue --passes "$passes" --port "$(free_port)" 2>>"$work/queue.log")
    read -r rss_start rss_end rss_growth <<<"$(sed -n \
        's/^server RSS: \([0-9.]*\) MiB at start, .*, \([0-9.]*\) after [0-9]* polls (growth \([0-9.-]*\) MiB)/\1 \2 \3/p' <<<"$out")"
    queue_polls=$(sed -n 's|.*polls: \([0-9]*\) /s.*|\1|p' <<<"$out")
}

queue_rows() {
    row "server RSS growth with $(int "$passes") waiting passes (joined, then polled)" \
        "$rss_growth MiB ($rss_start → $rss_end MiB; $(int "$queue_polls") polls/s)" — — — "≤ 50 MB" \
        "$(met holds "$rss_growth * 1.048576 <= 50")"
}

print_section() {
    local minutes=$1
    cat <<EOF

## Benchmark suite, $started_at

\`$command_line\`: $(nproc) cores, load average $load_at_start at start, $(uname -r), $(swift --version 2>/dev/null | grep -o 'Swift version [0-9.]*'); $minutes min wall time after the build and any package install.

| figure | ours | peer | peer version | ratio | target | met? |
|---|---|---|---|---|---|---|
$table
- Every peer runs on the same loopback and shares the two cores with its own client (wrk, redis-benchmark), as ours does.
- nginx serves a copy of our sale JSON ($sale_bytes bytes) with \`worker_processes 2\` and the access log off; every poll
  carries one pass that stays \`$poll_status\` (a sale of one unit whose only admission is taken).
- Reservations: the engine and the naive design commit with fsync on PostgreSQL; Redis keeps the stock in memory
  without persistence ($(int "$redis_decrements") decrements counted after its runs).
- Targets: HTTP, crowd and wall time from the suite's issue; the engine's from the foundation issue; memory
  ("flat within 50 MB") from the waiting-room issue.
EOF
}

main() {
    install_peers
    if [ -z "${FLASHSALE_BENCH_BINARY:-}" ]; then
        log "release build (not timed)"
        swift build -c release --product flashsale >&2
    fi

    work=$(mktemp -d /tmp/flashsale-bench-suite.XXXXXX)
    chmod 755 "$work" # PostgreSQL's own user must reach its cluster inside
    trap cleanup EXIT
    trap 'exit 130' INT TERM

    started_at=$(date -u '+%Y-%m-%d %H:%MZ')
    load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
    holds "${load_at_start%% *} < 1" || log "warning: load average $load_at_start: the machine is not quiet"
    nginx_version=$(nginx -v 2>&1 | sed 's|.*nginx/||')
    wrk_version=$(dpkg-query -W -f='${Version}' wrk 2>/dev/null || echo unknown)
    redis_version=$(redis-server --version | sed 's/.* v=\([^ ]*\).*/\1/')
    declare -ga read_rps read_p99 read_errors poll_rps poll_p99 poll_errors nginx_rps nginx_p99 nginx_errors \
        engine_rate naive_rate
    SECONDS=0

    measure_http
    measure_engine
    measure_redis
    measure_crowds
    measure_farm
    measure_queue

    local minutes
    minutes=$(awk -v s=$SECONDS 'BEGIN { printf "%.1f", s / 60 }')
    http_rows
    engine_rows
    crowd_rows sqlite 100
    crowd_rows big-sqlite 95 checkout-targets
    crowd_rows big-postgres 95 checkout-targets
    farm_rows
    queue_rows
    row "suite wall time (build excluded)" "$minutes min" — — — "< 15 min" "$(met holds "$SECONDS < 900")"

    local section
    section=$(print_section "$minutes")
    echo "$section"
    if $quick; then
        log "--quick: not appended to BENCHMARKS.md"
    else
        echo "$section" >>BENCHMARKS.md
        log "appended to BENCHMARKS.md"
    fi
}

main
