#!/usr/bin/python3
"""The backend switch of the e2e helpers (helpers/placid_e2e.py), which
tests/run uses to run the race, crash and robustness tests on PostgreSQL:

1. PLACID_E2E_DB unset or "sqlite": database(path) is the path itself;
   anything else (or a PLACID_E2E_PG without a server) ends a test with a
   one-line FAIL;
2. PLACID_E2E_DB=postgresql without PLACID_E2E_PG: a test's first server
   starts one throwaway PostgreSQL 15, each path is a fresh database on it
   (a second path sees none of the first's data), the same path again is the
   same database (a restart finds its data), db_value() reads it, placid's
   command line holds no password, and the server is stopped by PID when
   the test exits;
3. with PLACID_E2E_PG=DIR the servers use that one, which outlives the test.

Each case runs a small test program in a child Python, as tests/run would.
argv[1]: placid. Exit 77 when PostgreSQL cannot be installed here (outside
CI)."""
import os
import re
import subprocess
import sys

from helpers.placid_e2e import check, failures
from helpers.placid_pg import Throwaway

HERE = os.path.dirname(os.path.abspath(__file__))
PLACID = os.path.abspath(sys.argv[1])

# The child: two servers on two paths (a provider made on the first), the
# first restarted; prints what the parent checks, one "key value" a line.
CHILD = r"""
import os, sys, tempfile
from helpers.placid_e2e import Server, database, db_value, http_call, _pg
H = {"x-auth-token": "admin", "openstack-api-version": "placement 1.39"}
tmp = tempfile.mkdtemp(prefix="placid-switch-")
print("db", database(os.path.join(tmp, "one.db")), flush=True)
a = Server(sys.argv[1], tmp, name="one")
st, _, _ = http_call(a.url + "/resource_providers", "POST", H,
                     {"name": "switch", "uuid": "5c5c5c5c-0000-4000-8000-000000000001"})
print("created", st)
print("cmdline", open(f"/proc/{a.proc.pid}/cmdline").read().replace("\0", " "))
a.stop()
a = Server(sys.argv[1], tmp, name="one")
st, _, body = http_call(a.url + "/resource_providers", "GET", H)
print("after_restart", st, body.count(b'"switch"'))
b = Server(sys.argv[1], tmp, name="two")
st, _, body = http_call(b.url + "/resource_providers", "GET", H)
print("second_path", st, body.count(b'"switch"'))
q = "SELECT count(*) FROM providers WHERE name = 'switch'"
print("db_value", db_value(os.path.join(tmp, "one.db"), q), db_value(os.path.join(tmp, "two.db"), q))
print("rc", a.stop()[0], b.stop()[0])
print("pgdir", _pg["dir"])
print("pgpid", open(os.path.join(_pg["dir"], "data", "postmaster.pid")).readline().strip())
"""


def child(env_over, code=CHILD):
    env = {k: v for k, v in os.environ.items() if k not in ("PLACID_E2E_DB", "PLACID_E2E_PG")}
    env.update(env_over)
    r = subprocess.run([sys.executable, "-c", code, PLACID], cwd=HERE, env=env,
                       capture_output=True, text=True, timeout=300)
    out = {}
    for line in r.stdout.splitlines():
        k, _, v = line.partition(" ")
        out[k] = v
    return r, out


def one_line_fail(r, want):
    lines = [x for x in (r.stdout + r.stderr).splitlines() if x.strip()]
    return r.returncode != 0 and len(lines) == 1 and lines[0].startswith("FAIL ") and want in lines[0]


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


def postmaster(pgdir):
    try:
        with open(os.path.join(pgdir, "data", "postmaster.pid")) as f:
            return int(f.readline())
    except (OSError, ValueError):
        return None


def bad_values():
    code = ("from helpers.placid_e2e import database\n"
            "print(database('/tmp/x.db'))\n")
    r, _ = child({}, code)
    check(r.returncode == 0 and r.stdout.strip() == "/tmp/x.db",
          "PLACID_E2E_DB unset: database(path) is the path", r.stdout + r.stderr)
    r, _ = child({"PLACID_E2E_DB": "sqlite"}, code)
    check(r.returncode == 0 and r.stdout.strip() == "/tmp/x.db",
          "PLACID_E2E_DB=sqlite: database(path) is the path", r.stdout + r.stderr)
    r, _ = child({"PLACID_E2E_DB": "mysql"}, code)
    check(one_line_fail(r, "PLACID_E2E_DB='mysql': must be sqlite or postgresql"),
          "PLACID_E2E_DB=mysql: a one-line FAIL", r.stdout + r.stderr)
    r, _ = child({"PLACID_E2E_DB": "postgresql", "PLACID_E2E_PG": "/nonexistent"}, code)
    check(one_line_fail(r, "PLACID_E2E_PG=/nonexistent: no server made by tests/pg/pg up"),
          "PLACID_E2E_PG without a server: a one-line FAIL", r.stdout + r.stderr)


def check_run(label, r, out):
    if not check(r.returncode == 0, f"{label}: the child test runs", r.stdout + r.stderr):
        return
    check(out.get("db", "").startswith("postgresql://placid@127.0.0.1:"),
          f"{label}: a path names a PostgreSQL database ({out.get('db')})")
    check(out.get("created") == "200", f"{label}: a provider is created on it")
    cmd = out.get("cmdline", "")
    check(re.search(r"--db postgresql://placid@127\.0\.0\.1:\d+/e2e_\d+_0 ", cmd) is not None,
          f"{label}: placid's --db is the URI without a password ({cmd})")
    check(out.get("after_restart") == "200 1",
          f"{label}: restarted on the same path, the provider is there ({out.get('after_restart')})")
    check(out.get("second_path") == "200 0",
          f"{label}: a second path is a fresh database ({out.get('second_path')})")
    check(out.get("db_value") == "1 0",
          f"{label}: db_value() reads each path's database ({out.get('db_value')})")
    check(out.get("rc") == "0 0", f"{label}: both servers exit 0 on SIGTERM ({out.get('rc')})")


def main():
    ci = os.environ.get("CI") == "true"
    bad_values()
    # 2. The test process starts its own server and stops it at exit.
    r, out = child({"PLACID_E2E_DB": "postgresql"})
    if r.returncode == 77 and not ci:
        print("skip: PostgreSQL 15 cannot be installed here: " + r.stdout.strip())
        return 77
    check_run("own server", r, out)
    pgdir, pid = out.get("pgdir", ""), int(out.get("pgpid") or 0)
    check(bool(pgdir) and not os.path.exists(pgdir) and pid > 0 and not alive(pid),
          f"own server: stopped (PID {pid} gone) and removed ({pgdir}) when the test exits")
    # 3. A server given by PLACID_E2E_PG is used and left running.
    pg = Throwaway()
    try:
        if not check(pg.ok, f"a throwaway PostgreSQL for PLACID_E2E_PG ({pg.error})"):
            return 1
        r, out = child({"PLACID_E2E_DB": "postgresql", "PLACID_E2E_PG": pg.dir})
        check_run("PLACID_E2E_PG", r, out)
        check(out.get("pgdir") == pg.dir, "PLACID_E2E_PG: the given server is used")
        pid = postmaster(pg.dir)
        check(pid is not None and alive(pid), "PLACID_E2E_PG: the server outlives the test")
        rc, names = pg.sql("postgres", "SELECT count(*) FROM pg_database WHERE datname LIKE 'e2e_%'")
        check(rc == 0 and names == "2", f"PLACID_E2E_PG: two databases made on it ({names})")
    finally:
        pg.down()
    print(("FAIL: " if failures else "ok: ") + f"pg_e2e_switch, {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
