#!/usr/bin/env python3
"""The honest probe of scripts/attack-suite.sh: a trickle of real shop requests from a
source address of its own while an attack runs, recording whether each succeeded and how
long it took.

Every request opens a new TCP connection bound to --source (default 127.0.0.2), so that a
probe request also proves that a *new* client can still connect, and is closed after its
answer. The mix stays inside the server's default per-address limits, so that a refusal
means the attack (not the probe itself) got in the way:

- reads: GET /api/v1/sales/{id}, --read-rate per second on average (default 8, in bursts
  of up to 20; the request limit is 600/min = 10/s per address, with a burst of 200);
- joins: POST /api/v1/sales/{id}/queue without a pass, from a bucket of 40 joins refilled
  at --join-rate per second (default 0.9; the join limit is 60/min with a burst of 60);
- polls: GET /api/v1/sales/{id}/queue with X-Queue-Pass, each pass polled no sooner than
  the poll_after_ms of its previous answer (so never a legitimate 429); a pass is polled
  until its admission ends, at most --max-passes passes at a time.

The scheduler ticks --rate times a second (default 20) and each tick sends the most
urgent request that fits: a poll that is due, else a join, else a read, else nothing.
Latency is measured from the connect to the last byte of the answer; a request that fails
(connection refused or reset, --timeout exceeded, non-2xx) is a failure, and its latency
(up to the timeout) still counts in the percentiles.

Runs for --seconds or until SIGTERM/SIGINT, then writes one JSON object to --out (or
stdout). Progress goes to stderr every 5 s. Python 3.11 standard library only.
"""

import argparse
import concurrent.futures
import errno
import hashlib
import ipaddress
import http.client
import json
import signal
import sys
import threading
import time
import urllib.parse

from runfolder import emit


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(p / 100.0 * len(ordered) + 0.5)) - 1))
    return ordered[index]


def solve_challenge(prefix, bits):
    """sha256(prefix + nonce) must start with `bits` zero bits."""
    target = 1 << (256 - bits)
    nonce = 0
    while True:
        digest = hashlib.sha256((prefix + str(nonce)).encode()).digest()
        if int.from_bytes(digest, "big") < target:
            return str(nonce)
        nonce += 1


class Bucket:
    def __init__(self, rate, burst):
        self.rate, self.burst = rate, burst
        self.tokens, self.at = burst, time.monotonic()

    def take(self, now):
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class Probe:
    def __init__(self, args):
        url = urllib.parse.urlsplit(args.base)
        self.host, self.port = url.hostname, url.port or 80
        self.args = args
        self.sale_path = f"/api/v1/sales/{args.sale}"
        self.queue_path = f"/api/v1/sales/{args.sale}/queue"
        self.lock = threading.Lock()
        self.records = []  # (t, kind, ok, status_key, latency_ms)
        self.passes = {}  # pass id -> {"pass": token, "due": monotonic, "busy": bool}
        self.next_pass_id = 0
        self.challenges = 0
        base = ipaddress.ip_address(args.source)
        self.join_sources = [str(base + k) for k in range(max(1, args.join_sources))]
        self.next_join = 0
        self.failures = []  # first few failures, for the report
        self.stop = threading.Event()
        self.started = time.monotonic()
        self.connect_seconds = threading.local()  # the connect time of this thread's last request
        self.connects = []  # ms

    # --- one HTTP exchange on a fresh connection from the probe's source address
    def exchange(self, method, path, headers, source=None):
        """→ (status, body, connect seconds)"""
        conn = http.client.HTTPConnection(
            self.host, self.port, timeout=self.args.timeout, source_address=(source or self.args.source, 0))
        try:
            began = time.monotonic()
            conn.connect()
            self.connect_seconds.value = time.monotonic() - began
            headers = dict(headers)
            headers.setdefault("Connection", "close")
            headers.setdefault("Accept", "application/json")
            headers.setdefault("User-Agent", "flashsale-attack-probe/1")
            body = b"" if method == "POST" else None
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            return response.status, data
        finally:
            conn.close()

    def record(self, kind, started, status=None, error=None):
        latency = (time.monotonic() - started) * 1000.0
        ok = status is not None and 200 <= status < 300
        key = str(status) if status is not None else f"error:{error}"
        with self.lock:
            self.records.append((started - self.started, kind, ok, key, latency))
            if not ok and len(self.failures) < 20:
                self.failures.append({"t": round(started - self.started, 2), "kind": kind,
                                      "result": key, "latency_ms": round(latency, 1)})
        return ok

    def request(self, kind, method, path, headers, source=None):
        started = time.monotonic()
        self.connect_seconds.value = None
        try:
            status, data = self.exchange(method, path, headers, source)
        except TimeoutError:
            self.record(kind, started, error="timeout")
            return None, None
        except (ConnectionError, OSError, http.client.HTTPException) as error:
            name = type(error).__name__
            if isinstance(error, OSError) and error.errno is not None and not isinstance(error, ConnectionError):
                name = errno.errorcode.get(error.errno, name)
            self.record(kind, started, error=name)
            return None, None
        self.record(kind, started, status=status)
        if self.connect_seconds.value is not None:
            with self.lock:
                self.connects.append(self.connect_seconds.value * 1000.0)
        return status, data

    # --- the three kinds
    def read(self):
        self.request("read", "GET", self.sale_path, {})

    def join(self):
        # Joins come from --join-sources consecutive addresses, as a crowd's shoppers do:
        # one address joining about once a second for minutes is what the bot defence
        # prices up (README, "Bots and resellers").
        with self.lock:
            self.next_join += 1
            source = self.join_sources[self.next_join % len(self.join_sources)]
        status, data = self.request("join", "POST", self.queue_path, {}, source)
        answer = self.parse(status, data)
        if answer and answer.get("status") == "challenge":
            with self.lock:
                self.challenges += 1
            challenge = answer.get("challenge") or {}
            nonce = solve_challenge(challenge.get("prefix", ""), int(challenge.get("difficulty_bits", 0)))
            # The challenge travels as the pass: it goes back with its proof.
            status, data = self.request(
                "join", "POST", self.queue_path, {"X-Queue-Proof": nonce, "X-Queue-Pass": answer.get("pass", "")}, source)
            answer = self.parse(status, data)
        self.keep(None, answer)

    def poll(self, pass_id, token):
        status, data = self.request("poll", "GET", self.queue_path, {"X-Queue-Pass": token})
        self.keep(pass_id, self.parse(status, data), failed=status is None or not 200 <= status < 300)

    @staticmethod
    def parse(status, data):
        if status is None or not 200 <= status < 300:
            return None
        try:
            return json.loads(data)
        except ValueError:
            return None

    def keep(self, pass_id, answer, failed=False):
        """Remembers (or forgets) a pass after a join or poll answer."""
        now = time.monotonic()
        with self.lock:
            if pass_id is not None:
                entry = self.passes.get(pass_id)
                if entry is None:
                    return
                entry["busy"] = False
                if failed:
                    entry["due"] = now + 1.0  # try again, not sooner than a second later
                    return
            if not answer or not answer.get("pass"):
                if pass_id is not None:
                    self.passes.pop(pass_id, None)
                return
            if answer.get("status") in ("sold_out", "ended"):
                self.passes.pop(pass_id, None)
                return
            polled = pass_id is not None
            if not polled:
                if len(self.passes) >= self.args.max_passes:
                    return
                pass_id = self.next_pass_id
                self.next_pass_id += 1
                self.passes[pass_id] = {"polls": 0}
            entry = self.passes[pass_id]
            entry.update({"pass": answer["pass"], "busy": False,
                          "due": now + max(250, int(answer.get("poll_after_ms") or 1000)) / 1000.0})
            entry["polls"] += 1 if polled else 0
            if entry["polls"] > self.args.polls_per_pass:
                self.passes.pop(pass_id, None)

    # --- the scheduler
    def run(self):
        args = self.args
        joins = Bucket(args.join_rate, 40)
        reads = Bucket(args.read_rate, 20)
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=256)
        tick = 1.0 / args.rate
        next_tick = time.monotonic()
        next_report = self.started + 5
        deadline = self.started + args.seconds
        while not self.stop.is_set():
            now = time.monotonic()
            if now >= deadline:
                break
            if now < next_tick:
                self.stop.wait(next_tick - now)
                continue
            next_tick += tick
            if next_tick < now - 1:  # fell behind (a stalled machine): do not burst to catch up
                next_tick = now + tick
            due = None
            with self.lock:
                for pass_id, entry in self.passes.items():
                    if not entry["busy"] and entry["due"] <= now:
                        entry["busy"] = True
                        due = (pass_id, entry["pass"])
                        break
            if due:
                pool.submit(self.poll, *due)
            elif joins.take(now):
                pool.submit(self.join)
            elif reads.take(now):
                pool.submit(self.read)
            if now >= next_report:
                next_report += 5
                self.progress()
        self.stop.set()
        pool.shutdown(wait=True)  # in-flight requests end within --timeout
        self.progress()

    def progress(self):
        with self.lock:
            records = list(self.records)
        ok = sum(1 for r in records if r[2])
        p99 = percentile([r[4] for r in records], 99)
        print(f"   probe {self.args.source}: {time.monotonic() - self.started:5.1f} s, {len(records)} requests,"
              f" {ok} ok, p99 {p99 or 0:.0f} ms", file=sys.stderr, flush=True)

    def report(self):
        records = list(self.records)
        latencies = [r[4] for r in records]
        statuses = {}
        by_kind = {}
        for _, kind, ok, key, latency in records:
            statuses[key] = statuses.get(key, 0) + 1
            entry = by_kind.setdefault(kind, {"requests": 0, "ok": 0, "latencies": []})
            entry["requests"] += 1
            entry["ok"] += ok
            entry["latencies"].append(latency)
        kinds = {}
        for kind, entry in sorted(by_kind.items()):
            kinds[kind] = {"requests": entry["requests"], "ok": entry["ok"],
                           "p50_ms": round(percentile(entry["latencies"], 50), 1),
                           "p99_ms": round(percentile(entry["latencies"], 99), 1)}
        # failures and slow answers (over 500 ms) per 5-second window, to see when an attack hurt
        windows = {}
        for t, _, ok, _, latency in records:
            window = windows.setdefault(int(t // 5) * 5, [0, 0, 0])
            window[0] += 1
            window[1] += 0 if ok else 1
            window[2] += 1 if latency > 500 else 0
        duration = max((r[0] for r in records), default=0.0)
        requests = len(records)
        ok = sum(1 for r in records if r[2])

        def rounded(value):
            return None if value is None else round(value, 1)

        return {
            "source": self.args.source,
            "seconds": round(duration, 1),
            "requests": requests,
            "ok": ok,
            "success_pct": round(100.0 * ok / requests, 2) if requests else 0.0,
            "requests_per_second": round(requests / duration, 1) if duration else 0.0,
            "p50_ms": rounded(percentile(latencies, 50)),
            "p99_ms": rounded(percentile(latencies, 99)),
            "max_ms": rounded(max(latencies, default=None)),
            "statuses": dict(sorted(statuses.items())),
            "by_kind": kinds,
            "challenges": self.challenges,
            "connect_ms": {"p50": rounded(percentile(self.connects, 50)), "p99": rounded(percentile(self.connects, 99)),
                           "max": rounded(max(self.connects, default=None)),
                           "over_900": sum(1 for c in self.connects if c > 900)},
            "failures_per_5s": {str(k): v[1] for k, v in sorted(windows.items()) if v[1]},
            "slow_over_500ms_per_5s": {str(k): v[2] for k, v in sorted(windows.items()) if v[2]},
            "first_failures": self.failures,
        }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="http://HOST:PORT of the server")
    parser.add_argument("--sale", required=True, help="sale id")
    parser.add_argument("--source", default="127.0.0.2", help="source address to bind")
    parser.add_argument("--join-sources", type=int, default=10,
                        help="joins rotate over this many consecutive addresses from --source")
    parser.add_argument("--rate", type=float, default=20.0, help="scheduler ticks per second")
    parser.add_argument("--read-rate", type=float, default=8.0)
    parser.add_argument("--join-rate", type=float, default=0.9)
    parser.add_argument("--max-passes", type=int, default=60)
    parser.add_argument("--polls-per-pass", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=60.0, help="longest run")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per request")
    parser.add_argument("--out", help="file for the JSON report (default stdout)")
    args = parser.parse_args()

    probe = Probe(args)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: probe.stop.set())
    probe.run()
    emit(probe.report(), args.out)


if __name__ == "__main__":
    main()
