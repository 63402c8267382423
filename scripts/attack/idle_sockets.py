#!/usr/bin/env python3
"""The idle-connection attack of scripts/attack-suite.sh: one process, bound to one source
address (default 127.0.0.66), opens --sockets TCP connections to the server and sends
nothing on any of them, then holds whatever stays open for --hold seconds.

- Raises its own RLIMIT_NOFILE first: to sockets + 64 when it may (root may raise the
  hard limit too), else to the hard limit. Sockets the server closes are closed here at
  once, so the limit bounds the sockets open at a time; when it is reached with none
  closing, the rest are reported as `not_attempted`.
- Connects without blocking, at most --pending handshakes at a time (epoll), each
  given --connect-timeout seconds.
- Watches every connected socket: when the server closes it (FIN or RST), that socket is
  counted as `closed_by_server`, with the delay from its connect, and closed at once on
  this side too (freeing the descriptor).
- Reports the counts --check-after seconds after the last connect (the per-client cap
  should have closed all but the cap at once), samples every 5 s during the hold, then
  closes everything and writes one JSON object to --out (or stdout).
- "open" is this side's view. A connect can succeed here while the server's kernel drops
  the handshake's last ACK because the listen queue is full (SYN cookies); such a socket
  looks open here but the server never sees it. So every sample also counts the server's
  ends of our connections by TCP state (`server_side`, read from /proc/net/tcp): its
  `established` count is what the server really holds (accepted, or waiting in its
  accept queue).

SIGTERM/SIGINT end the hold early (the report is still written). Standard library only.
"""

import argparse
import errno
import os
import resource
import select
import signal
import socket
import sys
import time

from runfolder import emit


def log(message):
    print(f"   idle {message}", file=sys.stderr, flush=True)


def raise_nofile(wanted):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= wanted:
        return soft, hard
    if hard < wanted:
        try:  # allowed with CAP_SYS_RESOURCE (root), up to fs.nr_open
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))
            return wanted, wanted
        except (ValueError, OSError):
            pass
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)
TCP_STATES = {"01": "established", "03": "syn_recv", "08": "close_wait", "06": "time_wait", "04": "fin_wait1",
              "05": "fin_wait2", "07": "close", "09": "last_ack", "0B": "closing"}


def hex_address(address, port=None):
    packed = socket.inet_aton(address)[::-1].hex().upper()
    return packed if port is None else f"{packed}:{port:04X}"


def server_side(host, port, source):
    """The server's end of our connections, by TCP state, from /proc/net/tcp: what the
    kernel holds for the server (accepted or waiting in its accept queue), as opposed to
    what this process believes is open."""
    local, remote = hex_address(host, port), hex_address(source) + ":"
    states = {}
    try:
        with open("/proc/net/tcp") as table:
            next(table)
            for line in table:
                fields = line.split(None, 4)
                if fields[1] == local and fields[2].startswith(remote):
                    name = TCP_STATES.get(fields[3], fields[3])
                    states[name] = states.get(name, 0) + 1
    except OSError:
        return None
    return states


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100.0 * len(ordered) + 0.5)) - 1))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--source", default="127.0.0.66")
    parser.add_argument("--sockets", type=int, default=20000)
    parser.add_argument("--pending", type=int, default=1000, help="handshakes in flight at most")
    parser.add_argument("--connect-timeout", type=float, default=10.0)
    parser.add_argument("--check-after", type=float, default=5.0)
    parser.add_argument("--hold", type=float, default=30.0, help="seconds to hold after the last connect")
    parser.add_argument("--out")
    args = parser.parse_args()

    stop = [False]
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.__setitem__(0, True))

    soft, hard = raise_nofile(args.sockets + 64)
    budget = max(0, soft - 32)  # descriptors for stdio, epoll and the interpreter
    log(f"RLIMIT_NOFILE {soft}/{hard}: {args.sockets} sockets from {args.source} to {args.host}:{args.port},"
        f" at most {budget} open at a time")

    poller = select.epoll()
    pending = {}  # fd -> (socket, started)
    connected = {}  # fd -> (socket, connected_at)
    connect_errors = {}
    close_delays = []  # ms from connect to the server's close
    closed_by_server = 0
    attempted = 0
    start = time.monotonic()
    open_done = None
    snapshot = None
    timeline = []
    next_sample = None

    def count_error(name):
        connect_errors[name] = connect_errors.get(name, 0) + 1

    def server_closed(fd):
        nonlocal closed_by_server
        sock, at = connected.pop(fd)
        try:
            poller.unregister(fd)
        except OSError:
            pass
        sock.close()
        closed_by_server += 1
        close_delays.append((time.monotonic() - at) * 1000.0)

    def handle_events(timeout):
        for fd, events in poller.poll(timeout, 4096):
            now = time.monotonic()
            if fd in pending:
                sock, _ = pending.pop(fd)
                code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if code == 0:
                    connected[fd] = (sock, now)
                    poller.modify(fd, select.EPOLLIN | select.EPOLLRDHUP)
                else:
                    count_error(errno.errorcode.get(code, str(code)))
                    poller.unregister(fd)
                    sock.close()
            elif fd in connected:
                sock, _ = connected[fd]
                try:
                    data = sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
                    closed = data == b""
                except BlockingIOError:
                    closed = bool(events & (select.EPOLLRDHUP | select.EPOLLHUP | select.EPOLLERR))
                except OSError:
                    closed = True
                if closed:
                    server_closed(fd)
                else:  # the server sent bytes (it never should on an idle socket): stop watching reads
                    poller.modify(fd, select.EPOLLRDHUP)

    # --- open (sockets the server closed are closed here too, which frees their descriptors)
    next_progress = start + 5
    target = args.sockets
    while not stop[0] and (attempted < target or pending):
        while (attempted < target and len(pending) < args.pending and len(pending) + len(connected) < budget
               and not stop[0]):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.setblocking(False)
                try:  # the port is picked at connect, per destination: no clash with TIME_WAITs of earlier runs
                    sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
                except OSError:
                    pass
                sock.bind((args.source, 0))
                code = sock.connect_ex((args.host, args.port))
            except OSError as error:
                sock.close()
                count_error(errno.errorcode.get(error.errno, str(error.errno)))
                attempted += 1
                if error.errno in (errno.EMFILE, errno.ENFILE, errno.EADDRNOTAVAIL):
                    target = attempted  # no more descriptors or ports: stop opening
                continue
            attempted += 1
            if code in (0, errno.EINPROGRESS):
                pending[sock.fileno()] = (sock, time.monotonic())
                poller.register(sock.fileno(), select.EPOLLOUT)
            else:
                count_error(errno.errorcode.get(code, str(code)))
                sock.close()
        if attempted < target and not pending and len(connected) >= budget:
            log(f"descriptor limit reached with {len(connected)} sockets open: not opening the other {target - attempted}")
            target = attempted
        handle_events(0.05)
        now = time.monotonic()
        for fd, (sock, started) in list(pending.items()):
            if now - started > args.connect_timeout:
                pending.pop(fd)
                poller.unregister(fd)
                sock.close()
                count_error("timeout")
        if now >= next_progress:
            next_progress += 5
            log(f"{now - start:4.0f} s: {attempted} attempted, {len(pending)} connecting,"
                f" {len(connected)} open, {closed_by_server} closed by the server")
    open_done = time.monotonic()
    log(f"opened {attempted} in {open_done - start:.1f} s: {len(connected) + closed_by_server} connected,"
        f" {closed_by_server} already closed by the server, errors {connect_errors or 'none'}")

    # --- check after a few seconds, then hold
    next_sample = open_done
    hold_until = open_done + args.hold
    check_at = open_done + args.check_after
    while not stop[0]:
        now = time.monotonic()
        if snapshot is None and now >= check_at:
            snapshot = {"closed_by_server": closed_by_server, "open": len(connected),
                        "server_side": server_side(args.host, args.port, args.source)}
            log(f"after {args.check_after:.0f} s: {closed_by_server} closed by the server, {len(connected)} still open"
                f" here; the server's end: {snapshot['server_side']}")
        if now >= next_sample:
            timeline.append({"t": round(now - open_done, 1), "open": len(connected),
                             "closed_by_server": closed_by_server,
                             "server_side": server_side(args.host, args.port, args.source)})
            next_sample += 5
        if now >= hold_until:
            break
        handle_events(min(0.5, max(0.0, hold_until - now)))
    if snapshot is None:
        snapshot = {"closed_by_server": closed_by_server, "open": len(connected),
                    "server_side": server_side(args.host, args.port, args.source)}
    end = {"closed_by_server": closed_by_server, "open": len(connected),
           "server_side": server_side(args.host, args.port, args.source)}
    log(f"released after holding {time.monotonic() - open_done:.0f} s: {len(connected)} still open,"
        f" {closed_by_server} closed by the server")

    # --- release
    for sock, _ in list(connected.values()) + list(pending.values()):
        sock.close()
    poller.close()

    report = {
        "source": args.source,
        "requested": args.sockets,
        "rlimit_nofile": [soft, hard],
        "attempted": attempted,
        "not_attempted": args.sockets - attempted,
        "connected": closed_by_server + end["open"],
        "connect_errors": connect_errors,
        "open_seconds": round(open_done - start, 2),
        "after_check": dict(snapshot, seconds=args.check_after),
        "at_release": dict(end, held_seconds=round(time.monotonic() - open_done, 1)),
        "server_close_delay_ms": {
            "p50": None if not close_delays else round(percentile(close_delays, 50), 1),
            "p99": None if not close_delays else round(percentile(close_delays, 99), 1),
            "max": None if not close_delays else round(max(close_delays), 1),
        },
        "timeline": timeline,
    }
    emit(report, args.out)


if __name__ == "__main__":
    main()
