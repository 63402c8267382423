#!/usr/bin/env bash
# Builds and runs every test. Both stores are tested: SQLite always, PostgreSQL at
# FLASHSALE_TEST_POSTGRES_URL, or, when that is unset, on a throwaway cluster this script
# starts and stops itself (pass --sqlite-only to skip PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--sqlite-only" ]; then
    unset FLASHSALE_TEST_POSTGRES_URL
    shift
elif [ -z "${FLASHSALE_TEST_POSTGRES_URL:-}" ]; then
    pgdir=$(mktemp -d /tmp/flashsale-test-pg.XXXXXX)
    chmod 755 "$pgdir"
    trap 'scripts/test-postgres.sh stop "$pgdir"; rm -rf "$pgdir"' EXIT
    FLASHSALE_TEST_POSTGRES_URL=$(scripts/test-postgres.sh start "$pgdir")
    export FLASHSALE_TEST_POSTGRES_URL
fi
echo "PostgreSQL suite: ${FLASHSALE_TEST_POSTGRES_URL:-off}"

# One build of everything, then the tests without relinking.
swift build --build-tests "$@"
# The attack runs (real slowhttptest, wrk and 2,000 sockets) load the machine: they run on
# their own after the rest, so that they measure the shield and not the other tests.
swift test --skip-build --skip AttackSuiteTests "$@"
swift test --skip-build --filter AttackSuiteTests "$@"
