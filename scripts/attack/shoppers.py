#!/usr/bin/env python3
"""The honest shoppers of scripts/attack-suite.sh's flood run: --shoppers threads, each a
shopper behind the trusted proxy with an X-Forwarded-For of its own (10.1.x.y), arriving
spread evenly over the first --spread seconds of the run.

Each shopper, on one keep-alive connection of its own (reconnecting when it drops):
reads the sale (GET /api/v1/sales/{id}), joins the waiting room once (POST
/api/v1/sales/{id}/queue; solves a proof-of-work challenge if asked), then polls with its
pass (X-Queue-Pass) no sooner than each answer's poll_after_ms, until it is admitted, the
sale is sold out or ended, or the run (--seconds) ends.

Every request is recorded: status (or the connection error), latency from sending to the
last byte. One JSON object goes to --out (or stdout): requests, statuses, 429s and 5xx
counted apart, p50/p99/max overall and per kind, and how many shoppers were admitted.
Standard library only.
"""

import argparse
import hashlib
import http.client
import json
import sys
import threading
import time
import urllib.parse

from runfolder import emit


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100.0 * len(ordered) + 0.5)) - 1))]


def solve_challenge(prefix, bits):
    target = 1 << (256 - bits)
    nonce = 0
    while int.from_bytes(hashlib.sha256((prefix + str(nonce)).encode()).digest(), "big") >= target:
        nonce += 1
    return str(nonce)


class Run:
    def __init__(self, args):
        url = urllib.parse.urlsplit(args.base)
        self.host, self.port = url.hostname, url.port or 80
        self.args = args
        self.lock = threading.Lock()
        self.records = []  # (kind, status key, latency ms)
        self.outcomes = {}  # final state per shopper
        self.admission_seconds = []
        self.challenges = 0
        self.started = time.monotonic()
        self.deadline = self.started + args.seconds

    def shopper(self, index):
        args = self.args
        arrive = self.started + (index * args.spread / max(1, args.shoppers))
        time.sleep(max(0.0, arrive - time.monotonic()))
        forwarded = f"10.1.{index // 250}.{index % 250 + 1}"
        base_headers = {"X-Forwarded-For": forwarded, "Accept": "application/json"}
        conn = None
        sale = f"/api/v1/sales/{args.sale}"
        queue = sale + "/queue"

        def exchange(kind, method, path, extra=None):
            nonlocal conn
            headers = dict(base_headers, **(extra or {}))
            for attempt in (1, 2):
                if conn is None:
                    conn = http.client.HTTPConnection(self.host, self.port, timeout=args.timeout)
                started = time.monotonic()
                try:
                    conn.request(method, path, body=b"" if method == "POST" else None, headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine) as error:
                    conn.close()
                    conn = None
                    if attempt == 1 and isinstance(error, (http.client.RemoteDisconnected, ConnectionResetError,
                                                           BrokenPipeError)):
                        continue  # a keep-alive connection the server had closed: reconnect once
                    self.record(kind, f"error:{type(error).__name__}", started)
                    return None, None
                except (TimeoutError, OSError, http.client.HTTPException) as error:
                    conn.close()
                    conn = None
                    name = "timeout" if isinstance(error, TimeoutError) else type(error).__name__
                    self.record(kind, f"error:{name}", started)
                    return None, None
                self.record(kind, str(response.status), started)
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
                return response.status, data
            return None, None

        def answer_of(status, data):
            if status != 200:
                return None
            try:
                return json.loads(data)
            except ValueError:
                return None

        outcome = "no_answer"
        try:
            exchange("read", "GET", sale)
            answer = answer_of(*exchange("join", "POST", queue))
            if answer and answer.get("status") == "challenge":
                with self.lock:
                    self.challenges += 1
                challenge = answer.get("challenge") or {}
                nonce = solve_challenge(challenge.get("prefix", ""), int(challenge.get("difficulty_bits", 0)))
                answer = answer_of(*exchange("join", "POST", queue, {"X-Queue-Proof": nonce}))
            joined = time.monotonic()
            while answer is not None:
                state = answer.get("status")
                if state in ("admitted", "sold_out", "ended"):
                    outcome = state
                    if state == "admitted":
                        with self.lock:
                            self.admission_seconds.append(time.monotonic() - joined)
                    break
                wait = max(250, int(answer.get("poll_after_ms") or 1000)) / 1000.0
                if time.monotonic() + wait > self.deadline:
                    outcome = "still_" + str(state)
                    break
                time.sleep(wait)
                answer = answer_of(*exchange("poll", "GET", queue, {"X-Queue-Pass": answer.get("pass", "")}))
        finally:
            if conn is not None:
                conn.close()
            with self.lock:
                self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def record(self, kind, key, started):
        with self.lock:
            self.records.append((kind, key, (time.monotonic() - started) * 1000.0))

    def run(self):
        threads = [threading.Thread(target=self.shopper, args=(i,), daemon=True) for i in range(self.args.shoppers)]
        for thread in threads:
            thread.start()
        next_report = time.monotonic() + 5
        while any(t.is_alive() for t in threads):
            if time.monotonic() > self.deadline + self.args.timeout + 5:
                break
            time.sleep(0.2)
            if time.monotonic() >= next_report:
                next_report += 5
                with self.lock:
                    n, admitted = len(self.records), self.outcomes.get("admitted", 0)
                print(f"   shoppers: {time.monotonic() - self.started:5.1f} s, {n} requests, {admitted} admitted",
                      file=sys.stderr, flush=True)

    def report(self):
        with self.lock:
            records = list(self.records)
        statuses, kinds = {}, {}
        for kind, key, latency in records:
            statuses[key] = statuses.get(key, 0) + 1
            entry = kinds.setdefault(kind, {"requests": 0, "latencies": []})
            entry["requests"] += 1
            entry["latencies"].append(latency)
        latencies = [r[2] for r in records]
        ok = sum(1 for r in records if r[1].startswith("2"))

        def rounded(value):
            return None if value is None else round(value, 1)

        return {
            "shoppers": self.args.shoppers,
            "seconds": self.args.seconds,
            "requests": len(records),
            "ok": ok,
            "rate_limited_429": statuses.get("429", 0),
            "server_errors_5xx": sum(v for k, v in statuses.items() if k.startswith("5")),
            "connection_errors": sum(v for k, v in statuses.items() if k.startswith("error:")),
            "statuses": dict(sorted(statuses.items())),
            "p50_ms": rounded(percentile(latencies, 50)),
            "p99_ms": rounded(percentile(latencies, 99)),
            "max_ms": rounded(max(latencies, default=None)),
            "by_kind": {k: {"requests": v["requests"], "p50_ms": rounded(percentile(v["latencies"], 50)),
                            "p99_ms": rounded(percentile(v["latencies"], 99))} for k, v in sorted(kinds.items())},
            "outcomes": dict(sorted(self.outcomes.items())),
            "admission_wait_p50_s": rounded(percentile(self.admission_seconds, 50)),
            "challenges": self.challenges,
        }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True)
    parser.add_argument("--sale", required=True)
    parser.add_argument("--shoppers", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the run")
    parser.add_argument("--spread", type=float, help="arrivals spread over this many seconds (default 70%% of the run)")
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.spread is None:
        args.spread = 0.7 * args.seconds
    run = Run(args)
    run.run()
    emit(run.report(), args.out)


if __name__ == "__main__":
    main()
