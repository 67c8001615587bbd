#!/usr/bin/python3
"""Slowloris (issue 14 item 2): 2,000 connections that each send part of a
request and then trickle a byte a second (so an idle timeout never fires)
leave room for a well-behaved client, who is answered within 1 s, and are
closed by the whole-request deadline (--request-timeout), not later and
not sooner. The per-client cap (--max-connections-per-client) refuses a
client's connection past it, and the total cap (--max-connections) bounds
the connections the server holds.

The stalled clients come from 20 loopback addresses (127.0.0.2-21), 100
each, as the per-client cap counts by address. argv[1] is the placid binary.
Raises this process's RLIMIT_NOFILE (placid raises its own). Prints ok/FAIL
lines; exits non-zero on any failure.
"""
import http.client
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time

from helpers.placid_e2e import (SANITIZER_MARKS, check, failures, free_port, must_start,
                                 one_line_error, stop)

PLACID = sys.argv[1]
STALLED = 2000
ADDRESSES = 20            # 127.0.0.2 .. 127.0.0.21, STALLED / ADDRESSES each
DEADLINE = 5              # --request-timeout for the test


def raise_fd_limit(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < want:
        try:  # as root (CI), the hard limit can be raised too
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, want))
            hard = want
        except (ValueError, OSError):
            pass
    if soft < want:
        new = want if hard == resource.RLIM_INFINITY or hard >= want else hard
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def get(port, path, headers=None, timeout=10):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        r.read()
        return r.status
    finally:
        conn.close()


def client_sockets(pid):
    """Sockets the server holds, the listening one included."""
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            n += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except OSError:
            pass
    return n


def stall(port, source, first):
    s = socket.socket()
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    s.sendall(first)
    return s


def watch_closures(socks, opened, until):
    """Trickles a byte a second into every open socket; returns {sock: time
    it was seen closed} for those closed before `until`."""
    poller = __import__("select").poll()
    byfd = {s.fileno(): s for s in socks}
    for fd in byfd:
        poller.register(fd, 0x001 | 0x010 | 0x008)  # POLLIN | POLLHUP | POLLERR
    closed, next_trickle = {}, time.monotonic() + 1
    while len(closed) < len(socks) and time.monotonic() < until:
        for fd, _ in poller.poll(200):
            s = byfd[fd]
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                closed[s] = time.monotonic()
                poller.unregister(fd)
        if time.monotonic() >= next_trickle:
            next_trickle += 1
            for s in socks:
                if s not in closed:
                    try:
                        s.send(b"x")
                    except OSError:
                        pass
    return closed


limit = raise_fd_limit(STALLED + 1000)
check(limit >= STALLED + 200, f"RLIMIT_NOFILE raised to {limit} for {STALLED} sockets")

with tempfile.TemporaryDirectory() as tmp:
    proc, port, err = must_start(PLACID, tmp,
                                 ["--request-timeout", str(DEADLINE), "--threads", "4",
                                  "--max-connections-per-client", str(STALLED // ADDRESSES)],
                                 "placid started", "net_slowloris")
    socks, opened = [], {}
    for i in range(STALLED):
        source = f"127.0.0.{2 + i % ADDRESSES}"
        # Half stop inside the request line, half after one header line.
        first = (b"GET /resource_providers?na" if i % 2 else
                 b"GET /resource_providers HTTP/1.1\r\nX-Auth-Token: admin\r\n")
        s = stall(port, source, first)
        opened[s] = time.monotonic()
        socks.append(s)
    held = 0
    end = time.monotonic() + DEADLINE - 2
    while time.monotonic() < end:
        held = client_sockets(proc.pid) - 1
        if held >= STALLED:
            break
        time.sleep(0.05)
    check(held >= STALLED, f"the server holds all {STALLED} stalled connections ({held})")

    worst = 0.0
    statuses = []
    for path, hdrs in [("/", {})] * 4 + [("/resource_providers", {"X-Auth-Token": "admin"})]:
        t = time.monotonic()
        try:
            statuses.append(get(port, path, hdrs, timeout=5))
        except OSError as e:
            statuses.append(repr(e))
        worst = max(worst, time.monotonic() - t)
    check(all(st == 200 for st in statuses) and worst < 1.0,
          f"a well-behaved client is answered within 1 s while they stall "
          f"(worst {worst * 1000:.0f} ms, {statuses})")

    closed = watch_closures(socks, opened, time.monotonic() + DEADLINE + 10)
    ages = [closed[s] - opened[s] for s in socks if s in closed]
    check(len(closed) == STALLED, f"all {STALLED} stalled connections closed ({len(closed)}), "
          "though each kept sending a byte a second")
    if ages:
        check(min(ages) >= DEADLINE - 0.3 and max(ages) <= DEADLINE + 4,
              f"closed by the {DEADLINE} s deadline: after {min(ages):.2f}-{max(ages):.2f} s")
    for s in socks:
        s.close()
    st = get(port, "/")
    check(st == 200, "answers after the attack")
    err.seek(0)
    reaped = sum(int(l.split("closed ")[1].split()[0]) for l in err.read().splitlines()
                 if "that had not sent a whole request within" in l)
    check(reaped >= STALLED, f"the log counts the connections closed by the deadline ({reaped})")

    # Per-client cap: a client's connection past the cap is refused at once,
    # the others stay open.
    cap = STALLED // ADDRESSES
    socks = [stall(port, "127.0.0.99", b"GET / HTTP/1.1\r\n") for _ in range(cap + 1)]
    opened = {s: time.monotonic() for s in socks}
    closed = watch_closures(socks, opened, time.monotonic() + 1.5)
    check(len(closed) == 1, f"per-client cap {cap}: connection {cap + 1} from one address "
          f"refused ({len(closed)} closed within 1.5 s)")
    for s in socks:
        s.close()
    rc, log = stop(proc, err)
    check(rc == 0, f"SIGTERM: exit 0 ({rc})")
    check(not any(m in log for m in SANITIZER_MARKS), "no sanitizer report")

    # Total cap: the server holds no more than --max-connections.
    proc, port, err = must_start(PLACID, tmp,
                                 ["--request-timeout", str(DEADLINE), "--threads", "4",
                                  "--max-connections", "8", "--max-connections-per-client", "0"],
                                 "placid started with --max-connections 8", "net_slowloris")
    time.sleep(0.5)  # the start-up probe's connection is closed
    base = client_sockets(proc.pid)
    socks = [stall(port, "127.0.0.1", b"GET / HTTP/1.1\r\n") for _ in range(20)]
    time.sleep(1.0)
    held = client_sockets(proc.pid) - base
    check(held == 8, f"--max-connections 8: 20 clients, the server holds {held}")
    t = time.monotonic()
    try:
        st = get(port, "/", timeout=DEADLINE * 4)
    except OSError as e:
        st = repr(e)
    check(st == 200, f"a client beyond the cap is answered once the deadline frees a place "
          f"({st} after {time.monotonic() - t:.1f} s)")
    for s in socks:
        s.close()
    rc, log = stop(proc, err)
    check(rc == 0, f"SIGTERM: exit 0 ({rc})")
    check(not any(m in log for m in SANITIZER_MARKS), "no sanitizer report")

    # Flag validation: a one-line error each.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLACID_")}
    for args in (["--request-timeout", "0"], ["--request-timeout", "x"],
                 ["--max-connections", "0"], ["--max-connections-per-client", "-1"],
                 ["--max-connections", "2", "--threads", "4"]):
        res = subprocess.run([PLACID, "--listen", f"127.0.0.1:{free_port()}", "--db",
                              os.path.join(tmp, "v.db")] + args, capture_output=True, text=True,
                             timeout=20, env=env)
        check(one_line_error(res),
              f"{' '.join(args)}: one-line error ({res.stderr.strip()!r})")
    for var, val in (("PLACID_REQUEST_TIMEOUT", "0"), ("PLACID_MAX_CONNECTIONS", "x"),
                     ("PLACID_MAX_CONNECTIONS_PER_CLIENT", "-5")):
        res = subprocess.run([PLACID, "--listen", f"127.0.0.1:{free_port()}", "--db",
                              os.path.join(tmp, "v.db")], capture_output=True, text=True,
                             timeout=20, env=dict(env, **{var: val}))
        check(res.returncode != 0 and res.stderr.startswith("placid: "),
              f"{var}={val}: refused ({res.stderr.strip()!r})")

print(f"{'FAIL' if failures else 'ok'}: net_slowloris, {len(failures)} failure(s)")
sys.exit(1 if failures else 0)
