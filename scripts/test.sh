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
# Suites that measure time or wait on a real provider (crowds against their promises of
# order and rate, the event stream's cadence, a rate change reaching another node, a traced
# payment through a spawned provider, a node killed and PostgreSQL restarted under a crowd,
# whole apps sharing the test database by heartbeats, whose background services would
# take up the payments the store's suites leave pending)
# and the attack runs (real slowhttptest, wrk and 2,000 sockets, which load the machine) run
# after the rest, each group on its own, so that they measure the shop and not the other tests.
timed='CrowdScaleTests|EventsStreamTests|aRateChangedOnOneNodeIsAppliedByTheOther|TracingTests|ClusterFaultTests|SharedAdmissionTests'
swift test --skip-build --skip AttackSuiteTests --skip "$timed" "$@"
swift test --skip-build --filter "$timed" "$@"
swift test --skip-build --filter AttackSuiteTests "$@"
