"""Pieces every e2e test needs, written once: ok/FAIL reporting, a free
127.0.0.1 port, the sanitizer marks to scan a log for, stopping a server by
PID, and starting a placid on a free port and waiting until it answers
(launch, wait_ready, start_placid, must_start, Server). A test imports it
as `from helpers.placid_e2e import ...` (tests/run runs only
tests/e2e/*.py, so this module is not run as a test).

The backend switch: with PLACID_E2E_DB=postgresql, every database path a
test gives launch() (and so start_placid, must_start and Server) stands for
a fresh database on one throwaway PostgreSQL 15 instead of a SQLite file
(database(); the same path names the same database again, so a restart
finds its data). That server is the one in the directory PLACID_E2E_PG
(made by tests/pg/pg up; tests/run starts one per pass and stops it), else
one this process starts on first use and stops by PID when it exits.
PLACID_E2E_DB=sqlite, or unset, keeps the SQLite files. A test asks
on_postgresql() to skip, with a printed reason, what only SQLite has.
"""
import atexit
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

# The report of every check that failed, in order; a test exits non-zero
# when it is not empty.
failures = []

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))

# Lines an ASan/UBSan build writes to stderr when it finds a fault.
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "LeakSanitizer", "runtime error:")


def check(cond, what, extra=None):
    """Print an ok/FAIL line for `what` and remember a failure; on a failure
    `extra` (a response, a log), when given, is printed below it, shortened
    to its first and last 1000 characters."""
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)
        if extra is not None:
            text = str(extra)
            if len(text) > 2000:
                text = text[:1000] + " ... " + text[-1000:]
            print("     " + text, flush=True)
    return cond


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc, err=None):
    """SIGTERM `proc` (SIGKILL after 30 s); return its exit code (-9 when
    killed) and all it wrote to `err`, a file opened w+ ("" without one)."""
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        rc = -9
    if err is None:
        return rc, ""
    err.seek(0)
    return rc, err.read()


def stopped_cleanly(rc, log):
    """Exit status 0 and no sanitizer report (ASan, LSan, TSan or UBSan) in
    the log."""
    return rc == 0 and "Sanitizer" not in log and "runtime error" not in log


def one_line_error(res, want=""):
    """True when a finished placid run (subprocess.run with text=True) failed
    with exactly one line on stderr, "placid: ...", that contains `want`."""
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    return (res.returncode != 0 and len(lines) == 1 and lines[0].startswith("placid: ")
            and want in lines[0])


def refuse(binary, tmp, args, env=None):
    """Runs placid with `args` on a free port and tmp/never.db, for flags it
    must refuse at once; returns the finished run (subprocess.run, text)."""
    return subprocess.run([binary, "--listen", f"127.0.0.1:{free_port()}", "--db",
                           os.path.join(tmp, "never.db"), *args],
                          env=env, capture_output=True, text=True, timeout=20)


def http_call(url, method="GET", headers=None, body=None, timeout=30):
    """One request (urllib); returns (status, headers, body bytes), HTTP
    errors included. A body is sent as JSON."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, method=method, headers=headers or {}, data=data)
    if data:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def _backend():
    """PLACID_E2E_DB's value: "sqlite" (also when unset) or "postgresql";
    anything else ends the test with a one-line FAIL."""
    value = os.environ.get("PLACID_E2E_DB", "") or "sqlite"
    if value not in ("sqlite", "postgresql"):
        raise SystemExit(f"FAIL PLACID_E2E_DB={value!r}: must be sqlite or postgresql")
    return value


def on_postgresql():
    """True when this test's servers run on PostgreSQL (PLACID_E2E_DB)."""
    return _backend() == "postgresql"


def skip_on_postgresql(what, why):
    """On PostgreSQL, prints that the SQLite-only part `what` is skipped and
    `why`; returns True then (the caller leaves the part out)."""
    if not on_postgresql():
        return False
    print(f"skip {what} on PostgreSQL: {why}", flush=True)
    return True


# The PostgreSQL server of this process (directory, URI without password)
# and the database made for each path, in the order they were made.
_pg = {"dir": None, "base": None, "owned": None, "dbs": {}}


def _pg_server():
    """The directory of the PostgreSQL server this process uses: PLACID_E2E_PG,
    or one started now (tests/pg/pg up; stopped at exit). Exits 77 with a
    skip line when PostgreSQL cannot be installed here (outside CI)."""
    if _pg["dir"]:
        return _pg["dir"]
    given = os.environ.get("PLACID_E2E_PG", "")
    if given:
        if not os.path.isfile(os.path.join(given, "uri")):
            raise SystemExit(f"FAIL PLACID_E2E_PG={given}: no server made by tests/pg/pg up there")
        _pg["dir"] = given
    else:
        from helpers.placid_pg import Throwaway  # only the PostgreSQL runs need it
        pg = Throwaway()
        if not pg.ok:
            pg.down()
            if not pg.installable and os.environ.get("CI") != "true":
                print("skip: PostgreSQL 15 cannot be installed here: " + pg.error, flush=True)
                raise SystemExit(77)
            raise SystemExit(f"FAIL a throwaway PostgreSQL does not start: {pg.error}")
        _pg["owned"] = pg
        _pg["dir"] = pg.dir
        atexit.register(pg.down)
    with open(os.path.join(_pg["dir"], "uri")) as f:
        uri = f.read().strip()
    # postgresql://placid:PASSWORD@HOST:PORT/placid -> postgresql://placid@HOST:PORT
    user, rest = uri.split("://", 1)[1].split("@", 1)
    _pg["base"] = "postgresql://" + user.split(":", 1)[0] + "@" + rest.rsplit("/", 1)[0]
    return _pg["dir"]


def _is_conninfo(db):
    return db.startswith(("postgresql://", "postgres://")) or "=" in db


def database(path):
    """The --db of a server that a test would start on the SQLite file
    `path`: `path` itself on SQLite; on PostgreSQL the URI of a database
    made fresh the first time this process names `path`, and the same one
    after. The URI holds no password (launch() gives placid PGPASSFILE). A
    URI or keyword string is returned unchanged."""
    if not on_postgresql() or _is_conninfo(path):
        return path
    key = os.path.abspath(path)
    if key not in _pg["dbs"]:
        pgdir = _pg_server()
        name = f"e2e_{os.getpid()}_{len(_pg['dbs'])}"
        r = subprocess.run([os.path.join(_ROOT, "tests", "pg", "pg"), "psql", pgdir, "-d",
                            "postgres", "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)",
                            "-c", f"CREATE DATABASE {name} OWNER placid"],
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise SystemExit(f"FAIL cannot create the database {name}: {r.stderr.strip()}")
        _pg["dbs"][key] = _pg["base"] + "/" + name
    return _pg["dbs"][key]


def db_value(path, query):
    """The first column of the first row of `query` (plain SQL that both
    backends read alike) on the database of `path` (see database()), as
    text; None when there is no row."""
    if not on_postgresql():
        import sqlite3
        con = sqlite3.connect(path)
        try:
            row = con.execute(query).fetchone()
        finally:
            con.close()
        return None if row is None else str(row[0])
    name = database(path).rsplit("/", 1)[1]
    r = subprocess.run([os.path.join(_ROOT, "tests", "pg", "pg"), "psql", _pg_server(), "-d",
                        name, "-At", "-c", query], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise SystemExit(f"FAIL {query}: {r.stderr.strip()}")
    lines = r.stdout.splitlines()
    return lines[0] if lines else None


def database_env(db, env=None):
    """The environment of a placid on `db`: `env` (None: this process's);
    for a PostgreSQL URI of database() also PGPASSFILE (the throwaway
    server's password)."""
    if not (_pg["base"] and db.startswith(_pg["base"] + "/")):
        return env
    env = dict(os.environ if env is None else env)
    env["PGPASSFILE"] = os.path.join(_pg["dir"], "pgpass")
    return env


def launch(binary, port, db, args=(), stdout=subprocess.DEVNULL, stderr=None, env=None):
    """Starts `binary --listen 127.0.0.1:port --db database(db) args...`;
    returns the Popen at once (see wait_ready)."""
    db = database(db)
    return subprocess.Popen([binary, "--listen", f"127.0.0.1:{port}", "--db", db, *args],
                            stdout=stdout, stderr=stderr, env=database_env(db, env))


def wait_ready(port, proc, seconds=20.0):
    """True once GET / on 127.0.0.1:port answers 200; False when `proc`
    exits first or `seconds` pass."""
    end = time.time() + seconds
    while time.time() < end and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as r:
                if r.status == 200:
                    return True
        except OSError:
            time.sleep(0.05)
    return False


def start_placid(binary, db, args=(), stderr=None, env=None):
    """launch() on a free port, then wait_ready(); returns (proc, base URL).
    When it does not answer, kills it and raises SystemExit (a FAIL line)."""
    port = free_port()
    proc = launch(binary, port, db, args, stderr=stderr, env=env)
    if not wait_ready(port, proc):
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        raise SystemExit(f"FAIL placid did not answer GET / (exit status {proc.returncode})")
    return proc, f"http://127.0.0.1:{port}"


def must_start(binary, tmp, args, what, test):
    """A placid on a free port with a database of its own in tmp, without the
    PLACID_* environment; stderr goes to a file opened w+. Checked as `what`;
    when it does not answer, prints its log and `test`'s FAIL line and exits
    1. Returns (proc, port, stderr file)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLACID_")}
    err = open(os.path.join(tmp, f"placid-{port}.log"), "w+")
    proc = launch(binary, port, os.path.join(tmp, f"{port}.db"), args, stderr=err, env=env)
    if not check(wait_ready(port, proc), what):
        proc.kill()
        proc.wait()
        err.seek(0)
        print(err.read()[-2000:])
        print(f"FAIL: {test}, {len(failures)} failure(s)")
        sys.exit(1)
    return proc, port, err

class Server:
    """A placid (`binary`, a test's argv[1]) on a free 127.0.0.1 port with
    the database tmp/NAME.db and `args` (by default two HTTP workers); its
    stdout and stderr go to tmp/NAME.log (`log_path`). The constructor
    returns once GET / answers 200 (SystemExit after 20 s); stop() ends it by
    PID."""

    def __init__(self, binary, tmp, args=("--threads", "2"), name="placid", env=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(tmp, name + ".log")
        self.log = open(self.log_path, "w+")
        self.proc = launch(binary, self.port, os.path.join(tmp, name + ".db"), args,
                           stdout=self.log, stderr=subprocess.STDOUT, env=env)
        if wait_ready(self.port, self.proc):
            return
        self.stop()
        raise SystemExit("placid did not start")

    def stop(self):
        """SIGTERM (SIGKILL after 30 s); returns the exit code (-9 when
        killed) and the log. A second call returns (None, "")."""
        if self.log.closed:
            return None, ""
        rc, text = stop(self.proc, self.log)
        self.log.close()
        return rc, text
