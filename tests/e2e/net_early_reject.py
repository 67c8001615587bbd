#!/usr/bin/python3
"""Bodies are not buffered for requests that will be refused (issue 14 item
3): authentication, routing, method, policy and Content-Length are checked
as soon as the headers arrive, so 401/403/404/405/413 come back before any
body is sent; a server-wide cap on buffered body bytes (--max-body-memory)
answers 503 with Retry-After past it, also before the body. 100
connections each sending just under --max-body, unauthenticated, or
authenticated past the cap, leave the server's RSS growth under 20 MB.

argv[1] is the placid binary. Servers run on free ports and are stopped by
PID. Prints ok/FAIL lines; exits non-zero on any failure.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

from helpers.placid_e2e import (SANITIZER_MARKS, check, failures, free_port, must_start,
                                 one_line_error, stop)

PLACID = sys.argv[1]
MAX_BODY = 1024 * 1024


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def head(method, path, length, token=None, extra=b""):
    h = (f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
         f"Content-Length: {length}\r\nOpenStack-API-Version: placement latest\r\n").encode()
    if token:
        h += f"X-Auth-Token: {token}\r\n".encode()
    return h + extra + b"\r\n"


def parse(data):
    """(status, headers dict, body bytes) of the first response in data."""
    if b"\r\n\r\n" not in data:
        return None, {}, b""
    top, body = data.split(b"\r\n\r\n", 1)
    lines = top.decode("latin-1").split("\r\n")
    hdrs = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    n = int(hdrs.get("content-length", len(body)))
    return int(lines[0].split()[1]), hdrs, body[:n]


def answer_without_body(port, raw, wait=5.0):
    """Sends only the request head (announcing a body it never sends) and
    returns the parsed answer, or None when none comes within `wait`."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        s.sendall(raw)
        data = b""
        try:
            while b"\r\n\r\n" not in data or len(data) < len(data.split(b"\r\n\r\n")[0]) + 4 + \
                    int(parse(data)[1].get("content-length", 0)):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except (socket.timeout, ConnectionResetError):
            pass
    return parse(data) if data else (None, {}, b"")


def flood(pid, port, n, raw_head, body, sample):
    """n connections send raw_head then stream body, all at once. Returns
    (peak RSS growth in kB, [status per connection])."""
    base = rss_kb(pid)
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(raw_head)
        s.setblocking(False)
        socks.append(s)
    sent = {s: 0 for s in socks}
    got = {s: b"" for s in socks}
    done = set()
    peak = 0
    end = time.monotonic() + 60
    while len(done) < n and time.monotonic() < end:
        progress = False
        for s in socks:
            if s in done:
                continue
            try:
                chunk = s.recv(65536)
                if chunk:
                    got[s] += chunk
                    progress = True
                else:
                    done.add(s)
            except BlockingIOError:
                pass
            except OSError:
                done.add(s)
            st, hdrs, b = parse(got[s])
            if st is not None and len(b) >= int(hdrs.get("content-length", 0)):
                done.add(s)
            if sent[s] < len(body) and s not in done:
                try:
                    k = s.send(body[sent[s]:sent[s] + 65536])
                    sent[s] += k
                    progress = progress or k > 0
                except BlockingIOError:
                    pass
                except OSError:
                    sent[s] = len(body)
        peak = max(peak, rss_kb(pid) - base)
        if not progress:
            time.sleep(0.005)
    sample.append(sum(sent.values()))
    statuses = [parse(got[s])[0] for s in socks]
    retry = [parse(got[s])[1].get("retry-after") for s in socks]
    for s in socks:
        s.close()
    return peak, statuses, retry


with tempfile.TemporaryDirectory() as tmp:
    proc, port, err = must_start(PLACID, tmp, ["--threads", "4"],
                                 "placid started", "net_early_reject")
    big = 500000

    # Refused on the headers: answered although the body never comes.
    for what, raw, want in [
            ("no token", head("POST", "/resource_providers", big), 401),
            ("ordinary user", head("POST", "/resource_providers", big, "user"), 403),
            ("unknown path", head("POST", "/nowhere", big, "admin"), 404),
            ("wrong method", head("PATCH", "/resource_providers", big, "admin"), 405),
            ("over --max-body", head("POST", "/resource_providers", 2 * MAX_BODY, "admin"), 413),
            ("chunked, no token", head("POST", "/resource_providers", 0).replace(
                b"Content-Length: 0", b"Transfer-Encoding: chunked"), 401)]:
        t = time.monotonic()
        st, hdrs, body = answer_without_body(port, raw)
        check(st == want, f"{what}: {want} before the body ({st}, {time.monotonic() - t:.2f} s)")
        if st and st != 401:
            try:
                doc = json.loads(body)
                ok = doc["errors"][0]["status"] == want
            except (ValueError, KeyError, IndexError, TypeError):
                ok = False
            check(ok, f"{what}: Placement's JSON error body")

    # A refused request without a body, or with a small one (dropped, not
    # buffered), keeps its connection.
    small = b'{"name": "small"}'
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        statuses = []
        for raw in (b"GET /resource_providers HTTP/1.1\r\nHost: x\r\n\r\n",
                    head("POST", "/resource_providers", len(small)) + small,
                    head("POST", "/resource_providers", len(small), "user") + small,
                    b"GET /resource_providers HTTP/1.1\r\nHost: x\r\n\r\n"):
            s.sendall(raw)
            data = b""
            while b"\r\n\r\n" not in data:
                data += s.recv(65536)
            st, hdrs, body = parse(data)
            while len(body) < int(hdrs.get("content-length", 0)):
                data += s.recv(65536)
                st, hdrs, body = parse(data)
            statuses.append(st)
        check(statuses == [401, 401, 403, 401],
              f"401, 401 (small body), 403 (small body), 401 on one kept-alive connection "
              f"({statuses})")

    # 100 unauthenticated connections each sending just under --max-body.
    body = b" " * (MAX_BODY - 1024)
    sample = []
    peak, statuses, _ = flood(proc.pid, port, 100,
                              head("POST", "/resource_providers", len(body)), body, sample)
    check(peak < 20 * 1024, f"100 unauthenticated near-limit bodies: RSS growth {peak / 1024:.1f} MB"
          f" (< 20 MB)")
    check(statuses.count(401) >= 95 and set(statuses) <= {401, None},
          f"... each answered 401 ({statuses.count(401)} seen, others {set(statuses) - {401}})")
    rc, log = stop(proc, err)
    check(rc == 0 and not any(m in log for m in SANITIZER_MARKS), "clean stop, no sanitizer report")

    # The server-wide cap: 503 with Retry-After before the body, and a place
    # again once the holder is done.
    proc, port, err = must_start(PLACID, tmp, ["--threads", "4", "--max-body", "200000",
                                               "--max-body-memory", "200000"],
                                 "placid started with --max-body-memory 200000", "net_early_reject")
    doc = b'{"name": "holder"}'
    held = doc + b" " * (150000 - len(doc))
    holder = socket.create_connection(("127.0.0.1", port), timeout=10)
    holder.sendall(head("POST", "/resource_providers", len(held), "admin") + held[:1000])
    time.sleep(0.3)
    st, hdrs, body = answer_without_body(port, head("POST", "/resource_providers", 150000, "admin"))
    check(st == 503 and hdrs.get("retry-after") == "1",
          f"past --max-body-memory: 503 with Retry-After: 1 before the body ({st}, {hdrs})")
    try:
        ok = json.loads(body)["errors"][0]["status"] == 503
    except (ValueError, KeyError, IndexError, TypeError):
        ok = False
    check(ok, "... with Placement's JSON error body")
    holder.sendall(held[1000:])
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = holder.recv(65536)
        if not chunk:
            break
        data += chunk
    holder.close()
    check(parse(data)[0] == 200, f"the holder's request completes ({parse(data)[0]})")
    doc = b'{"name": "after"}'
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head("POST", "/resource_providers", len(doc), "admin") + doc)
        st = parse(s.recv(65536))[0]
    check(st == 200, f"the reservation is given back: the next body is accepted ({st})")
    rc, log = stop(proc, err)
    check(rc == 0 and not any(m in log for m in SANITIZER_MARKS), "clean stop, no sanitizer report")

    # 100 authenticated near-limit bodies against a 4 MiB cap.
    proc, port, err = must_start(PLACID, tmp,
                                 ["--threads", "4", "--max-body-memory", str(4 * MAX_BODY)],
                                 "placid started with --max-body-memory 4 MiB", "net_early_reject")
    doc = b'{"name": "flood"}'
    body = doc + b" " * (MAX_BODY - 1024 - len(doc))
    sample = []
    peak, statuses, retry = flood(proc.pid, port, 100,
                                  head("POST", "/resource_providers", len(body), "admin"), body,
                                  sample)
    n503 = statuses.count(503)
    check(peak < 20 * 1024, f"100 authenticated near-limit bodies, --max-body-memory 4 MiB: RSS "
          f"growth {peak / 1024:.1f} MB (< 20 MB)")
    check(n503 >= 80 and all(r == "1" for st, r in zip(statuses, retry) if st == 503) and
          set(statuses) <= {200, 409, 503, None},
          f"... those past the cap get 503 with Retry-After ({n503} x 503, "
          f"{statuses.count(200) + statuses.count(409)} served)")
    rc, log = stop(proc, err)
    check(rc == 0 and not any(m in log for m in SANITIZER_MARKS), "clean stop, no sanitizer report")

    # Flag validation.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLACID_")}
    for args in (["--max-body-memory", "10"], ["--max-body-memory", "x"],
                 ["--max-body", "2097152", "--max-body-memory", "1048576"]):
        res = subprocess.run([PLACID, "--listen", f"127.0.0.1:{free_port()}", "--db",
                              os.path.join(tmp, "v.db")] + args, capture_output=True, text=True,
                             timeout=20, env=env)
        check(one_line_error(res),
              f"{' '.join(args)}: one-line error ({res.stderr.strip()!r})")
    res = subprocess.run([PLACID, "--listen", f"127.0.0.1:{free_port()}", "--db",
                          os.path.join(tmp, "v.db")], capture_output=True, text=True, timeout=20,
                         env=dict(env, PLACID_MAX_BODY_MEMORY="0"))
    check(res.returncode != 0 and res.stderr.startswith("placid: "),
          f"PLACID_MAX_BODY_MEMORY=0: refused ({res.stderr.strip()!r})")

print(f"{'FAIL' if failures else 'ok'}: net_early_reject, {len(failures)} failure(s)")
sys.exit(1 if failures else 0)
