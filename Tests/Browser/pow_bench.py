#!/usr/bin/env python3
"""Measures (and checks) the waiting page's proof-of-work solver in headless Chromium.

    pow_bench.py [--bits 10,12,14,16,18,20] [--runs 15] [--subtle]
    pow_bench.py --check

It takes the two JavaScript strings of Sources/FlashSaleServer/Pages/ProofOfWorkScript.swift
(`worker` and `pageHelper`, composed as Swift composes them), serves a page holding
`pageHelper` from a throwaway HTTP server on 127.0.0.1 (Blob workers and crypto.subtle want
a real, secure origin), and solves challenges with random 60-character prefixes. Every nonce
is checked here with hashlib; a wrong one ends the run with exit status 1.

Benchmark mode prints one JSON line per difficulty: `median_ms`/`p95_ms` are what a page
waits for `solveChallenge` (worker start-up included), `engine_*` are the worker's own
figures for the same prefixes on a worker that stays up, and `hashes_per_s` is the worker's
throughput (all tries / all worker time). `--subtle` adds a line for crypto.subtle.digest.

--check is a quick correctness run for the test suite: bits 8 and 12, 5 runs each, through
solveChallenge, through the worker directly and through the main-thread fallback (Worker
hidden), each answer also compared with the first nonce hashlib finds; plus prefixes of
every length from 0 to 130 bytes (and a few non-ASCII ones) at 6 bits, and a page whose
Content-Security-Policy refuses blob: workers. Exit status 1 on any wrong answer.
"""

import argparse
import hashlib
import http.server
import json
import math
import os
import random
import re
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser_check import DevTools  # noqa: E402

SWIFT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Sources",
                     "FlashSaleServer", "Pages", "ProofOfWorkScript.swift")


def js_string(text):
    """ProofOfWorkScript.javaScriptString, in Python."""
    out = ['"']
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif " " <= ch <= "~" and ch != "<":
            out.append(ch)
        else:
            data = ch.encode("utf-16-be")
            for i in range(0, len(data), 2):
                out.append("\\u%04x" % int.from_bytes(data[i:i + 2], "big"))
    out.append('"')
    return "".join(out)


def raw_literal(source, name):
    """The value of `static let NAME = #\"\"\"...\"\"\"#`, indentation stripped as Swift does."""
    match = re.search(r'static let ' + name + r'(?:: String)? = #"""\n(.*?)\n([ ]*)"""#', source, re.S)
    if not match:
        raise SystemExit(f"pow_bench: no raw string literal `{name}` in {SWIFT}")
    body, indent = match.group(1), match.group(2)
    lines = []
    for line in body.split("\n"):
        if line.strip() == "":
            lines.append("")
        elif line.startswith(indent):
            lines.append(line[len(indent):])
        else:
            raise SystemExit(f"pow_bench: `{name}` has a line indented less than its closing delimiter")
    return "\n".join(lines)


def scripts():
    with open(SWIFT, encoding="utf-8") as f:
        source = f.read()
    worker = raw_literal(source, "worker")
    helper = raw_literal(source, "pageHelper")
    if "\\#" in worker:
        raise SystemExit("pow_bench: the worker holds a raw-string escape this script does not expand")
    helper = helper.replace("\\#(worker)", worker).replace("\\#(javaScriptString(worker))", js_string(worker))
    if "\\#" in helper:
        raise SystemExit("pow_bench: pageHelper holds a raw-string escape this script does not expand")
    return worker, helper


# The page: pageHelper, then the measuring functions, which answer JSON strings.
BENCH_JS = r"""
var violations = 0, engine = null, engineWaiting = null, engineProgress = [];
document.addEventListener('securitypolicyviolation', function () { violations++; });
try {
  engine = new Worker(URL.createObjectURL(new Blob([WORKER_SOURCE], {type: 'text/javascript'})));
  engine.onmessage = function (e) {
    if (typeof e.data.progress === 'number') { engineProgress.push(e.data); return; }
    var done = engineWaiting; engineWaiting = null; done(e.data);
  };
} catch (refused) { /* a page whose policy forbids blob: workers */ }
function viaEngine(prefix, bits) {
  return new Promise(function (resolve) {
    engineProgress = [];
    engineWaiting = function (m) { m.progress_messages = engineProgress.length; resolve(JSON.stringify(m)); };
    engine.postMessage({prefix: prefix, bits: bits});
  });
}
function viaHelper(prefix, bits, hideWorker) {
  var saved = window.Worker, calls = [], started = performance.now();
  if (hideWorker) window.Worker = undefined;
  var promise = solveChallenge({algorithm: 'sha256', prefix: prefix, difficulty_bits: bits},
    function (fraction, hashes, expected) { calls.push([fraction, hashes, expected]); });
  if (hideWorker) window.Worker = saved;
  return promise.then(function (nonce) {
    var last = calls[calls.length - 1] || [];
    return JSON.stringify({nonce: nonce, ms: performance.now() - started, hashes: last[1],
                           final_fraction: last[0], progress_calls: calls.length, violations: violations});
  });
}
async function viaSubtle(prefix, bits, batch) {
  var enc = new TextEncoder(), started = performance.now(), n = 0;
  function zero(buf) {
    var b = new Uint8Array(buf), z = 0;
    for (var i = 0; i < b.length; i++) { if (b[i] === 0) { z += 8; continue; } return z + Math.clz32(b[i]) - 24; }
    return z;
  }
  for (;;) {
    var tries = [];
    for (var i = 0; i < batch; i++) tries.push(crypto.subtle.digest('SHA-256', enc.encode(prefix + (n + i))));
    var digests = await Promise.all(tries);
    for (var j = 0; j < batch; j++) {
      if (zero(digests[j]) >= bits) {
        return JSON.stringify({nonce: String(n + j), hashes: n + batch, ms: performance.now() - started});
      }
    }
    n += batch;
  }
}
"""


class Page:
    def __init__(self, worker, helper, policy=None):
        html = ("<!doctype html><meta charset=utf-8><title>pow bench</title>\n<script>\n" + helper +
                "\n</script>\n<script>\nvar WORKER_SOURCE = " + js_string(worker) + ";\n" + BENCH_JS +
                "</script>\n").encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200 if self.path == "/" else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(html)))
                if policy:
                    self.send_header("Content-Security-Policy", policy)
                self.end_headers()
                self.wfile.write(html)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.tools = DevTools()
        self.version = self.tools.send("Browser.getVersion").get("product", "?")
        target = self.tools.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.tools.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.tools.send("Page.navigate", {"url": "http://127.0.0.1:%d/" % self.server.server_address[1]}, self.session)
        deadline = time.time() + 30
        while self.evaluate("typeof solveChallenge + ' ' + typeof viaEngine") != "function function":
            if time.time() > deadline:
                raise SystemExit("pow_bench: the page never defined solveChallenge")
            time.sleep(0.1)

    def evaluate(self, expression, timeout=15):
        reply = self.tools.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                     "returnByValue": True}, self.session, timeout=timeout)
        if "exceptionDetails" in reply:
            raise SystemExit("pow_bench: page error: " + json.dumps(reply["exceptionDetails"])[:2000])
        return reply["result"].get("value")

    def call(self, function, *args, timeout=300):
        return json.loads(self.evaluate(function + "(" + ", ".join(json.dumps(a) for a in args) + ")", timeout))

    def close(self):
        self.tools.close()
        self.server.shutdown()


def zero_bits(data):
    value = int.from_bytes(hashlib.sha256(data).digest(), "big")
    return 256 - value.bit_length()


def verify(prefix, bits, answer, how, first=False):
    nonce = answer.get("nonce")
    if not isinstance(nonce, str) or not re.fullmatch(r"0|[1-9][0-9]*", nonce):
        fail(f"{how}: bits {bits}, prefix {prefix!r}: not a decimal nonce: {answer!r}")
    if zero_bits((prefix + nonce).encode()) < bits:
        fail(f"{how}: bits {bits}, prefix {prefix!r}: WRONG nonce {nonce} "
             f"(sha256 has {zero_bits((prefix + nonce).encode())} leading zero bits)")
    if first:
        smallest = next(n for n in range(int(nonce) + 1) if zero_bits((prefix + str(n)).encode()) >= bits)
        if str(smallest) != nonce:
            fail(f"{how}: bits {bits}, prefix {prefix!r}: answered {nonce}, the first answer is {smallest}")
        if answer.get("hashes") is not None and answer["hashes"] != smallest + 1:
            fail(f"{how}: bits {bits}: reported {answer['hashes']} hashes for nonce {nonce}")
    return nonce


def fail(message):
    print("pow_bench: FAIL: " + message, file=sys.stderr)
    sys.exit(1)


def random_prefix(rng, length=60):
    return "".join(chr(rng.randint(0x20, 0x7e)) for _ in range(length))


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(len(ordered) * fraction) - 1)] if ordered else None


def check(page, worker, helper, rng):
    for name, text in (("worker", worker), ("pageHelper", helper)):
        for bad in ("{{", "}}", "</", "<!--"):
            if bad in text:
                fail(f"{name} holds {bad!r}: unsafe in a Mustache template's <script>")
    solved = 0
    for bits in (8, 12):
        for _ in range(5):
            prefix = random_prefix(rng)
            helper_answer = page.call("viaHelper", prefix, bits, False)
            verify(prefix, bits, helper_answer, "solveChallenge", first=True)
            if helper_answer["final_fraction"] != 1:
                fail(f"solveChallenge: last progress call was {helper_answer['final_fraction']}, not 1")
            verify(prefix, bits, page.call("viaEngine", prefix, bits), "worker", first=True)
            verify(prefix, bits, page.call("viaHelper", prefix, bits, True), "main-thread fallback", first=True)
            solved += 3
    prefixes = [random_prefix(rng, n) for n in range(131)]
    prefixes += ["h\u00e9llo w\u00f6rld \u2713 \U0001F600" * 4, "\u00ff" * 61, "x" * 55 + "\u20ac"]
    for prefix in prefixes:
        verify(prefix, 6, page.call("viaEngine", prefix, 6), "worker", first=True)
        solved += 1
    answer = page.call("viaEngine", "x", 99)
    if "error" not in answer:
        fail(f"worker accepted 99 bits: {answer!r}")
    # A page whose Content-Security-Policy refuses blob: workers solves on its own thread.
    strict = Page(worker, helper, policy="script-src 'unsafe-inline'; worker-src 'none'")
    try:
        for _ in range(2):
            prefix = random_prefix(rng)
            answer = strict.call("viaHelper", prefix, 10, False)
            verify(prefix, 10, answer, "solveChallenge under worker-src 'none'", first=True)
            if not answer["violations"]:
                fail("the page with worker-src 'none' started a worker anyway")
            solved += 1
    finally:
        strict.close()
    print(json.dumps({"check": "ok", "solved": solved, "chromium": page.version}))


def bench(page, levels, runs, subtle, rng):
    print(json.dumps({"chromium": page.version, "load_average": os.getloadavg()[0], "cpus": os.cpu_count()}))
    page.call("viaEngine", random_prefix(rng), 16)  # warm the engine worker's JIT
    for bits in levels:
        wall, engine_ms, hashes, progress = [], [], [], []
        for _ in range(runs):
            prefix = random_prefix(rng)
            answer = page.call("viaHelper", prefix, bits, False)
            nonce = verify(prefix, bits, answer, "solveChallenge")
            direct = page.call("viaEngine", prefix, bits)
            if verify(prefix, bits, direct, "worker") != nonce:
                fail(f"bits {bits}: solveChallenge said {nonce}, the worker {direct['nonce']}")
            wall.append(answer["ms"])
            engine_ms.append(direct["ms"])
            hashes.append(direct["hashes"])
            progress.append(answer["progress_calls"])
        print(json.dumps({
            "bits": bits, "runs": runs,
            "median_ms": round(statistics.median(wall), 1), "p95_ms": round(percentile(wall, 0.95), 1),
            "hashes_per_s": round(sum(hashes) / (sum(engine_ms) / 1000)),
            "engine_median_ms": round(statistics.median(engine_ms), 1),
            "engine_p95_ms": round(percentile(engine_ms, 0.95), 1),
            "mean_hashes": round(statistics.mean(hashes)), "expected_hashes": 2 ** bits,
            "median_progress_calls": statistics.median(progress),
        }), flush=True)
    if subtle:
        for batch in (1, 256):
            total_hashes, total_ms = 0, 0
            for _ in range(3):
                prefix = random_prefix(rng)
                answer = page.call("viaSubtle", prefix, 14, batch)
                verify(prefix, 14, answer, "crypto.subtle")
                total_hashes += answer["hashes"]
                total_ms += answer["ms"]
            print(json.dumps({"subtle": True, "bits": 14, "concurrent_digests": batch,
                              "hashes_per_s": round(total_hashes / (total_ms / 1000))}), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bits", default="10,12,14,16,18,20")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--subtle", action="store_true", help="also measure crypto.subtle.digest")
    parser.add_argument("--check", action="store_true", help="quick correctness run; exit 1 on a wrong nonce")
    parser.add_argument("--seed", type=int)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    worker, helper = scripts()
    page = Page(worker, helper)
    try:
        if args.check:
            check(page, worker, helper, rng)
        else:
            bench(page, [int(b) for b in args.bits.split(",")], args.runs, args.subtle, rng)
    finally:
        page.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
