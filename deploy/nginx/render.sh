#!/usr/bin/env bash
# Renders deploy/nginx/flashsale.conf for N FlashSale nodes on stdout.
#
#   deploy/nginx/render.sh --prefix DIR --listen ADDR --node HOST:PORT [--node HOST:PORT ...]
#                          [--exempt CIDR ...] [--user USER] [--template FILE]
#
#   --prefix DIR     where nginx keeps its pid file, logs/, tmp/, cache/ and reads conf.d/*.conf
#                    (created with those subdirectories if missing)
#   --listen ADDR    listen address: PORT, HOST:PORT or [IPv6]:PORT
#   --node HOST:PORT a flashsale node (repeat per node)
#   --exempt CIDR    a network nginx does not limit (repeatable; e.g. a load generator)
#   --user USER      the workers' user when the master runs as root (default: none;
#                    scripts run as root get `root` so the workers can write DIR)
#
# Example (three machines behind one nginx):
#   deploy/nginx/render.sh --prefix /var/lib/flashsale-nginx --listen 80 --user www-data \
#       --node 10.0.0.11:8080 --node 10.0.0.12:8080 --node 10.0.0.13:8080 >/etc/nginx/nginx.conf
set -euo pipefail

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
}

template=$(dirname "$0")/flashsale.conf
prefix="" listen="" user=""
nodes=() exempt=()
while [ $# -gt 0 ]; do
    case "$1" in
    --prefix) prefix=${2:?--prefix needs a directory}; shift 2 ;;
    --listen) listen=${2:?--listen needs an address}; shift 2 ;;
    --node) nodes+=("${2:?--node needs HOST:PORT}"); shift 2 ;;
    --exempt) exempt+=("${2:?--exempt needs a CIDR}"); shift 2 ;;
    --user) user=${2:?--user needs a user name}; shift 2 ;;
    --template) template=${2:?--template needs a file}; shift 2 ;;
    -h | --help) usage ;;
    *) echo "render.sh: unknown argument: $1" >&2; usage ;;
    esac
done
[ -n "$prefix" ] || { echo "render.sh: --prefix is required" >&2; exit 2; }
[ -n "$listen" ] || { echo "render.sh: --listen is required" >&2; exit 2; }
[ ${#nodes[@]} -gt 0 ] || { echo "render.sh: at least one --node is required" >&2; exit 2; }
case "$prefix" in /*) ;; *) echo "render.sh: --prefix must be an absolute path" >&2; exit 2 ;; esac
case "$prefix" in *[[:space:]\;\{\}\'\"]*) echo "render.sh: --prefix must not contain spaces, quotes, ; { }" >&2; exit 2 ;; esac

mkdir -p "$prefix/logs" "$prefix/tmp" "$prefix/cache" "$prefix/conf.d"

node_lines="" exempt_lines="" user_line=""
for node in "${nodes[@]}"; do
    # A node that fails once is skipped for 3 s (nginx open source has no active checks;
    # the next request after that tries it again).
    node_lines+="server $node max_fails=1 fail_timeout=3s;"$'\n        '
done
for cidr in "${exempt[@]}"; do
    exempt_lines+="$cidr 1;"$'\n        '
done
[ -n "$user" ] && user_line="user $user;"

conf=$(<"$template")
conf=${conf//@@PREFIX@@/$prefix}
conf=${conf//@@LISTEN@@/$listen}
conf=${conf//@@NODES@@/${node_lines%$'\n        '}}
conf=${conf//@@EXEMPT@@/${exempt_lines%$'\n        '}}
conf=${conf//@@USER@@/$user_line}
printf '%s\n' "$conf"
