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

PLACID = sys.argv[1]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    res = subprocess.run([PLACID, "--metrics-listen", "nowhere"], capture_output=True, text=True,
                         timeout=20)
    check(res.returncode != 0 and res.stderr.strip().count("\n") == 0
          and "--metrics-listen" in res.stderr, "bad --metrics-listen: one-line error")
    env = dict(os.environ, PLACID_METRICS_LISTEN="1.2.3")
    res = subprocess.run([PLACID], capture_output=True, text=True, timeout=20, env=env)
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
    check(metric_value(text, "placid_http_requests_in_flight") == 1,
          "requests in flight: the scrape itself")
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


with tempfile.TemporaryDirectory() as tmp:
    test_healthcheck(tmp)
    test_metrics(tmp)

print(f"operations: {len(failures)} failed")
sys.exit(1 if failures else 0)
