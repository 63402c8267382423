#!/usr/bin/env bash
# The benchmarks of BENCHMARKS.md, side by side in one run: the inventory engine against
# the naive design on SQLite and on a throwaway PostgreSQL, then reservations over HTTP.
# Release build; not part of CI. Takes a few minutes after the build.
set -euo pipefail
cd "$(dirname "$0")/.."

swift build -c release --product flashsale
bin=.build/release/flashsale

pgdir=$(mktemp -d /tmp/flashsale-bench-pg.XXXXXX)
chmod 755 "$pgdir"
trap 'scripts/test-postgres.sh stop "$pgdir"; rm -rf "$pgdir"' EXIT
pg=$(scripts/test-postgres.sh start "$pgdir")

echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores; $(psql --version 2>/dev/null || true); SQLite $(sqlite3 --version 2>/dev/null | cut -d' ' -f1)"
for concurrency in 64 256; do
    echo "-- engine vs naive, SQLite, $concurrency shoppers in flight"
    "$bin" bench engine --attempts 30000 --naive-attempts 2000 --concurrency "$concurrency"
    echo "-- engine vs naive, PostgreSQL, $concurrency shoppers in flight"
    "$bin" bench engine --database "$pg" --attempts 30000 --naive-attempts 2000 --concurrency "$concurrency" 2>&1 | grep -v "hasn't been called yet"
done
echo "-- HTTP on loopback (in-process server on SQLite, 64 keep-alive connections)"
"$bin" bench http --shoppers 20000 --concurrency 64 2>&1 | grep -v "Waiting on child channel"
