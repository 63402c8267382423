#!/usr/bin/env bash
# Several nodes behind nginx on one PostgreSQL (issue 12), measured on this machine with
# scripts/cluster.sh, printed as one Markdown section (appended to BENCHMARKS.md unless
# --quick):
#
#   scripts/bench-cluster.sh            # 1, 2 and 3 nodes; appends to BENCHMARKS.md
#   scripts/bench-cluster.sh --quick    # smaller runs, prints only
#
# For each node count, a fresh cluster (PostgreSQL, the nodes, nginx):
#   (a) flashsale crowd through nginx: 4,000 shoppers, 400 units, admission 100/s,
#       128 connections: requests/s, admissions/s against the configured rate, fairness,
#       reserve and pay p99, the oversell and undersell checks, how nginx spread the
#       requests over the nodes;
#   (c) flashsale bench http through nginx: every shopper joins (admitted at once: a sale
#       with as many units as shoppers and a huge rate), then reserves: reservations/s.
# Once, on the largest cluster:
#   (b) wrk on a micro-cached sale read through nginx against the same nginx serving the
#       same bytes from a static file (a second server block), and against one node direct.
#
# The load comes from one loopback address, so the nodes run with the per-client limits
# lifted (as scripts/bench-suite.sh does) and nginx exempts 127.0.0.0/8 from its own.
# The binary: FLASHSALE_BIN, else a release build first (not timed). Needs wrk, nginx,
# curl, jq, python3 (installs wrk, nginx and jq from Debian's packages when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

command_line="$0${*:+ $*}"
quick=false
node_counts="1 2 3"
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) quick=true; shift ;;
    --nodes) node_counts=${2:?--nodes needs a list, e.g. "1 3"}; shift 2 ;;
    *) echo "usage: $0 [--quick] [--nodes \"1 2 3\"]" >&2; exit 2 ;;
    esac
done
if $quick; then
    shoppers=1000 quantity=100 wrk_seconds=3 warm_seconds=1 http_shoppers=2000 rounds=2
else
    shoppers=4000 quantity=400 wrk_seconds=5 warm_seconds=1 http_shoppers=20000 rounds=6
fi
rate=100 connections=128
lifted="--join-limit 1000000/1000000 --request-limit 1000000/1000000 --checkout-limit 1000000/1000000 --max-connections-per-client 4096"
PATH=$PATH:/usr/sbin:/sbin

log() { echo "== $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
json_get() { # FILE PYTHON-EXPRESSION-ON-d
    python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
int() { printf '%.0f' "$1" | sed ':a; s/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/; ta'; }

install_tools() {
    local missing=()
    command -v wrk >/dev/null || missing+=(wrk)
    command -v nginx >/dev/null || missing+=(nginx)
    command -v jq >/dev/null || missing+=(jq)
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]} from Debian's packages"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
    fi
}

# --- clusters: each in its own state directory under $work; cleanup takes down any still up
cluster_up() { # NODES [cluster.sh up flags...] → sets cluster_dir, url, token
    local n=$1
    shift
    cluster_dir=$work/cluster-$n
    scripts/cluster.sh up --nodes "$n" --dir "$cluster_dir" --port "$(free_port)" --serve-args "$lifted" \
        --nginx-exempt 127.0.0.0/8 "$@" >"$work/up-$n.txt"
    url=$(sed -n 's/^url=//p' "$cluster_dir/state")
    token=$(sed -n 's/^admin_token=//p' "$cluster_dir/state")
}
cluster_down() { scripts/cluster.sh down --dir "$cluster_dir" 2>>"$work/down.log"; }
cleanup() {
    local d
    for d in "$work"/cluster-*; do [ -f "$d/state" ] && scripts/cluster.sh down --dir "$d" 2>/dev/null; done
    rm -rf "$work"
}

# How nginx spread the upstream requests: "node A n%, node B m%" from its access log.
spread() {
    sleep 1.5 # the access log is flushed every second
    awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^node=/) { n = substr($i, 6); if (n != "-") { c[n]++; t++ } } }
        END { for (n in c) printf "%s %.0f%%\n", n, 100 * c[n] / t }' "$cluster_dir/nginx/logs/access.log" |
        sort | awk '{ printf "%s%s", sep, $2; sep = " / " }'
}

declare -A crowd_status spread_of http_rate http_joins
measure_nodes() { # NODES
    local n=$1 out
    log "$n node(s): crowd, $shoppers shoppers, $quantity units at $rate/s, $connections connections"
    cluster_up "$n"
    crowd_status[$n]=0
    "$bin" crowd --url "$url" --admin-token "$token" --shoppers "$shoppers" --quantity "$quantity" --rate "$rate" \
        --connections "$connections" --json "$work/crowd-$n.json" >"$work/crowd-$n.txt" 2>&1 || crowd_status[$n]=$?
    spread_of[$n]=$(spread)
    log "$n node(s): bench http, $http_shoppers shoppers join and reserve"
    out=$("$bin" bench http --url "$url" --admin-token "$token" --shoppers "$http_shoppers" --concurrency 64 2>&1) ||
        { echo "$out" >&2; out=""; }
    http_joins[$n]=$(sed -n 's|^joins: *\([0-9]*\) /s.*|\1|p' <<<"$out")
    http_rate[$n]=$(sed -n 's|^reservations: *\([0-9]*\) /s.*|\1|p' <<<"$out")
}

wrk_rps() { # URL → requests/s (after a warm-up run); also counts non-2xx into wrk_errors
    wrk -t2 -c64 -d"${warm_seconds}s" "$1" >/dev/null
    local out
    out=$(wrk -t2 -c64 -d"${wrk_seconds}s" "$1")
    wrk_errors=$((wrk_errors + $(awk '/Non-2xx/ { e += $NF } /Socket errors/ { n = split($0, f, /[^0-9]+/); for (i = 1; i <= n; i++) e += f[i] } END { print e + 0 }' <<<"$out")))
    awk '/Requests\/sec:/ { printf "%.0f\n", $2 }' <<<"$out"
}

# The cached read and the static file, in alternating rounds; one node direct for context.
measure_cache() { # NODES
    local n=$1 static_port id node_port
    static_port=$(free_port)
    mkdir -p "$work/www"
    cat >"$work/static.conf" <<EOF
# bench-cluster.sh: the same bytes as the cached sale read, from a file, in the same nginx
# (same workers, same access log).
server {
    listen 127.0.0.1:$static_port;
    root $work/www;
    types { application/json json; }
}
EOF
    log "$n node(s): micro-cached sale read vs a static file (wrk -t2 -c64, ${wrk_seconds} s per round)"
    cluster_up "$n" --nginx-include "$work/static.conf"
    id=$(curl -sf -X POST "$url/api/v1/admin/sales" -H "Authorization: Bearer $token" -d "{
        \"sku\": \"CLUSTER-CACHE\", \"name\": \"Cluster micro-cache\", \"price_cents\": 1000, \"currency\": \"USD\",
        \"quantity\": 1000, \"admission_rate_per_second\": 10, \"reservation_ttl_seconds\": 600,
        \"starts_at\": \"$(date -u -d '-1 sec' +%FT%TZ)\", \"ends_at\": \"$(date -u -d '+1 hour' +%FT%TZ)\"}" | jq -r .id)
    sleep 1.5 # every node's catalog holds the sale
    curl -sf "$url/api/v1/sales/$id" >"$work/www/sale.json"
    sale_bytes=$(wc -c <"$work/www/sale.json")
    cache_header=$(curl -sf -D - -o /dev/null "$url/api/v1/sales/$id" | tr -d '\r' | sed -n 's/^X-Cache-Status: //Ip')
    node_port=$(sed -n 's/^node0_port=//p' "$cluster_dir/state")
    wrk_errors=0
    local round
    cached_rps=() static_rps=()
    for round in $(seq "$rounds"); do
        cached_rps+=("$(wrk_rps "$url/api/v1/sales/$id")")
        static_rps+=("$(wrk_rps "http://127.0.0.1:$static_port/sale.json")")
    done
    direct_rps=$(wrk_rps "http://127.0.0.1:$node_port/api/v1/sales/$id")
    cache_nodes=$n
    cluster_down
}

# --- the section
crowd_row() { # NODES
    local n=$1 j=$work/crowd-$1.json
    if [ ! -f "$j" ]; then
        echo "| $n | crowd did not run (exit ${crowd_status[$n]}; $work/crowd-$n.txt) | | | | | | | ${http_rate[$n]:-—} |"
        return
    fi
    local admissions reserve pay checks sold refused
    admissions=$(json_get "$j" "'peak %d/s; first seconds %s' % (max(d['admissions_per_second'] or [0]), ' '.join(str(x) for x in d['admissions_per_second'][:5]))")
    reserve=$(json_get "$j" "'%.0f' % next((e['p99_ms'] for e in d['endpoints'] if e['endpoint'] == 'reserve'), 0)")
    pay=$(json_get "$j" "'%.0f' % next((e['p99_ms'] for e in d['endpoints'] if e['endpoint'] == 'pay'), 0)")
    sold=$(json_get "$j" "(d.get('stats') or {}).get('sold', '?')")
    checks=$(json_get "$j" "', '.join('%s %s' % (c['name'], 'pass' if c['passed'] else '**FAIL**') for c in d['checks'] if c['name'] in ('oversell', 'undersell'))")
    refused=$(json_get "$j" "'%d / %d / %d' % (d['server_errors'], d['too_many_requests'], d['errors'])")
    printf '| %s | %s | %s (configured %s/s) | %s | %s ms / %s ms | %s of %s; %s | %s | %s | %s |\n' \
        "$n" "$(int "$(json_get "$j" "d['requests_per_second']")")" "$admissions" "$rate" \
        "$(json_get "$j" "'%.2f%%' % (100 * d['fairness']['in_order_share'])")" "$reserve" "$pay" \
        "$sold" "$quantity" "$checks" "$refused" "${spread_of[$n]}" "$(int "${http_rate[$n]:-0}")"
}

ratios() { # the cached/static ratio of each round, then the median, then the overall
    local i out=""
    for i in "${!cached_rps[@]}"; do out+="${cached_rps[i]} ${static_rps[i]} "; done
    python3 -c 'import statistics, sys
v = [float(x) for x in sys.argv[1].split()]
c, s = v[0::2], v[1::2]
r = [a / b for a, b in zip(c, s)]
print("%s; median %.0f%%, overall %.0f%%" % (", ".join("%.0f%%" % (100 * x) for x in r),
      100 * statistics.median(r), 100 * sum(c) / sum(s)))' "$out"
}
list_rps() { local x out=""; for x in "$@"; do out+="${out:+, }$(int "$x")"; done; echo "$out"; }

print_section() {
    local minutes=$1 n
    cat <<EOF

## Several nodes behind nginx (issue 12), $started_at

\`$command_line\`: $(nproc) cores, load average $load_at_start at start; binary \`$bin\` ($binary_note);
nginx $(nginx -v 2>&1 | sed 's|.*nginx/||') with deploy/nginx/flashsale.conf as scripts/cluster.sh renders it; PostgreSQL
$postgres_version from scripts/test-postgres.sh; $minutes min wall time.

(a) and (c): \`flashsale crowd --url NGINX --shoppers $shoppers --quantity $quantity --rate $rate --connections $connections\`,
then \`flashsale bench http --url NGINX --shoppers $(int "$http_shoppers") --concurrency 64\`, on a fresh cluster per row.

| nodes | crowd requests/s | admissions/s | fairness (pairs > 1 s apart in order) | reserve p99 / pay p99 | sold; checks | 5xx / 429 / errors | nginx → nodes | reservations/s (bench http) |
|---|---|---|---|---|---|---|---|---|
$(for n in $node_counts; do crowd_row "$n"; done)

(b) micro-cache, $cache_nodes node(s): \`wrk -t2 -c64 -d${wrk_seconds}s\` on \`GET /api/v1/sales/{id}\` through nginx (\`X-Cache-Status: $cache_header\`
after the first read) against the same nginx serving the same $sale_bytes bytes from a file, $rounds alternating rounds
(each after a ${warm_seconds} s warm-up):

| figure | per round |
|---|---|
| micro-cached sale read through nginx (req/s) | $(list_rps "${cached_rps[@]}") |
| static file, same nginx (req/s) | $(list_rps "${static_rps[@]}") |
| ratio cached / static (target ≥ 90%) | $(ratios) |
| for context: the same read from one node direct, no nginx (req/s) | $(int "$direct_rps") |
| wrk errors (non-2xx, socket) in all of (b) | $wrk_errors |

- One machine: PostgreSQL, every node, nginx and the load generator share its $(nproc) cores (load average
  $(cut -d' ' -f1-3 /proc/loadavg) at the end). More nodes add no CPU here, so the rows measure what nginx and
  several nodes cost and whether they stay correct (no oversell, no undersell, fairness), not how they scale.
- admissions/s: the crowd's admissions in each second from the opening; the sale's rate is $rate/s for the whole
  cluster, so any second well above it (beyond the pass's one-second resolution) means the nodes did not share
  the rate.
- nginx → nodes: the share of upstream requests each node answered (nginx's access log; cache hits excluded).
EOF
}

main() {
    install_tools
    bin=${FLASHSALE_BIN:-}
    if [ -z "$bin" ]; then
        log "release build (not timed)"
        swift build -c release --product flashsale >&2
        bin=$(swift build -c release --show-bin-path)/flashsale
    fi
    export FLASHSALE_BIN=$bin
    binary_note=${FLASHSALE_BIN_NOTE:-built $(date -u -r "$bin" '+%Y-%m-%d %H:%MZ')}

    work=$(mktemp -d /tmp/flashsale-bench-cluster.XXXXXX)
    chmod 755 "$work" # PostgreSQL's own user must reach its cluster inside
    trap cleanup EXIT
    trap 'exit 130' INT TERM

    started_at=$(date -u '+%Y-%m-%d %H:%MZ')
    load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
    postgres_version=$( (ls /usr/lib/postgresql/ 2>/dev/null || true) | sort -V | tail -n 1)
    SECONDS=0
    local n last=""
    for n in $node_counts; do
        measure_nodes "$n"
        cluster_down
        last=$n
    done
    measure_cache "$last"

    local section
    section=$(print_section "$(awk -v s=$SECONDS 'BEGIN { printf "%.1f", s / 60 }')")
    echo "$section"
    if $quick; then
        log "--quick: not appended to BENCHMARKS.md"
    else
        echo "$section" >>BENCHMARKS.md
        log "appended to BENCHMARKS.md"
    fi
}

main
