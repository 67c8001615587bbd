#!/usr/bin/python3
"""The placid command line: flags, environment, start-up errors, graceful
stop and the schema-version guard. argv[1] is the placid binary."""
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import urllib.request

from helpers.placid_e2e import check, failures, free_port, one_line_error, stop, wait_ready

PLACID = sys.argv[1]


def run(args, env=None, timeout=10):
    return subprocess.run([PLACID] + args, capture_output=True, text=True, timeout=timeout,
                          env=env)


def start(args, env=None):
    proc = subprocess.Popen([PLACID] + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, env=env)
    return proc


with tempfile.TemporaryDirectory() as tmp:
    db = os.path.join(tmp, "p.db")
    res = run(["--help"])
    check(res.returncode == 0 and "--listen" in res.stdout, "--help prints usage, exit 0")
    res = run(["--version"])
    check(res.returncode == 0 and res.stdout.startswith("placid "), "--version")
    check(one_line_error(run(["--bogus"])), "unknown flag: one-line error, non-zero exit")
    check(one_line_error(run(["--listen", "nonsense"])), "bad --listen: one-line error")
    check(one_line_error(run(["--threads", "0"])), "bad --threads: one-line error")
    check(one_line_error(run(["--tree-cache-mb", "-1"])), "bad --tree-cache-mb: one-line error")
    check(one_line_error(run(["--db", "/nonexistent-dir/x/p.db", "--listen",
                              f"127.0.0.1:{free_port()}"])),
          "unwritable database path: one-line error")

    port = free_port()
    env = dict(os.environ, PLACID_LISTEN=f"127.0.0.1:{port}", PLACID_DB=db)
    proc = start([], env=env)
    check(wait_ready(port, proc), "PLACID_LISTEN/PLACID_DB environment variables are used")
    busy = run(["--listen", f"127.0.0.1:{port}", "--db", os.path.join(tmp, "q.db")])
    check(one_line_error(busy), "port in use: one-line error, non-zero exit")

    # A request in flight when SIGTERM arrives still gets its answer.
    req = urllib.request.Request(f"http://127.0.0.1:{port}/resource_providers",
                                 headers={"x-auth-token": "admin"})
    with urllib.request.urlopen(req, timeout=5) as r:
        check(r.status == 200, "GET /resource_providers with admin token")
    rc, _ = stop(proc)
    log = proc.stderr.read()
    check(rc == 0, "SIGTERM: exit 0")
    check("GET /resource_providers 200" in log and "req-" in log,
          "one log line per request with method, path, status and request id")

    con = sqlite3.connect(db)
    std_rc = con.execute("SELECT count(*) FROM resource_classes WHERE id < 10000").fetchone()[0]
    std_traits = con.execute("SELECT count(*) FROM traits").fetchone()[0]
    packed = con.execute(
        "SELECT count(*) FROM traits WHERE name = 'COMPUTE_NET_VIRTIO_PACKED'").fetchone()[0]
    check(std_rc == 21 and std_traits == 377 and packed == 1,
          "fresh database: 21 standard classes, 377 standard traits incl. packed ring")
    # An older database that lacks a standard trait gets it back at start-up.
    con.execute("DELETE FROM traits WHERE name = 'COMPUTE_NET_VIRTIO_PACKED'")
    con.commit()
    proc = start(["--listen", f"127.0.0.1:{port}", "--db", db])
    check(wait_ready(port, proc), "restart on an existing database")
    stop(proc)
    packed = con.execute(
        "SELECT count(*) FROM traits WHERE name = 'COMPUTE_NET_VIRTIO_PACKED'").fetchone()[0]
    check(packed == 1, "missing standard trait added on start-up")
    # A database from a newer placid is refused.
    con.execute("PRAGMA user_version = 9999")
    con.commit()
    con.close()
    res = run(["--listen", f"127.0.0.1:{free_port()}", "--db", db])
    check(one_line_error(res) and "newer" in res.stderr, "newer database refused clearly")

    # A deployment's own admin token replaces the literal "admin".
    tokfile = os.path.join(tmp, "token")
    with open(tokfile, "w") as f:
        f.write("s3cret\n")
    port = free_port()
    proc = start(["--listen", f"127.0.0.1:{port}", "--db", os.path.join(tmp, "t.db"),
                  "--admin-token-file", tokfile])
    wait_ready(port, proc)
    def status(token):
        req = urllib.request.Request(f"http://127.0.0.1:{port}/resource_providers",
                                     headers={"x-auth-token": token})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
    check(status("s3cret") == 200 and status("admin") == 403,
          "--admin-token-file replaces the admin token")
    stop(proc)

    # Candidate queries keep the provider trees they read; a write made by
    # another process (here Python's sqlite3) must still show in the next
    # answer, with the cache on and with it off.
    for cache_mb in ("64", "0"):
        port = free_port()
        db = os.path.join(tmp, f"cache{cache_mb}.db")
        proc = start(["--listen", f"127.0.0.1:{port}", "--db", db,
                      "--tree-cache-mb", cache_mb])
        wait_ready(port, proc)
        def call(method, path, body=None):
            req = urllib.request.Request(
                f"http://127.0.0.1:{port}{path}", method=method,
                data=None if body is None else json.dumps(body).encode(),
                headers={"x-auth-token": "admin", "content-type": "application/json",
                         "openstack-api-version": "placement 1.39"})
            with urllib.request.urlopen(req, timeout=5) as r:
                return json.loads(r.read() or b"null")
        rp = "4e8e5957-649f-477b-9e5b-f1f75b21c03c"
        call("POST", "/resource_providers", {"uuid": rp, "name": "cn"})
        call("PUT", f"/resource_providers/{rp}/inventories",
             {"resource_provider_generation": 0, "inventories": {"VCPU": {"total": 4}}})
        path = "/allocation_candidates?resources=VCPU:3"
        before = len(call("GET", path)["allocation_requests"])
        con = sqlite3.connect(db)
        con.execute("UPDATE inventories SET total = 2, max_unit = 2")
        con.commit()
        con.close()
        after = len(call("GET", path)["allocation_requests"])
        check(before == 1 and after == 0,
              f"tree cache {cache_mb} MB: another process's write shows in the next answer")
        stop(proc)

print(f"cli: {len(failures)} failed")
sys.exit(1 if failures else 0)
