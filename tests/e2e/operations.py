#!/usr/bin/python3
"""What an operator runs placid with: GET /healthcheck and --check-health
(and, below, metrics, logs and backups). argv[1] is the placid binary.
Every server runs on a free 127.0.0.1 port and is stopped by PID."""
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from helpers.placid_e2e import check, failures, free_port

PLACID = sys.argv[1]


class Server:
    """A placid on a free port, its stderr in a file."""

    def __init__(self, tmp, name, extra=(), env=None):
        self.port = free_port()
        self.db = os.path.join(tmp, name + ".db")
        self.log_path = os.path.join(tmp, name + ".log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [PLACID, "--listen", f"127.0.0.1:{self.port}", "--db", self.db, *extra],
            stdout=subprocess.DEVNULL, stderr=self.log, env=env)
        self.ready = self.wait_ready()

    def wait_ready(self, limit=15.0):
        end = time.time() + limit
        while time.time() < end and self.proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=1) as r:
                    return r.status == 200
            except OSError:
                time.sleep(0.05)
        return False

    def request(self, method, path, headers=None, body=None, timeout=20):
        """(status, headers, body bytes) of one request."""
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method,
                                     headers=headers or {}, data=body)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = -9
        self.log.close()
        return rc

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


def safe_args(tmp):
    """A free port and a scratch database, for runs expected to fail at start."""
    return ["--listen", f"127.0.0.1:{free_port()}", "--db", os.path.join(tmp, "never.db")]


def sanitizer_clean(text):
    return "ERROR: AddressSanitizer" not in text and "runtime error:" not in text and \
        "LeakSanitizer" not in text


def test_healthcheck(tmp):
    srv = Server(tmp, "health")
    check(srv.ready, "healthcheck: server started")
    st, hd, body = srv.request("GET", "/healthcheck")
    check(st == 200 and body == b"OK" and hd["Content-Type"].startswith("text/plain"),
          f"GET /healthcheck without a token: 200 text/plain OK ({st} {body!r})")
    st, _, body = srv.request("HEAD", "/healthcheck")
    check(st == 204 and body == b"", f"HEAD /healthcheck: 204 ({st})")
    st, _, body = srv.request("GET", "/healthcheck", {"Accept": "application/json"})
    check(st == 200 and json.loads(body) == {"detailed": False, "reasons": ["OK"]},
          f"JSON form without a token is oslo's simple one ({body!r})")
    st, _, body = srv.request("GET", "/healthcheck", {"Accept": "application/json",
                                                      "X-Auth-Token": "admin"})
    doc = json.loads(body) if st == 200 else {}
    check(doc.get("detailed") is True and doc.get("reasons", [{}])[0].get("reason") == "OK"
          and "schema_version" in doc.get("database", {}),
          f"admin gets the detailed JSON form ({body[:200]!r})")
    st, _, _ = srv.request("GET", "/resource_providers")
    check(st == 401, "other paths still need a token")

    # --check-health follows the listen address and exits 0 / non-zero.
    res = subprocess.run([PLACID, "--check-health", "--listen", f"127.0.0.1:{srv.port}"],
                         capture_output=True, text=True, timeout=20)
    check(res.returncode == 0, f"--check-health on the serving address: exit 0 ({res.stderr})")
    env = dict(os.environ, PLACID_LISTEN=f"0.0.0.0:{srv.port}")
    res = subprocess.run([PLACID, "--check-health"], capture_output=True, text=True, timeout=20,
                         env=env)
    check(res.returncode == 0, "--check-health reads PLACID_LISTEN; 0.0.0.0 is asked on loopback")

    # Another process holds the write lock past the busy timeout: 503.
    holder = sqlite3.connect(srv.db, timeout=10, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    st, _, body = srv.request("GET", "/healthcheck")
    check(st == 503 and b"database unavailable" in body,
          f"write lock held elsewhere: 503 with the reason ({st} {body!r})")
    res = subprocess.run([PLACID, "--check-health", "--listen", f"127.0.0.1:{srv.port}"],
                         capture_output=True, text=True, timeout=30)
    lines = res.stderr.strip().splitlines()
    check(res.returncode == 1 and len(lines) == 1 and "health check failed" in lines[0],
          f"--check-health on an unhealthy placid: exit 1, one line ({res.stderr.strip()})")
    holder.execute("ROLLBACK")
    holder.close()
    st, _, _ = srv.request("GET", "/healthcheck")
    check(st == 200, "healthy again once the lock is gone")
    check(srv.stop() == 0, "healthcheck: clean stop")
    port = free_port()
    res = subprocess.run([PLACID, "--check-health", "--listen", f"127.0.0.1:{port}"],
                         capture_output=True, text=True, timeout=20)
    check(res.returncode == 1 and "cannot connect" in res.stderr,
          "--check-health with nothing listening: exit 1, says why")
    check(sanitizer_clean(srv.log_text()), "healthcheck: no sanitizer report")


def metric_value(text, name, labels=None):
    """The value of the sample name{labels...} (labels a dict, all must match)."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        key, _, value = line.rpartition(" ")
        if key.split("{")[0] != name:
            continue
        if all(f'{k}="{v}"' in key for k, v in (labels or {}).items()):
            return float(value)
    return None


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        return r.status, r.headers.get("Content-Type", ""), r.read().decode()


def test_metrics(tmp):
    res = subprocess.run([PLACID, "--metrics-listen", "nowhere", *safe_args(tmp)],
                         capture_output=True, text=True, timeout=20)
    check(res.returncode != 0 and res.stderr.strip().count("\n") == 0
          and "--metrics-listen" in res.stderr, "bad --metrics-listen: one-line error")
    env = dict(os.environ, PLACID_METRICS_LISTEN="1.2.3")
    res = subprocess.run([PLACID, *safe_args(tmp)], capture_output=True, text=True, timeout=20,
                         env=env)
    check(res.returncode != 0 and "--metrics-listen" in res.stderr,
          "bad PLACID_METRICS_LISTEN: one-line error")
    off = Server(tmp, "plain")
    check(off.ready and "metrics on" not in off.log_text(), "no metrics listener by default")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        res = subprocess.run([PLACID, "--listen", f"127.0.0.1:{free_port()}", "--db",
                              os.path.join(tmp, "m0.db"), "--metrics-listen",
                              f"127.0.0.1:{busy.getsockname()[1]}"],
                             capture_output=True, text=True, timeout=20)
        check(res.returncode != 0 and len(res.stderr.strip().splitlines()) == 1
              and "metrics" in res.stderr, f"metrics port in use: one-line error ({res.stderr.strip()})")
    off.stop()

    mport = free_port()
    srv = Server(tmp, "metrics", ["--metrics-listen", f"127.0.0.1:{mport}"])
    check(srv.ready, "metrics: server started")
    admin = {"X-Auth-Token": "admin", "OpenStack-API-Version": "placement latest"}
    for _ in range(3):
        srv.request("GET", "/resource_providers", admin)
    srv.request("GET", "/resource_providers/nope", admin)
    srv.request("GET", "/resource_providers")  # 401
    srv.request("GET", "/allocation_candidates?resources=VCPU:1", admin)
    st, ctype, text = scrape(mport)
    check(st == 200 and ctype.startswith("text/plain; version=0.0.4"),
          f"GET /metrics: 200 in the text exposition format ({ctype})")
    promtool = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                              text=True, timeout=60) if shutil.which("promtool") else None
    check(promtool is not None and promtool.returncode == 0,
          "promtool check metrics accepts it" +
          ("" if promtool is None or promtool.returncode == 0 else
           f": {promtool.stdout}{promtool.stderr}"[:500]) + (" (promtool missing)" if promtool is None else ""))
    v = metric_value(text, "placid_http_requests_total",
                     {"route": "/resource_providers", "method": "GET", "status": "200"})
    check(v == 3, f"requests counted by route pattern, method and status ({v})")
    v = metric_value(text, "placid_http_requests_total",
                     {"route": "/resource_providers/{uuid}", "status": "404"})
    check(v == 1, f"the route is the pattern, not the path ({v})")
    v = metric_value(text, "placid_http_request_duration_seconds_count",
                     {"route": "/resource_providers", "method": "GET"})
    check(v == 3, f"latency histogram by route ({v})")
    # Clients that leave mid-request must not stay counted as in flight.
    for partial in (b"GET /resource_providers HTTP/1.1\r\nHost: x\r\n",
                    b"PUT /resource_providers/x HTTP/1.1\r\nHost: x\r\nX-Auth-Token: admin\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"):
        with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as c:
            c.sendall(partial)
            time.sleep(0.2)
    time.sleep(0.5)
    st, ctype, text = scrape(mport)
    check(metric_value(text, "placid_http_requests_in_flight") == 1,
          "requests in flight: the scrape itself (clients gone mid-request not counted)")
    check(metric_value(text, "placid_allocation_candidates_returned_count") == 1,
          "candidates per query observed")
    for name in ("placid_db_busy_total", "placid_db_pool_waits_total",
                 "placid_tree_cache_hits_total", "placid_tree_cache_misses_total",
                 "placid_tree_cache_bytes", "placid_db_wal_bytes", "process_cpu_seconds_total",
                 "process_resident_memory_bytes", "process_open_fds", "process_start_time_seconds"):
        check(metric_value(text, name) is not None, f"{name} is exported")
    check(metric_value(text, "placid_db_wal_bytes") > 0, "WAL size is the file's")

    # A write held up by another process's lock: 503, counted as busy.
    holder = sqlite3.connect(srv.db, timeout=10, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    st, _, _ = srv.request("POST", "/resource_providers", dict(admin, **{
        "Content-Type": "application/json"}), json.dumps({"name": "x"}).encode())
    holder.execute("ROLLBACK")
    holder.close()
    _, _, text = scrape(mport)
    check(st == 503 and (metric_value(text, "placid_db_busy_total") or 0) >= 1,
          f"a busy database's 503 is counted ({st})")
    check(metric_value(text, "placid_http_requests_total",
                       {"route": "/resource_providers", "method": "POST", "status": "503"}) == 1,
          "and shows as a 503 of its route")
    st, _, _ = srv.request("GET", "/metrics")
    check(st == 401, "the API port does not serve /metrics")
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{mport}/other", timeout=10)
        st = 200
    except urllib.error.HTTPError as e:
        st = e.code
    check(st == 404, f"the metrics port serves only /metrics ({st})")
    check(srv.stop() == 0, "metrics: clean stop")
    check(sanitizer_clean(srv.log_text()), "metrics: no sanitizer report")


def send_raw(port, data):
    """Sends raw request bytes and returns the raw answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


# Request lines with bytes meant to forge or corrupt log lines (issue 14
# item 10): a path with an encoded newline and a whole fake line after it,
# CR, ESC, C1 NEL, U+2028, invalid UTF-8, quotes and backslashes, and a
# global request id header with control bytes.
FAKE = b"2026-01-01T00:00:00.000Z INFO GET / 200 0.01ms req-forged"
HOSTILE = [
    b"GET /x%0a" + FAKE.replace(b" ", b"%20") + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"GET /y%0d%1b[31m%c2%85%e2%80%a8%c3%28%ff%22%5c HTTP/1.1\r\nHost: x\r\n"
    b"X-Openstack-Request-Id: req-g\x01\x7f\"\\\xff\r\nConnection: close\r\n\r\n",
    b"GET /z?q=%0a" + FAKE.replace(b" ", b"+") + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
]


def bad_bytes(line):
    """Control characters or invalid UTF-8 in one line (without its newline)."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return any(ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f or c in "\u2028\u2029" for c in text)


def test_logs(tmp):
    res = subprocess.run([PLACID, "--log-format", "xml", *safe_args(tmp)], capture_output=True,
                         text=True, timeout=20)
    check(res.returncode != 0 and len(res.stderr.strip().splitlines()) == 1
          and "log format" in res.stderr, "bad --log-format: one-line error")
    env = dict(os.environ, PLACID_LOG_FORMAT="yaml")
    res = subprocess.run([PLACID, *safe_args(tmp)], capture_output=True, text=True, timeout=20,
                         env=env)
    check(res.returncode != 0 and "log format" in res.stderr, "bad PLACID_LOG_FORMAT: one-line error")
    for fmt in ("text", "json"):
        srv = Server(tmp, "log-" + fmt, ["--log-format", fmt])
        check(srv.ready, f"{fmt} log: server started")
        for raw in HOSTILE:
            send_raw(srv.port, raw)
        srv.request("GET", "/resource_providers", {"X-Auth-Token": "admin",
                                                   "X-Openstack-Request-Id": "req-global-1"})
        check(srv.stop() == 0, f"{fmt} log: clean stop")
        with open(srv.log_path, "rb") as f:
            raw_lines = f.read().split(b"\n")
        lines = [l for l in raw_lines if l]
        check(not any(b"req-forged" in l and (l.startswith(b"2026-01-01") or
                                              l.startswith(b'{"time": "2026-01-01'))
                      for l in lines), f"{fmt} log: no forged line")
        check(not any(bad_bytes(l) for l in lines),
              f"{fmt} log: no control character or invalid UTF-8 in any line")
        if fmt == "text":
            x = [l for l in lines if b" GET /x" in l]
            check(len(x) == 1 and b"/x\\n2026-01-01T00:00:00.000Z INFO GET / 200" in x[0],
                  f"text log: the newline is shown as \\n on the request's own line ({x})")
            y = [l for l in lines if b" GET /y" in l]
            check(len(y) == 1 and b"\\r\\x1b[31m\\u0085\\u2028\\xc3(\\xff\"\\\\" in y[0]
                  and b"global=req-g\\x01\\x7f" in y[0], f"text log: each bad byte escaped ({y})")
            ok = [l for l in lines if b"GET /resource_providers 200" in l]
            check(len(ok) == 1 and b" req-" in ok[0] and ok[0].endswith(b" global=req-global-1"),
                  "text log: the request line keeps its format")
            continue
        docs = []
        for l in lines:
            try:
                docs.append(json.loads(l))
            except ValueError:
                docs.append(None)
        check(all(isinstance(d, dict) for d in docs), "json log: every line is one JSON object")
        docs = [d for d in docs if isinstance(d, dict)]
        check(all({"time", "level", "caller", "message"} <= set(d) for d in docs),
              "json log: time, level, caller and message on every line")
        reqs = [d for d in docs if "method" in d]
        x = [d for d in reqs if d["path"].startswith("/x")]
        check(len(x) == 1 and x[0]["path"] == "/x\n" + FAKE.decode(),
              "json log: the path is one field, decoded exactly")
        y = [d for d in reqs if d["path"].startswith("/y")]
        check(len(y) == 1 and y[0]["path"] == "/y\r\x1b[31m\u0085\u2028\\xc3(\\xff\"\\"
              and y[0]["global_request_id"] == "req-g\x01\x7f\"\\\\xff",
              f"json log: controls as JSON escapes, invalid bytes as \\xNN ({y})")
        ok = [d for d in reqs if d["path"] == "/resource_providers"]
        want = {"method": "GET", "status": 200, "global_request_id": "req-global-1",
                "client": "127.0.0.1", "level": "INFO"}
        check(len(ok) == 1 and all(ok[0].get(k) == v for k, v in want.items())
              and ok[0]["request_id"].startswith("req-")
              and isinstance(ok[0]["duration_ms"], (int, float))
              and ok[0]["caller"].startswith("server/http.c:"),
              f"json log: request fields ({ok})")
        check(sanitizer_clean(srv.log_text()), f"{fmt} log: no sanitizer report")


def test_backup(tmp):
    srv = Server(tmp, "live")
    check(srv.ready, "backup: server started")
    admin = {"X-Auth-Token": "admin", "OpenStack-API-Version": "placement latest",
             "Content-Type": "application/json"}
    for i in range(50):
        srv.request("POST", "/resource_providers", admin,
                    json.dumps({"name": f"before-{i}"}).encode())
    # Writers keep going while the copies are made.
    stop = threading.Event()
    statuses = []

    def writer():
        i = 0
        while not stop.is_set():
            st, _, _ = srv.request("POST", "/resource_providers", admin,
                                   json.dumps({"name": f"during-{i}"}).encode())
            statuses.append(st)
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    copies = []
    for n in range(3):
        dest = os.path.join(tmp, f"copy-{n}.db")
        res = subprocess.run([PLACID, "--db", srv.db, "--backup", dest], capture_output=True,
                             text=True, timeout=60)
        copies.append((dest, res))
        time.sleep(0.2)
    stop.set()
    t.join()
    check(all(res.returncode == 0 and "written to" in res.stdout for _, res in copies),
          f"--backup while serving and writing: exit 0 ({[r.stderr.strip() for _, r in copies]})")
    check(statuses and all(st == 200 for st in statuses),
          f"writes during the backups all succeed ({len(statuses)} writes, "
          f"{sorted(set(statuses))})")
    counts = []
    for dest, _ in copies:
        if not os.path.exists(dest):
            check(False, f"copy {os.path.basename(dest)} exists")
            counts.append(-1)
            continue
        db = sqlite3.connect(dest)
        counts.append(db.execute("SELECT count(*) FROM providers").fetchone()[0])
        ok = db.execute("PRAGMA integrity_check").fetchone()[0]
        db.close()
        check(ok == "ok", f"copy {os.path.basename(dest)} passes integrity_check")
    check(all(c >= 50 for c in counts) and counts == sorted(counts),
          f"each copy holds every provider committed before it ({counts})")
    res = subprocess.run([PLACID, "--db", srv.db, "--backup", copies[0][0]], capture_output=True,
                         text=True, timeout=60)
    check(res.returncode == 1 and len(res.stderr.strip().splitlines()) == 1 and
          "exists" in res.stderr, "an existing destination is refused, one line")
    res = subprocess.run([PLACID, "--db", os.path.join(tmp, "none.db"), "--backup",
                          os.path.join(tmp, "x.db")], capture_output=True, text=True, timeout=60)
    check(res.returncode == 1 and "no database" in res.stderr and
          not os.path.exists(os.path.join(tmp, "none.db")),
          "a missing database is an error and is not created")
    res = subprocess.run([PLACID, "--db", srv.db, "--backup", "/nonexistent-dir/x.db"],
                         capture_output=True, text=True, timeout=60)
    check(res.returncode == 1 and len(res.stderr.strip().splitlines()) == 1,
          "an unwritable destination: one-line error")
    check(srv.stop() == 0, "backup: clean stop")
    check(sanitizer_clean(srv.log_text()), "backup: no sanitizer report")

    # Restore: a stopped placid started on the copy serves its data.
    os.rename(copies[-1][0], os.path.join(tmp, "restored.db"))
    srv = Server(tmp, "restored")
    st, _, body = srv.request("GET", "/resource_providers", admin) if srv.ready else (0, 0, b"{}")
    n = len(json.loads(body).get("resource_providers", []))
    check(st == 200 and n == counts[-1], f"a placid started on the copy serves it ({n})")
    srv.stop()


with tempfile.TemporaryDirectory() as tmp:
    test_backup(tmp)
    test_healthcheck(tmp)
    test_metrics(tmp)
    test_logs(tmp)

print(f"operations: {len(failures)} failed")
sys.exit(1 if failures else 0)
