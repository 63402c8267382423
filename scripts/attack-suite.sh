#!/usr/bin/env bash
# The attack suite: the edge shield against slow clients, idle sockets and a request flood,
# each with an honest client measured beside the attacker (docs/ATTACKS.md).
#
#   scripts/attack-suite.sh slow --mode header|body|read [--connections N] [--seconds S] [--path P]
#   scripts/attack-suite.sh idle [--sockets N] [--hold S]
#   scripts/attack-suite.sh flood [--seconds S] [--shoppers N] [--admission-rate R] [--no-flood]
#   scripts/attack-suite.sh all
#   ... [--quick] [--markdown]
#
# Every run starts its own server (a copy of $FLASHSALE_BINARY, else of .build/release or
# .build/debug/flashsale) on 127.0.0.1 with an in-memory database and one live sale, and
# stops everything it started when it ends, fails or is interrupted.
# - slow: slowhttptest (-H slow headers, -B slow body, -X slow read) from 127.0.0.1, N
#   connections (3000) opened within ~10 s, for S seconds (60), while the probe
#   (scripts/attack/probe.py) sends up to 20 shop requests/s (~18 within the per-address
#   limits) from 127.0.0.2; the server's open descriptors are counted before, during and
#   after.
# - idle: scripts/attack/idle_sockets.py opens N (20000) silent connections from 127.0.0.66
#   and holds them S seconds (30); same probe and descriptor counts.
# - flood: the server trusts 127.0.0.0/8 as its proxy; wrk (scripts/attack/flood.lua)
#   floods joins and reads as X-Forwarded-For 198.51.100.7 for S seconds (20) while N (200)
#   honest shoppers (scripts/attack/shoppers.py), each with an address of its own, join and
#   poll; the sale admits R shoppers a second (10, below the shoppers' arrival rate, so that
#   they wait and poll). --no-flood: the same shoppers without wrk (the baseline).
# - all: slow header, body, read, idle, flood, flood --no-flood.
# --quick: small sizes (400 connections / 14 s, 2000 sockets held 8 s, 8 s flood with 40
# shoppers admitted at 4/s).
#
# Prints progress on stderr and one JSON object per run on stdout; with --markdown (always
# with all) also Markdown tables for BENCHMARKS.md after the JSON. Exit status 0 when every
# check passed, 1 when one failed, 2 on a usage error, 3 when a run could not be set up.
# ATTACK_KEEP=1 keeps each run's work folder (server log, raw outputs).
# Needs slowhttptest, wrk, curl and python3 (standard library only); loopback only.
set -euo pipefail
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/.."
export ATTACK_LIB=$PWD/scripts/attack
PATH=$PATH:/usr/sbin:/sbin

attack_dir=$PWD/scripts/attack
admin_token=attack-suite-admin-token
secret=attack-suite-secret
probe_source=127.0.0.2
idle_source=127.0.0.66
flooder_address=198.51.100.7
join_limit=60/60       # the server's defaults, passed explicitly so that the limits in the
request_limit=600/200  # report are the ones in force
fd_slack=10            # "back to idle": within this many descriptors of the idle count
recovery_seconds=60    # ... within this many seconds of the attack's end

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
}

command="" mode="" connections="" seconds="" sockets="" hold="" shoppers="" path_override="" admission_rate=""
flood=true quick=false markdown=false
while [ $# -gt 0 ]; do
    case "$1" in
    slow | idle | flood | all)
        [ -z "$command" ] || usage
        command=$1
        ;;
    --mode | --connections | --seconds | --sockets | --hold | --shoppers | --path | --admission-rate)
        [ $# -ge 2 ] || usage
        case "$1" in
        --mode) mode=$2 ;;
        --connections) connections=$2 ;;
        --seconds) seconds=$2 ;;
        --sockets) sockets=$2 ;;
        --hold) hold=$2 ;;
        --shoppers) shoppers=$2 ;;
        --path) path_override=$2 ;;
        --admission-rate) admission_rate=$2 ;;
        esac
        shift
        ;;
    --no-flood) flood=false ;;
    --quick) quick=true ;;
    --markdown) markdown=true ;;
    -h | --help) usage ;;
    *)
        echo "unknown argument: $1" >&2
        usage
        ;;
    esac
    shift
done
[ -n "$command" ] || usage
for number in "$connections" "$seconds" "$sockets" "$hold" "$shoppers" "$admission_rate"; do
    [[ -z "$number" || "$number" =~ ^[1-9][0-9]*$ ]] || { echo "not a positive integer: $number" >&2; exit 2; }
done

run_name=$command
log() { echo "attack-suite [$run_name] $*" >&2; }
die() {
    log "error: $*"
    exit 3
}

# Markdown tables from JSON lines (one object per run), for BENCHMARKS.md.
render_markdown() { # FILE
    python3 - "$1" <<'PY'
import json, sys

runs = [json.loads(line) for line in open(sys.argv[1]) if line.strip().startswith("{")]

def num(value, digits=0):
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"

def verdict(run):
    if run.get("pass"):
        return "yes"
    failed = [name for name, ok in run.get("checks", {}).items() if not ok]
    return "**no** (" + ", ".join(failed) + ")"

connection_runs = [r for r in runs if r.get("kind") == "connections"]
flood_runs = [r for r in runs if r.get("kind") == "flood"]
if connection_runs:
    print("| run | attack | probe requests | probe ok | probe p50 / p99 / max (ms) "
          "| server fds idle → peak | fds back to idle | shield refusals | pass |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in connection_runs:
        p, fds = r["probe"], r["fds"]
        back = f"{num(fds['seconds_to_return'], 1)} s" if fds["returned"] else f"**not in {fds['waited_seconds']:.0f} s**"
        refusals = ", ".join(f"{k} {v:,}" for k, v in sorted(r.get("refusals", {}).items())) or "none"
        print(f"| {r['run']} | {r['attack']['summary']} | {num(p['requests'])} | {num(p['success_pct'], 2)}% "
              f"| {num(p['p50_ms'], 1)} / {num(p['p99_ms'], 1)} / {num(p['max_ms'], 1)} "
              f"| {fds['idle']} → {fds['peak']} | {back} | {refusals} | {verdict(r)} |")
    if flood_runs:
        print()
if flood_runs:
    print("| run | honest shoppers | honest requests | honest 429 / 5xx / errors | honest p50 / p99 (ms) "
          "| admitted | flooder requests | flooder 2xx joins (limit) | flooder 2xx reads (limit) | pass |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in flood_runs:
        h, f = r["honest"], r.get("flooder")
        if f:
            flooder = (num(f["requests"]), f"{num(f['through']['join'])} ({num(f['allowed']['join'])})",
                       f"{num(f['through']['read'])} ({num(f['allowed']['read'])})")
        else:
            flooder = ("none", "–", "–")
        print(f"| {r['run']} | {h['shoppers']} | {num(h['requests'])} "
              f"| {h['rate_limited_429']} / {h['server_errors_5xx']} / {h['connection_errors']} "
              f"| {num(h['p50_ms'], 1)} / {num(h['p99_ms'], 1)} | {h['outcomes'].get('admitted', 0)} "
              f"| {flooder[0]} | {flooder[1]} | {flooder[2]} | {verdict(r)} |")
PY
}

# ---------------------------------------------------------------------------------------
# all: every run in a process of its own (own server, work folder and trap), then the tables
if [ "$command" = all ]; then
    results=$(mktemp /tmp/flashsale-attack-all.XXXXXX)
    trap 'rm -f "$results"' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    extra=()
    $quick && extra+=(--quick)
    status=0
    for run in "slow --mode header" "slow --mode body" "slow --mode read" "idle" "flood" "flood --no-flood"; do
        code=0
        # shellcheck disable=SC2086 # the run's words are meant to split
        "$self" $run ${extra[@]+"${extra[@]}"} >>"$results" || code=$?
        case $code in
        0) ;;
        1) status=1 ;;
        *)
            log "'$run' could not run (status $code)"
            status=1
            ;;
        esac
    done
    cat "$results"
    echo
    render_markdown "$results"
    exit $status
fi

# ---------------------------------------------------------------------------------------
# sizes
case $command in
slow)
    case $mode in
    header | body | read) ;;
    *) echo "slow needs --mode header, body or read" >&2; exit 2 ;;
    esac
    if $quick; then : "${connections:=400}" "${seconds:=14}"; else : "${connections:=3000}" "${seconds:=60}"; fi
    run_name="slow $mode"
    ;;
idle)
    if $quick; then : "${sockets:=2000}" "${hold:=8}"; else : "${sockets:=20000}" "${hold:=30}"; fi
    ;;
flood)
    if $quick; then : "${seconds:=8}" "${shoppers:=40}" "${admission_rate:=4}"; else : "${seconds:=20}" "${shoppers:=200}" "${admission_rate:=10}"; fi
    $flood || run_name="flood --no-flood"
    ;;
esac

for tool in curl python3; do
    command -v $tool >/dev/null || die "$tool is missing"
done
[ "$command" = slow ] && { command -v slowhttptest >/dev/null || die "slowhttptest is missing (apt-get install slowhttptest)"; }
[ "$command" = flood ] && $flood && { command -v wrk >/dev/null || die "wrk is missing (apt-get install wrk)"; }

# ---------------------------------------------------------------------------------------
# processes: each started in its own session, stopped by its process id (and its group)
work=$(mktemp -d /tmp/flashsale-attack.XXXXXX)
started=()
server_pid=""

start_process() { # LOGFILE COMMAND... → last_pid
    local logfile=$1
    shift
    setsid "$@" >"$logfile" 2>&1 </dev/null &
    last_pid=$!
    started+=("$last_pid")
}

# True while PID is still the session leader we started (not a reused process id).
ours() { [ -r "/proc/$1/stat" ] && [ "$(cut -d' ' -f6 "/proc/$1/stat" 2>/dev/null)" = "$1" ]; }

stop_process() { # PID [SIGNAL]
    local pid=$1 signal=${2:-TERM} i
    if ours "$pid"; then
        kill -"$signal" -- "-$pid" 2>/dev/null || true
        for i in $(seq 50); do
            ours "$pid" || break
            sleep 0.1
        done
        ours "$pid" && kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local status=$? pid
    trap - EXIT INT TERM
    for pid in ${started[@]+"${started[@]}"}; do stop_process "$pid"; done
    if [ "${ATTACK_KEEP:-}" = 1 ]; then
        log "work folder kept: $work"
    else
        rm -rf "$work"
    fi
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now() { date +%s.%N; }
mark() { # NAME: the time of an event, and the kernel's TCP counters then
    echo "$1 $(now)" >>"$work/events"
    cp /proc/net/netstat "$work/netstat.$1" 2>/dev/null || true
    cp /proc/loadavg "$work/loadavg.$1" 2>/dev/null || true
}

# ---------------------------------------------------------------------------------------
# the server
binary=${FLASHSALE_BINARY:-}
if [ -z "$binary" ]; then
    for candidate in .build/release/flashsale .build/debug/flashsale; do
        [ -x "$candidate" ] && { binary=$candidate; break; }
    done
fi
[ -n "$binary" ] && [ -x "$binary" ] || die "no flashsale binary: build one, or set FLASHSALE_BINARY"
cp "$binary" "$work/flashsale" # a rebuild in place cannot change the binary under a run
bin=$work/flashsale

start_server() { # EXTRA-FLAGS...
    start_process "$work/server.log" "$bin" serve --host 127.0.0.1 --port 0 --database sqlite::memory: \
        --admin-token "$admin_token" --secret "$secret" --join-limit "$join_limit" --request-limit "$request_limit" "$@" \
        ${ATTACK_SERVE_ARGS:-} # extra `flashsale serve` flags, e.g. ATTACK_SERVE_ARGS="--listen-backlog 256"
    server_pid=$last_pid
    server_port=""
    local i
    # Waits for the ready line; 300 s only guards against a hung binary on a starved machine.
    for i in $(seq 3000); do
        server_port=$(sed -n 's|.*listening on http://[^ ]*:\([0-9][0-9]*\).*|\1|p' "$work/server.log" | head -1)
        [ -n "$server_port" ] && break
        ours "$server_pid" || { tail -20 "$work/server.log" >&2; die "the server exited before listening"; }
        sleep 0.1
    done
    [ -n "$server_port" ] || die "the server did not log 'listening on' within 300 s"
    server_url=http://127.0.0.1:$server_port
    for i in $(seq 600); do
        curl -sf -m 2 -o /dev/null "$server_url/readyz" && break
        sleep 0.1
    done
    curl -sf -m 2 -o /dev/null "$server_url/readyz" || die "$server_url/readyz is not 200"
    log "server pid $server_pid on $server_url ($binary$([ "$#" -gt 0 ] && echo " $*"))"
}

create_sale() { # QUANTITY ADMISSION-RATE → sale_id
    local body
    body=$(printf '{"sku": "ATK-%s", "name": "Attack suite", "price_cents": 100, "currency": "USD",
        "quantity": %d, "starts_at": "%s", "ends_at": "%s", "per_customer_limit": 1,
        "reservation_ttl_seconds": 600, "admission_rate_per_second": %d}' \
        "$$-$RANDOM" "$1" "$(date -u -d '-5 sec' +%FT%TZ)" "$(date -u -d '+1 hour' +%FT%TZ)" "$2")
    sale_id=$(curl -sf -m 10 -X POST -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' \
        -d "$body" "$server_url/api/v1/admin/sales" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])') ||
        die "could not create the sale"
    log "sale $sale_id: $1 units, admission $2/s"
}

fd_count() { ls -U "/proc/$server_pid/fd" 2>/dev/null | wc -l; }

start_fd_sampler() { # every 0.5 s: "EPOCH COUNT" into $work/fds.txt
    start_process "$work/fds.txt" bash -c \
        'while [ -d "/proc/$1" ]; do echo "$(date +%s.%N) $(ls -U "/proc/$1/fd" 2>/dev/null | wc -l)"; sleep 0.5; done' \
        fd-sampler "$server_pid"
}

measure_idle_fds() { # the median of five counts over 2 s → idle_fds
    local samples=() i
    for i in 1 2 3 4 5; do
        samples+=("$(fd_count)")
        sleep 0.5
    done
    idle_fds=$(printf '%s\n' "${samples[@]}" | sort -n | sed -n 3p)
    log "server descriptors idle: $idle_fds"
}

start_probe() { # SECONDS
    start_process "$work/probe.log" python3 "$attack_dir/probe.py" --base "$server_url" --sale "$sale_id" \
        --source "$probe_source" --seconds "$1" --out "$work/probe.json"
    probe_pid=$last_pid
}

stop_probe() {
    ours "$probe_pid" && kill -TERM "$probe_pid" 2>/dev/null || true
    wait "$probe_pid" 2>/dev/null || true
    [ -s "$work/probe.json" ] || { tail "$work/probe.log" >&2; die "the probe wrote no report"; }
}

# After the attack: count every 2 s until back within fd_slack of idle, or recovery_seconds.
wait_fds_back() {
    local end started_at count
    started_at=$(awk '$1 == "attack_end" { print $2 }' "$work/events")
    end=$(awk -v s="$started_at" -v r="$recovery_seconds" 'BEGIN { printf "%d", s + r }')
    while :; do
        count=$(fd_count)
        if [ "$count" -le $((idle_fds + fd_slack)) ]; then
            log "descriptors back to $count (idle $idle_fds)"
            break
        fi
        if [ "$(date +%s)" -ge "$end" ]; then
            log "descriptors still at $count after ${recovery_seconds} s (idle $idle_fds)"
            break
        fi
        log "descriptors after the attack: $count (idle $idle_fds)"
        sleep 2
    done
    sleep 1 # one more sample in fds.txt after the return
}

collect_server_state() {
    curl -s -m 10 "$server_url/metrics" >"$work/metrics.txt" 2>/dev/null || true
    if ours "$server_pid"; then
        server_alive=true
    else
        server_alive=false
        local code=0
        wait "$server_pid" 2>/dev/null || code=$?
        echo "$code" >"$work/server.exit"
        log "the server is gone (exit status $code); the end of its log:"
        tail -20 "$work/server.log" >&2
    fi
}

probe_progress() { tail -1 "$work/probe.log" 2>/dev/null | sed 's/^ *//' || true; }

# ---------------------------------------------------------------------------------------
# slow: slowhttptest against the server, the probe from another address
run_slow() {
    start_server
    create_sale 100000 50
    start_fd_sampler
    measure_idle_fds

    local flag path rate extra=()
    rate=$(((connections + 9) / 10))
    [ $rate -ge 50 ] || rate=50
    case $mode in
    header)
        flag=-H path=/api/v1/sales
        ;;
    body)
        flag=-B path=/api/v1/sales/$sale_id/queue
        extra=(-t POST -s 8192 -f application/json)
        ;;
    read)
        # 10 pipelined requests per connection (slowhttptest's maximum), read 32 bytes a
        # second through a receive window of 1-512 bytes
        flag=-X path=/api/v1/sales
        extra=(-k 10 -n 1 -w 1 -y 512 -z 32)
        ;;
    esac
    [ -n "$path_override" ] && path=${path_override//\{id\}/$sale_id}
    attack_args=("$flag" -c "$connections" -r "$rate" -l "$seconds" -i 5 -p 3 -g -o "$work/slowhttptest"
        ${extra[@]+"${extra[@]}"} -u "$server_url$path")
    log "slowhttptest ${attack_args[*]}"

    start_probe $((seconds + 120))
    mark attack_start
    start_process "$work/slowhttptest.out" stdbuf -oL slowhttptest "${attack_args[@]}"
    local attack_pid=$last_pid started_at elapsed=0 status
    started_at=$(date +%s)
    while ours "$attack_pid"; do
        sleep 1
        elapsed=$(($(date +%s) - started_at))
        if [ $((elapsed % 5)) = 0 ]; then
            status=$(sed 's/\x1b\[[0-9;]*m//g' "$work/slowhttptest.out" |
                awk '/^pending:/ { p = $2 } /^connected:/ { c = $2 } /^closed:/ { d = $2 } END { printf "slowhttptest connected %s closed %s pending %s", c, d, p }')
            log "${elapsed} s: server fds $(fd_count) | $status | $(probe_progress)"
        fi
        if [ $elapsed -gt $((seconds + 30)) ]; then
            log "slowhttptest still running after $elapsed s: stopping it"
            stop_process "$attack_pid" INT
        fi
    done
    wait "$attack_pid" 2>/dev/null || true
    mark attack_end
    log "slowhttptest ended after $(($(date +%s) - started_at)) s; server fds $(fd_count)"
    stop_probe
    wait_fds_back
    collect_server_state
    summarize_connections slow
}

# ---------------------------------------------------------------------------------------
# idle: silent sockets from one address, the probe from another
run_idle() {
    start_server
    create_sale 100000 50
    start_fd_sampler
    measure_idle_fds
    start_probe $((hold + 300))
    mark attack_start
    log "idle_sockets.py: $sockets sockets from $idle_source, held $hold s"
    start_process "$work/idle.log" python3 "$attack_dir/idle_sockets.py" --port "$server_port" \
        --source "$idle_source" --sockets "$sockets" --hold "$hold" --out "$work/idle.json"
    local attack_pid=$last_pid started_at elapsed=0
    started_at=$(date +%s)
    while ours "$attack_pid"; do
        sleep 1
        elapsed=$(($(date +%s) - started_at))
        [ $((elapsed % 5)) = 0 ] && log "${elapsed} s: server fds $(fd_count) | $(tail -1 "$work/idle.log" | sed 's/^ *//') | $(probe_progress)"
        if [ $elapsed -gt $((hold + 240)) ]; then
            log "idle_sockets.py still running after $elapsed s: stopping it"
            stop_process "$attack_pid"
        fi
    done
    wait "$attack_pid" 2>/dev/null || true
    mark attack_end
    log "sockets released after $(($(date +%s) - started_at)) s; server fds $(fd_count)"
    stop_probe
    wait_fds_back
    collect_server_state
    [ -s "$work/idle.json" ] || { cat "$work/idle.log" >&2; die "idle_sockets.py wrote no report"; }
    summarize_connections idle
}

# The JSON report of a slow or idle run, from the files in $work.
summarize_connections() { # slow|idle
    python3 - "$work" "$1" "$run_name" "$mode" "$idle_fds" "$fd_slack" "$recovery_seconds" "$server_alive" \
        "$quick" "$binary" "${connections:-0}" "${seconds:-0}" "${attack_args[*]:-}" <<'PY'
import json, os, re, sys

sys.path.insert(0, os.environ["ATTACK_LIB"])
from runfolder import RunFolder

(work, kind, run, mode, idle, slack, recovery, alive, quick, binary, connections, seconds, attack_args) = sys.argv[1:]
idle, slack, recovery = int(idle), int(slack), float(recovery)
alive = alive == "true"

folder = RunFolder(work)
read = folder.read

kernel_counters, machine = folder.kernel_counters, folder.machine


events = dict(line.split() for line in read("events").splitlines() if line.strip())
start, end = float(events["attack_start"]), float(events["attack_end"])
samples = []
for line in read("fds.txt").splitlines():
    parts = line.split()
    if len(parts) == 2:
        samples.append((float(parts[0]), int(parts[1])))

during = [n for t, n in samples if start <= t <= end]
# the server may shed the attacker's connections before the attacker stops: when, after the peak
peak_at = next((t for t, n in samples if start <= t <= end and n == max(during)), None) if during else None
idle_again = next((t - start for t, n in samples if peak_at is not None and peak_at <= t <= end and n <= idle + slack), None)
after = [(t - end, n) for t, n in samples if t >= end]
returned_at = next((t for t, n in after if n <= idle + slack), None)
every_two = []
for t, n in after:
    if not every_two or t >= every_two[-1][0] + 2:
        every_two.append((round(t, 1), n))
    if returned_at is not None and t > returned_at + 2:
        break
fds = {
    "idle": idle,
    "peak": max(during, default=None),
    "at_attack_end": after[0][1] if after else None,
    "idle_again_during_attack_at_s": None if idle_again is None else round(idle_again, 1),
    "returned": returned_at is not None and returned_at <= recovery,
    "seconds_to_return": None if returned_at is None else round(max(0.0, returned_at), 1),
    "waited_seconds": round(after[-1][0], 1) if after else 0.0,
    "threshold": idle + slack,
    "after": every_two,
}

refusals = folder.refusals()

log = read("server.log")
levels = {}
problems = []
for line in log.splitlines():
    level = re.match(r"^\S+ (trace|debug|info|notice|warning|error|critical) ", line)
    name = level.group(1) if level else "other"
    levels[name] = levels.get(name, 0) + 1
    if name in ("error", "critical") or "Fatal error" in line or "crashed" in line:
        problems.append(line[:300])
exit_text = read("server.exit").strip()
server = {"alive": alive, "exit_status": int(exit_text) if exit_text else None, "log_lines": levels,
          "problems": problems[-10:]}

probe = json.loads(read("probe.json") or "{}")
report = {"run": run, "kind": "connections", "quick": quick == "true", "binary": binary}

if kind == "slow":
    text = re.sub(r"\x1b\[[0-9;]*m", "", read("slowhttptest.out"))
    final = {}
    for block in re.finditer(r"slow HTTP test status on (\d+)\w* second:(.*?)service available:\s*(\w+)", text, re.S):
        final = {"second": int(block.group(1)), "service_available": block.group(3)}
        for name, value in re.findall(r"^(initializing|pending|connected|error|closed):\s*(\d+)", block.group(2), re.M):
            final[name] = int(value)
        final["opened"] = sum(final.get(name, 0) for name in ("pending", "connected", "error", "closed"))
    exit_status = re.search(r"Exit status:\s*(.*)", text)
    ended = re.search(r"Test ended on (\d+)", text)
    max_connected = 0
    last_row = None
    for row in read("slowhttptest.csv").splitlines()[1:]:
        cells = row.split(",")
        if len(cells) >= 4 and all(cell.isdigit() for cell in cells[:4]):
            max_connected = max(max_connected, int(cells[3]))
            last_row = [int(cell) for cell in cells[:4]]
    # the CSV (one row per second with a change) may be newer than the last status block
    if last_row and last_row[0] > final.get("second", -1):
        final.update(second=last_row[0], closed=last_row[1], pending=last_row[2], connected=last_row[3])
        final["opened"] = sum(final.get(name, 0) for name in ("pending", "connected", "error", "closed"))
    flag = {"header": "-H", "body": "-B", "read": "-X"}[mode]
    report["attack"] = {
        "tool": "slowhttptest", "mode": flag, "connections": int(connections), "seconds": int(seconds),
        "arguments": attack_args.replace(work, "$WORK"),
        "ran_seconds": round(end - start, 1),
        "ended_on_second": int(ended.group(1)) if ended else None,
        "exit_status": exit_status.group(1).strip() if exit_status else None,
        "max_connected": max_connected,
        "final": final,
        "summary": f"slowhttptest {flag} -c {connections}, {end - start:.0f} s",
    }
else:
    idle_report = json.loads(read("idle.json") or "{}")
    report["attack"] = dict(idle_report, tool="idle_sockets.py", ran_seconds=round(end - start, 1),
                            summary=f"{idle_report.get('requested')} idle sockets, {end - start:.0f} s")

report["probe"] = probe
report["fds"] = fds
report["refusals"] = refusals
report["kernel"] = kernel_counters()
report["machine"] = machine()
report["server"] = server
checks = {
    "probe_success_pct>=99": probe.get("success_pct", 0) >= 99.0,
    "probe_p99_ms<500": probe.get("p99_ms") is not None and probe["p99_ms"] < 500,
    "fds_back_within_60s": fds["returned"],
    "server_alive": alive,
}
report["checks"] = checks
report["pass"] = all(checks.values())
print(json.dumps(report))
PY
}

# ---------------------------------------------------------------------------------------
# flood: wrk through the trusted proxy as one address, honest shoppers as many
run_flood() {
    start_server --trusted-proxy 127.0.0.0/8
    create_sale 1000000 "$admission_rate"
    log "shoppers.py: $shoppers shoppers over $seconds s$($flood && echo ", wrk -t1 -c64 as $flooder_address")"
    start_process "$work/shoppers.log" python3 "$attack_dir/shoppers.py" --base "$server_url" --sale "$sale_id" \
        --shoppers "$shoppers" --seconds "$seconds" --out "$work/shoppers.json"
    local shoppers_pid=$last_pid wrk_pid="" started_at elapsed
    mark attack_start
    if $flood; then
        start_process "$work/wrk.out" wrk -t1 -c64 -d"${seconds}s" --timeout 5s --latency \
            -s "$attack_dir/flood.lua" "$server_url" -- "$sale_id" "$flooder_address"
        wrk_pid=$last_pid
    fi
    started_at=$(date +%s)
    while ours "$shoppers_pid" || { [ -n "$wrk_pid" ] && ours "$wrk_pid"; }; do
        sleep 1
        elapsed=$(($(date +%s) - started_at))
        [ $((elapsed % 5)) = 0 ] && log "${elapsed} s: $(tail -1 "$work/shoppers.log" | sed 's/^ *//')$([ -n "$wrk_pid" ] && ours "$wrk_pid" && echo " | wrk running")"
        if [ $elapsed -gt $((seconds + 60)) ]; then
            log "still running after $elapsed s: stopping"
            stop_process "$shoppers_pid"
            [ -n "$wrk_pid" ] && stop_process "$wrk_pid"
        fi
    done
    wait "$shoppers_pid" 2>/dev/null || true
    [ -n "$wrk_pid" ] && { wait "$wrk_pid" 2>/dev/null || true; }
    mark attack_end
    collect_server_state
    [ -s "$work/shoppers.json" ] || { cat "$work/shoppers.log" >&2; die "shoppers.py wrote no report"; }
    if $flood && ! grep -q '^FLOOD_COUNTS ' "$work/wrk.out"; then
        cat "$work/wrk.out" >&2
        die "wrk printed no counts"
    fi
    python3 - "$work" "$run_name" "$flood" "$join_limit" "$request_limit" "$seconds" "$server_alive" "$quick" "$binary" \
        "$admission_rate" <<'PY'
import json, os, re, sys

sys.path.insert(0, os.environ["ATTACK_LIB"])
from runfolder import RunFolder

work, run, flood, join_limit, request_limit, seconds, alive, quick, binary, admission_rate = sys.argv[1:]
flood, alive = flood == "true", alive == "true"

folder = RunFolder(work)
read = folder.read

honest = json.loads(read("shoppers.json"))
refusals = folder.refusals()
kernel_counters, machine = folder.kernel_counters, folder.machine


report = {"run": run, "kind": "flood", "quick": quick == "true", "binary": binary, "seconds": int(seconds),
          "admission_rate_per_second": int(admission_rate), "honest": honest, "refusals": refusals,
          "kernel": kernel_counters(), "machine": machine()}
checks = {
    "honest_429==0": honest["rate_limited_429"] == 0,
    "honest_5xx==0": honest["server_errors_5xx"] == 0,
    "honest_p99_ms<250": honest["p99_ms"] is not None and honest["p99_ms"] < 250,
    "honest_connection_errors==0": honest["connection_errors"] == 0,
}

def policy(text):
    per_minute, burst = (int(x) for x in text.split("/"))
    return per_minute, burst

def milliseconds(text):
    value = float(re.match(r"[\d.]+", text).group())
    return value / 1000 if text.endswith("us") else value * 1000 if text.endswith("s") and not text.endswith("ms") else value

if flood:
    text = read("wrk.out")
    counts = json.loads(re.search(r"^FLOOD_COUNTS (.*)$", text, re.M).group(1))
    duration = counts["duration_s"]
    answers = counts["answers"]
    through = {"join": 0, "read": 0, "other": 0}
    by_status = {}
    for key, n in answers.items():
        kind, status = key.split(":")
        by_status[status] = by_status.get(status, 0) + n
        if status.startswith("2"):
            through[kind if kind in through else "other"] += n
    allowed = {}
    for kind, text_policy in (("join", join_limit), ("read", request_limit)):
        per_minute, burst = policy(text_policy)
        # the bucket starts full; one second of slack for the two clocks
        allowed[kind] = int(burst + per_minute / 60.0 * (duration + 1))
    latency = {}
    for percent, value in re.findall(r"^\s+(50|99)%\s+(\S+)", text, re.M):
        latency[f"p{percent}_ms"] = round(milliseconds(value), 2)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    report["flooder"] = {
        "tool": "wrk -t1 -c64", "address": "198.51.100.7", "duration_s": round(duration, 2),
        "requests": sum(answers.values()), "sent": counts["sent"], "requests_per_second": float(rps.group(1)) if rps else None,
        "by_status": dict(sorted(by_status.items())), "answers": answers, "through": through,
        "limits": {"join": join_limit, "read": request_limit}, "allowed": allowed,
        "socket_errors": counts["socket_errors"], **latency,
    }
    checks["flooder_joins_2xx<=limit"] = through["join"] <= allowed["join"]
    checks["flooder_reads_2xx<=limit"] = through["read"] <= allowed["read"]
else:
    report["flooder"] = None
checks["server_alive"] = alive
exit_text = read("server.exit").strip()
problems = [line[:300] for line in read("server.log").splitlines()
            if re.match(r"^\S+ (error|critical) ", line) or "Fatal error" in line or "crashed" in line]
report["server"] = {"alive": alive, "exit_status": int(exit_text) if exit_text else None, "problems": problems[-10:]}
report["checks"] = checks
report["pass"] = all(checks.values())
print(json.dumps(report))
PY
}

# ---------------------------------------------------------------------------------------
case $command in
slow) run_slow >"$work/result.json" ;;
idle) run_idle >"$work/result.json" ;;
flood) run_flood >"$work/result.json" ;;
esac
cat "$work/result.json"
if $markdown; then
    echo
    render_markdown "$work/result.json"
fi
verdict=$(python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print("pass" if r["pass"] else "FAIL " + ", ".join(k for k, v in r["checks"].items() if not v))' "$work/result.json")
log "$verdict"
[ "$verdict" = pass ]
