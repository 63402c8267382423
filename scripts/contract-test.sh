#!/usr/bin/env bash
# Contract test: runs schemathesis against a live FlashSale server with docs/openapi.json.
#
#   scripts/contract-test.sh [BASE_URL [ADMIN_TOKEN]] [-- EXTRA_SCHEMATHESIS_RUN_ARGS...]
#
# BASE_URL defaults to $FLASHSALE_URL, then http://127.0.0.1:8080; ADMIN_TOKEN to
# $FLASHSALE_ADMIN_TOKEN (required). The run WRITES to the server (sales, access rules,
# reservations, payments): point it at a throwaway server only, e.g.
#
#   flashsale serve --port 18080 --database sqlite:/tmp/contract.sqlite --admin-token T &
#   scripts/contract-test.sh http://127.0.0.1:18080 T
#
# Checks: not_a_server_error, status_code_conformance, content_type_conformance,
# response_schema_conformance and response_headers_conformance, on every operation of
# the document (admin ones with the token). Every request carries the admin token: on the shop's public routes it only
# exempts the run from the per-client rate limits (docs/openapi.json, adminBearer), so
# the answers are the routes' own rather than 429s.
#
# Before the run a fixture is set up through the API (a live sale, admitted queue passes,
# held reservations, a paid order) and schemathesis draws path ids and passes from it
# part of the time, so that checkout bodies are really read; the rest of the time it
# generates its own values.
#
# Knobs (environment): CONTRACT_MAX_EXAMPLES (100) per operation and phase,
# CONTRACT_SEED (13), CONTRACT_WORKERS (1), CONTRACT_PHASES (examples,coverage,fuzzing,stateful),
# CONTRACT_REPORT_DIR (when set, the JUnit report is kept there),
# CONTRACT_SCHEMA (docs/openapi.json; a path or URL),
# SCHEMATHESIS_VERSION (4.32.5), SCHEMATHESIS_VENV
# (${XDG_CACHE_HOME:-$HOME/.cache}/flashsale/schemathesis-venv; created with pip when missing).
#
# Exit status: 0 when every check passed, non-zero on any failure or error.
set -euo pipefail
cd "$(dirname "$0")/.."

extra=()
positional=()
while [ $# -gt 0 ]; do
    case "$1" in
        --) shift; extra=("$@"); break ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) positional+=("$1"); shift ;;
    esac
done
base_url="${positional[0]:-${FLASHSALE_URL:-http://127.0.0.1:8080}}"
base_url="${base_url%/}"
admin_token="${positional[1]:-${FLASHSALE_ADMIN_TOKEN:-}}"
if [ -z "$admin_token" ]; then
    echo "contract-test: an admin token is required (second argument or FLASHSALE_ADMIN_TOKEN)" >&2
    exit 2
fi
max_examples="${CONTRACT_MAX_EXAMPLES:-100}"
seed="${CONTRACT_SEED:-13}"
workers="${CONTRACT_WORKERS:-1}"
phases="${CONTRACT_PHASES:-examples,coverage,fuzzing,stateful}"
version="${SCHEMATHESIS_VERSION:-4.32.5}"
venv="${SCHEMATHESIS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/flashsale/schemathesis-venv}"
schema="${CONTRACT_SCHEMA:-docs/openapi.json}"
checks="not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance"

# --- schemathesis, in its own virtual environment -------------------------------------
if ! "$venv/bin/st" --version 2>/dev/null | grep -q "version $version\$"; then
    echo "contract-test: installing schemathesis $version into $venv"
    # The first Python 3 that can make a virtual environment (Debian's needs python3-venv).
    python=""
    for candidate in "$(command -v python3 || true)" /usr/bin/python3; do
        if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" -c 'import venv, ensurepip' 2>/dev/null; then
            python="$candidate"
            break
        fi
    done
    if [ -z "$python" ]; then
        echo "contract-test: no python3 that can create a virtual environment (Debian: apt-get install python3-venv)" >&2
        exit 2
    fi
    mkdir -p "$(dirname "$venv")"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
fi
st="$venv/bin/st"
py="$venv/bin/python"

work=$(mktemp -d "${TMPDIR:-/tmp}/flashsale-contract.XXXXXX")
trap 'rm -rf "$work"' EXIT
report_dir="${CONTRACT_REPORT_DIR:-$work/report}"
mkdir -p "$report_dir"
junit="$report_dir/contract-junit.xml"
rm -f "$junit"

# --- the server must be up -------------------------------------------------------------
for _ in $(seq 1 60); do
    if "$py" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + "/readyz", timeout=5)' "$base_url" 2>/dev/null; then
        break
    fi
    sleep 1
done
"$py" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + "/readyz", timeout=5)' "$base_url" 2>/dev/null || {
    echo "contract-test: $base_url/readyz does not answer 200" >&2
    exit 2
}

# --- fixture: a live sale, admitted passes, reservations, orders ------------------------
# Writes the schemathesis configuration (dictionaries bound to path ids and passes).
FIXTURE_URL="$base_url" FIXTURE_TOKEN="$admin_token" "$py" - "$work/schemathesis.toml" <<'PY'
import json, os, sys, time, urllib.error, urllib.request, uuid
from datetime import datetime, timedelta, timezone

base, token, out = os.environ["FIXTURE_URL"], os.environ["FIXTURE_TOKEN"], sys.argv[1]

def call(method, path, body=None, headers=None):
    h = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    h.update(headers or {})
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")

def must(expected, result, what):
    status, body = result
    if status != expected:
        sys.exit(f"contract-test: fixture: {what} answered {status} {body}")
    return body

now = datetime.now(timezone.utc)
fmt = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")
sale = must(201, call("POST", "/api/v1/admin/sales", {
    "sku": f"CONTRACT-{uuid.uuid4().hex[:12]}", "name": "Contract test sale", "price_cents": 1000,
    "currency": "USD", "quantity": 1000, "starts_at": fmt(now - timedelta(seconds=5)),
    "ends_at": fmt(now + timedelta(hours=2)), "per_customer_limit": 1000,
    "reservation_ttl_seconds": 3600, "admission_rate_per_second": 1000}), "creating the fixture sale")
sale_id = sale["id"]

def admitted_pass():
    answer = must(200, call("POST", f"/api/v1/sales/{sale_id}/queue"), "joining the queue")
    for _ in range(100):
        if answer["status"] == "admitted":
            return answer["pass"]
        time.sleep(0.3)
        answer = must(200, call("GET", f"/api/v1/sales/{sale_id}/queue", headers={"X-Queue-Pass": answer["pass"]}), "polling")
    sys.exit(f"contract-test: fixture: a pass was not admitted: {answer}")

def reservation(pass_, email):
    return must(201, call("POST", f"/api/v1/sales/{sale_id}/reservations", {"email": email, "quantity": 1},
                          {"X-Queue-Pass": pass_, "Idempotency-Key": str(uuid.uuid4())}), "reserving")["reservation_id"]

payment = {"card": {"number": "4242424242424242", "exp_month": 12, "exp_year": now.year + 4, "cvc": "123"},
           "shipping": {"name": "Contract", "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"}}
reserve_pass = admitted_pass()          # no reservation yet: the fuzzer's reservations are read
form_pass = admitted_pass()             # the checkout form's pass
to_pay = reservation(admitted_pass(), "pay@example.com")
to_cancel = reservation(admitted_pass(), "cancel@example.com")
paid = reservation(admitted_pass(), "paid@example.com")
order = must(201, call("POST", f"/api/v1/reservations/{paid}/payment", payment, {"Idempotency-Key": str(uuid.uuid4())}), "paying")["order_id"]
# An order of its own for the operator's cancel, so the shopper's order above stays paid.
refundable = must(201, call("POST", f"/api/v1/reservations/{reservation(admitted_pass(), 'refund@example.com')}/payment", payment,
                            {"Idempotency-Key": str(uuid.uuid4())}), "paying")["order_id"]

def q(s):
    return json.dumps(s)

dictionaries = {"sale": [sale_id], "reserve_pass": [reserve_pass], "form_pass": [form_pass],
                "to_pay": [to_pay], "to_cancel": [to_cancel], "order": [order], "refundable": [refundable],
                "accept": ["text/html,application/xhtml+xml;q=0.9,*/*;q=0.8", "application/json", "*/*"]}
bindings = {  # operationId -> {parameter: dictionary}
    "getSale": {"path.id": "sale"}, "joinQueue": {"path.id": "sale"}, "pollQueue": {"path.id": "sale"},
    "createReservation": {"path.id": "sale", "header.X-Queue-Pass": "reserve_pass"},
    "salePage": {"path.id": "sale", "header.Accept": "accept"},
    "checkoutPage": {"path.id": "sale", "header.Accept": "accept"},
    "submitCheckout": {"path.id": "sale", "header.X-Queue-Pass": "form_pass", "header.Accept": "accept"},
    "getAdminSale": {"path.id": "sale"}, "saleStats": {"path.id": "sale"},
    "payReservation": {"path.id": "to_pay"}, "cancelReservation": {"path.id": "to_cancel"},
    "getOrder": {"path.id": "order"},
    "listAdminOrders": {"query.sale_id": "sale"}, "cancelOrder": {"path.id": "refundable"},
}
# An event stream never ends: schemathesis reads 20 events (20 s) of each by default; one
# is enough to check its shape (EventsStreamTests follows it for longer over a socket).
lines = ["# Written by scripts/contract-test.sh for one run.", "max-stream-events = 1", "", "[cache]", "enabled = false", ""]
for name, values in dictionaries.items():
    lines += [f"[dictionaries.{name}]", f"values = [{', '.join(q(v) for v in values)}]", ""]
for op, params in bindings.items():
    lines += ["[[operations]]", f"include-operation-id = {q(op)}"]
    pairs = ", ".join(f"{q(k)} = {{ dictionary = {q(v)}, probability = 0.6 }}" for k, v in params.items())
    lines += [f"parameters = {{ {pairs} }}", ""]
with open(out, "w") as f:
    f.write("\n".join(lines))
print(f"contract-test: fixture sale {sale_id}, reservations {to_pay} (to pay) {to_cancel} (to cancel), "
      f"orders {order} and {refundable} (to cancel)")
PY

# --- the run ---------------------------------------------------------------------------
cmd=("$st" --config-file "$work/schemathesis.toml" run "$schema"
    --url "$base_url"
    --header "Authorization: Bearer $admin_token"
    --checks "$checks"
    --phases "$phases"
    --max-examples "$max_examples"
    --seed "$seed"
    --workers "$workers"
    --generation-database none
    --max-redirects 0
    --request-timeout 30
    --suppress-health-check all
    --no-color
    --report junit --report-junit-path "$junit"
    ${extra[@]+"${extra[@]}"})
printf 'contract-test: schemathesis %s:' "$version"
printf ' %q' "${cmd[@]}" | sed "s/Bearer\\\\ [^ ]*/Bearer\\\\ ***/"
echo
set +e
"${cmd[@]}"
status=$?
set -e
[ -n "${CONTRACT_REPORT_DIR:-}" ] && echo "contract-test: JUnit report $junit"
# One line per operation that failed, the verdict, and last the plain count (operations
# and the stateful run, as schemathesis's JUnit report counts them).
"$py" - "$junit" "$status" "$base_url" "$schema" <<'PY'
import sys, xml.etree.ElementTree as ET
path, status, url, schema = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
passed, failed = 0, []
try:
    for case in ET.parse(path).getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(case.get("name"))
        elif case.find("skipped") is None:
            passed += 1
except (OSError, ET.ParseError):
    print(f"contract-test: schemathesis wrote no report")
for name in failed:
    print(f"contract-test: FAILED {name}")
if status != 0 and not failed:
    failed.append("(schemathesis run)")
if status == 0:
    print(f"contract-test: PASSED: {url} conforms to {schema}")
else:
    print(f"contract-test: FAILED (schemathesis exit {status}): see the failures above")
print(f"contract: {passed} passed, {len(failed)} failed")
PY
exit "$status"
