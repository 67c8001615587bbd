#!/usr/bin/python3
"""The PostgreSQL write path's flags (issue 13), on a throwaway PostgreSQL 15:

--db-lock-timeout SECONDS: a write stuck behind a lock another session holds
answers 503 with Retry-After once it has waited that long (not forever), and
succeeds once the lock is gone; reads go on meanwhile.

--db-wait SECONDS: placid started while its PostgreSQL is down waits for it
(logging that it does), serves once the server is up, gives up with a one-line
error after SECONDS, and stops at once on SIGTERM while waiting.

Both flags (and PLACID_DB_LOCK_TIMEOUT, PLACID_DB_WAIT) are validated. Exit 77
(skipped) when PostgreSQL cannot be installed here, except under CI=true.
argv[1] is the placid binary."""
import os
import subprocess
import sys
import tempfile
import time

from helpers.placid_e2e import check, failures, free_port, http_call, launch, one_line_error
from helpers.placid_e2e import refuse, stop, stopped_cleanly, wait_ready
from helpers.placid_pg import PSQL, mask, throwaway_for_test

RP = "8c1f6bb4-0000-4000-8000-0000000000a1"
CONSUMER = "c0000000-0000-4000-8000-0000000000c1"
HDRS = {"x-auth-token": "admin", "openstack-api-version": "placement 1.39"}


def env(**extra):
    e = {k: v for k, v in os.environ.items() if not k.startswith("PLACID_")}
    e.update(extra)
    return e


def validation(binary, tmp):
    for args, want in ((["--db-lock-timeout", "-1"], "invalid value for --db-lock-timeout"),
                       (["--db-lock-timeout", "3601"], "invalid value for --db-lock-timeout"),
                       (["--db-lock-timeout", "5s"], "invalid value for --db-lock-timeout"),
                       (["--db-wait", "-1"], "invalid value for --db-wait"),
                       (["--db-wait", "86401"], "invalid value for --db-wait"),
                       (["--db-wait", "soon"], "invalid value for --db-wait")):
        r = refuse(binary, tmp, args, env=env())
        check(one_line_error(r, want), f"{' '.join(args)} is a one-line error", r.stderr)
    for name, value, want in (("PLACID_DB_LOCK_TIMEOUT", "x", "--db-lock-timeout"),
                              ("PLACID_DB_WAIT", "1.5", "--db-wait")):
        r = refuse(binary, tmp, [], env=env(**{name: value}))
        check(one_line_error(r, "invalid value for " + want), f"{name}={value} is refused",
              r.stderr)


def put_allocation(base, timeout=60):
    body = {"allocations": {RP: {"resources": {"VCPU": 1}}}, "project_id": "p", "user_id": "u",
            "consumer_generation": None, "consumer_type": "INSTANCE"}
    return http_call(f"{base}/allocations/{CONSUMER}", "PUT", HDRS, body, timeout=timeout)


def locked_sessions(pg, db):
    """Sessions of database db holding a row lock on providers."""
    _, out = pg.sql(db, "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                        " WHERE c.relname = 'providers' AND l.mode = 'RowShareLock'")
    return int(out or 0)


def lock_timeout(binary, pg, tmp):
    uri = pg.create_db("lock_timeout")
    port = free_port()
    err = open(os.path.join(tmp, "lock.log"), "w+")
    proc = launch(binary, port, uri, ("--threads", "4", "--db-lock-timeout", "1"), stderr=err,
                  env=env())
    if not check(wait_ready(port, proc, 60), "placid --db-lock-timeout 1 starts on PostgreSQL"):
        print(mask(stop(proc, err)[1][-2000:]))
        return
    base = f"http://127.0.0.1:{port}"
    status, _, body = http_call(base + "/resource_providers", "POST", HDRS,
                                {"uuid": RP, "name": "cn1"})
    check(status == 200, f"a provider is created ({status})", body)
    status, _, body = http_call(f"{base}/resource_providers/{RP}/inventories", "PUT", HDRS,
                                {"resource_provider_generation": 0,
                                 "inventories": {"VCPU": {"total": 8}}})
    check(status == 200, f"its VCPU inventory is set ({status})", body)
    # Another node's transaction takes the provider's row lock and hangs.
    holder = subprocess.Popen([PSQL, "-X", "-q", "-d", uri], stdin=subprocess.PIPE,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    holder.stdin.write("BEGIN;\nSELECT 1 FROM providers FOR UPDATE;\n")
    holder.stdin.flush()
    end = time.time() + 30
    while time.time() < end and locked_sessions(pg, "lock_timeout") < 1:
        time.sleep(0.1)
    check(locked_sessions(pg, "lock_timeout") == 1, "another session holds the provider's lock")
    t0 = time.time()
    status, headers, body = put_allocation(base)
    took = time.time() - t0
    check(status == 503 and headers.get("Retry-After") == "1",
          f"a claim stuck behind the lock answers 503 with Retry-After: 1 ({status})", body)
    check(0.9 <= took < 15, f"... after about the lock timeout, 1 s ({took:.1f} s)")
    status, _, body = http_call(f"{base}/resource_providers/{RP}/inventories", headers=HDRS)
    check(status == 200, f"reads of the locked provider go on ({status})", body)
    holder.stdin.close()  # psql ends, its transaction rolls back
    holder.wait(timeout=30)
    status, _, body = put_allocation(base)
    check(status == 204, f"once the lock is gone the claim succeeds ({status})", body)
    rc, log = stop(proc, err)
    check(stopped_cleanly(rc, log), f"placid stops cleanly (exit {rc})", mask(log[-2000:]))
    check("waited longer than --db-lock-timeout for a lock" in log,
          "the log says the write gave up waiting for a lock", mask(log[-2000:]))


def db_wait(binary, pg, tmp):
    uri = pg.create_db("db_wait")
    pg.pg("stop", pg.dir)
    # Gives up after the wait with the one-line reason last.
    t0 = time.time()
    r = subprocess.run([binary, "--listen", f"127.0.0.1:{free_port()}", "--db", uri,
                        "--db-wait", "2"], env=env(), capture_output=True, text=True, timeout=120)
    took = time.time() - t0
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    check(r.returncode != 0 and lines and lines[-1].startswith("placid: database unreachable:")
          and took >= 2, f"--db-wait 2 on a stopped server gives up after 2 s with the reason "
          f"({took:.1f} s, exit {r.returncode})", mask(r.stderr[-1500:]))
    waiting = [x for x in lines if "waiting for it (--db-wait" in x]
    check(1 <= len(waiting) <= 2, f"... logging that it waits, not every attempt "
          f"({len(waiting)} lines)", mask(r.stderr[-1500:]))
    # SIGTERM while waiting: stops at once, exit 0.
    err = open(os.path.join(tmp, "wait-term.log"), "w+")
    proc = launch(binary, free_port(), uri, ("--db-wait", "600"), stderr=err, env=env())
    time.sleep(1.5)
    t0 = time.time()
    rc, log = stop(proc, err)
    check(rc == 0 and time.time() - t0 < 10,
          f"SIGTERM while waiting for the database ends placid at once, exit 0 (exit {rc})",
          mask(log[-1500:]))
    # Started before its database: serves once the server is up.
    port = free_port()
    err = open(os.path.join(tmp, "wait.log"), "w+")
    proc = launch(binary, port, uri, ("--db-wait", "120", "--threads", "2"), stderr=err,
                  env=env())
    time.sleep(2)
    check(proc.poll() is None, "placid --db-wait 120 keeps waiting while PostgreSQL is down")
    r = pg.pg("start", pg.dir)
    check(r.returncode == 0, "PostgreSQL starts", r.stderr)
    if check(wait_ready(port, proc, 90), "placid comes up once PostgreSQL is there"):
        status, _, body = http_call(f"http://127.0.0.1:{port}/resource_providers", headers=HDRS)
        check(status == 200, f"and serves from it ({status})", body)
    rc, log = stop(proc, err)
    check(stopped_cleanly(rc, log), f"placid stops cleanly (exit {rc})", mask(log[-2000:]))
    check("waiting for it (--db-wait" in log and "***@" in log and
          uri.split("@")[0] not in log, "the wait is logged, the password masked",
          mask(log[-2000:]))


def main():
    binary = os.path.abspath(sys.argv[1])
    pg, rc = throwaway_for_test(check)
    if not pg:
        return rc
    tmp = tempfile.mkdtemp(prefix="placid-pgwrite-", dir=pg.top)
    try:
        validation(binary, tmp)
        lock_timeout(binary, pg, tmp)
        db_wait(binary, pg, tmp)
    finally:
        pg.down()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
