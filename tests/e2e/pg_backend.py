#!/usr/bin/python3
"""--db with a PostgreSQL conninfo (issue 13, store/pg_store.c): placid
migrates a throwaway PostgreSQL 15 at start, serves, answers GET
/healthcheck from it, never logs the password, and stops cleanly; an
unreachable database is a one-line start-up error (URI or keyword string,
password masked); --backup on PostgreSQL says to use pg_dump; the retired
preview switch PLACID_PG_PREVIEW=0 no longer turns the backend off. Exit 77
(skipped) when PostgreSQL cannot be installed here, except under CI=true.
argv[1] is the placid binary."""
import json
import os
import subprocess
import sys

from helpers.placid_e2e import check, failures, free_port, http_call, launch, one_line_error
from helpers.placid_e2e import stop, stopped_cleanly, wait_ready
from helpers.placid_pg import throwaway_for_test

PSQL = "/usr/lib/postgresql/15/bin/psql"


def env(**extra):
    e = {k: v for k, v in os.environ.items() if not k.startswith("PLACID_")}
    e.update(extra)
    return e


def run(binary, args, environ):
    return subprocess.run([binary, "--listen", f"127.0.0.1:{free_port()}", *args],
                          env=environ, capture_output=True, text=True, timeout=60)


def served(binary, tmp, uri, password):
    port = free_port()
    err = open(os.path.join(tmp, "placid.log"), "w+")
    proc = launch(binary, port, uri, ("--threads", "2", "--db-connections", "2"), stderr=err,
                  env=env())
    if not check(wait_ready(port, proc, 60), "placid --db postgresql://... starts and serves"):
        rc, log = stop(proc, err)
        print(log[-2000:].replace(password, "<PASSWORD>"))
        return
    base = f"http://127.0.0.1:{port}"
    status, _, body = http_call(base + "/healthcheck")
    check(status == 200, f"GET /healthcheck answers 200 from PostgreSQL ({status})", body)
    r = subprocess.run([PSQL, "-X", "-At", "-d", uri, "-c",
                        "SELECT max(version) FROM schema_migrations"],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0 and int(r.stdout.strip() or 0) >= 2,
          f"the migrations ran on PostgreSQL ({r.stdout.strip()} {r.stderr.strip()})")
    # An operation not yet ported answers a JSON error, it does not crash.
    hdrs = {"x-auth-token": "admin", "openstack-api-version": "placement latest"}
    for path, key in (("/resource_classes", "resource_classes"),
                      ("/resource_providers/8c1f6bb4-0000-4000-8000-000000000001/inventories",
                       "itemNotFound"),
                      ("/allocation_candidates?resources=VCPU:1", "allocation_requests"),
                      ("/resource_providers", "resource_providers")):
        status, _, body = http_call(base + path, headers=hdrs)
        doc = json.loads(body or b"{}")
        check(status in (200, 404) or status == 500 and "errors" in doc,
              f"GET {path}: an answer or a JSON 500, never a crash ({status})", body)
    check(proc.poll() is None, "placid still runs")
    rc, log = stop(proc, err)
    check(stopped_cleanly(rc, log), f"placid stops cleanly (exit {rc}, no sanitizer report)",
          log[-2000:].replace(password, "<PASSWORD>"))
    check(password not in log and "placid:***@" in log,
          "the log shows the database with its password masked, never the password")


def main():
    binary = sys.argv[1]
    pg, rc = throwaway_for_test(check)
    if not pg:
        return rc
    top, uri = pg.top, pg.uri
    password = uri.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    try:
        served(binary, top, uri, password)
        dead = "postgresql://placid:s3cret-pw@127.0.0.1:%d/placid" % free_port()
        r = run(binary, ["--db", dead], env())
        check(one_line_error(r, "database unreachable: postgresql://placid:***@127.0.0.1:")
              and "s3cret-pw" not in r.stderr,
              "an unreachable database (URI) is a one-line start-up error, password masked",
              r.stderr)
        e = env()
        e["PLACID_DB"] = "host=127.0.0.1 port=%d dbname=placid password=s3cret-pw" % free_port()
        r = run(binary, [], e)
        check(one_line_error(r, "database unreachable: host=127.0.0.1") and
              "s3cret-pw" not in r.stderr,
              "PLACID_DB as a libpq keyword string: the same one-line error, masked", r.stderr)
        r = run(binary, ["--db", uri, "--backup", os.path.join(top, "copy")], env())
        check(one_line_error(r, "use pg_dump") and password not in r.stderr,
              "--backup on PostgreSQL refuses and points to pg_dump", r.stderr)
        r = run(binary, ["--db", dead], env(PLACID_PG_PREVIEW="0"))
        check(one_line_error(r, "database unreachable: postgresql://placid:***@127.0.0.1:")
              and "s3cret-pw" not in r.stderr,
              "PLACID_PG_PREVIEW=0 (the retired preview switch) does not turn the backend off",
              r.stderr)
    finally:
        pg.down()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
