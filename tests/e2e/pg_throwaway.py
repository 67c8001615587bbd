#!/usr/bin/python3
"""tests/pg/pg, the throwaway PostgreSQL 15 of the PostgreSQL tests: `up`
starts one as an unprivileged user on a free 127.0.0.1 port and prints a
libpq URI whose role needs its password; the data survives `restart`;
`down` stops exactly that postmaster (its PID is gone) and removes the
directory. Exit 77 (skipped) when PostgreSQL cannot be installed here,
except under CI=true, where that is a failure. argv is unused."""
import os
import subprocess
import sys
import tempfile
import time

from helpers.placid_e2e import check, failures

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PG = os.path.join(ROOT, "tests", "pg", "pg")
PSQL = "/usr/lib/postgresql/15/bin/psql"


def pg(*args):
    return subprocess.run([PG, *args], capture_output=True, text=True, timeout=900)


def psql(uri, sql):
    env = dict(os.environ, PGCONNECT_TIMEOUT="5")
    return subprocess.run([PSQL, "-X", "-q", "-At", "-d", uri, "-c", sql], capture_output=True,
                          text=True, timeout=60, env=env)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purpose: it no longer serves.
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


def main():
    top = tempfile.mkdtemp(prefix="placid-pg-")
    os.chmod(top, 0o755)  # the server's user must reach DIR inside it
    d = os.path.join(top, "pg")
    up = pg("up", d)
    if up.returncode == 77 and os.environ.get("CI") != "true":
        print("skip PostgreSQL 15 cannot be installed here: " + up.stderr.strip())
        os.rmdir(top)
        return 77
    if not check(up.returncode == 0, f"pg up starts a server ({up.stderr.strip()[-300:]})"):
        pg("down", d)
        return 1
    uri = up.stdout.strip()
    try:
        check(uri.startswith("postgresql://placid:") and "@127.0.0.1:" in uri,
              "it prints a libpq URI with a role, a password and 127.0.0.1")
        pid = int(pg("pid", d).stdout)
        owner = os.stat(f"/proc/{pid}").st_uid
        check(owner != 0, f"the postmaster (PID {pid}) does not run as root (uid {owner})")
        r = psql(uri, "CREATE TABLE t(x int); INSERT INTO t VALUES (42); SELECT current_user")
        check(r.returncode == 0 and r.stdout.strip() == "placid",
              f"psql connects with the URI as role placid ({r.stderr.strip()})")
        bad = uri.replace("placid:", "placid:wrong", 1)
        r = psql(bad, "SELECT 1")
        check(r.returncode != 0 and "password authentication failed" in r.stderr,
              "a wrong password is refused")
        r = psql(uri.split("://")[0] + "://placid@" + uri.split("@")[1], "SELECT 1")
        check(r.returncode != 0, "no password is refused (the role is password-protected)")
        check(pg("restart", d).returncode == 0, "pg restart")
        r = psql(uri, "SELECT x FROM t")
        check(r.returncode == 0 and r.stdout.strip() == "42", "the data survives a restart")
        pid = int(pg("pid", d).stdout)
    finally:
        down = pg("down", d)
    check(down.returncode == 0, f"pg down ({down.stderr.strip()})")
    for _ in range(50):
        if not alive(pid):
            break
        time.sleep(0.1)
    check(not alive(pid), f"the postmaster PID {pid} is gone after pg down")
    check(not os.path.exists(d), "pg down removed its directory")
    r = psql(uri, "SELECT 1")
    check(r.returncode != 0, "nothing answers on its port any more")
    os.rmdir(top)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
