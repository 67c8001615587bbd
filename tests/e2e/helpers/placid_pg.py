"""PostgreSQL pieces of the multi-node tests, the PostgreSQL conformance pass
and the bench: a throwaway server (tests/pg/pg), fresh databases on it, and
whether a placid binary starts on a PostgreSQL URI (a probe before a run
that would otherwise fail in many places at once).

As a command (tests/run, tests/bench/run):
    placid_pg.py support BINARY URI   exit 0: placid answers on URI;
                                      1: it does not (prints why)
    placid_pg.py haproxy-cfg PORT HOST:PORT...
                                      docs/haproxy-placid.cfg listening on
                                      127.0.0.1:PORT, one server per node
"""
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
# tests/e2e, so that the sibling helpers import alike as a module and as a
# command (tests/run runs this file).
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from helpers.placid_e2e import free_port, stop  # noqa: E402
PG = os.path.join(ROOT, "tests", "pg", "pg")
PSQL = "/usr/lib/postgresql/15/bin/psql"


def mask(text):
    """A URI's password replaced by ***, for anything printed."""
    return re.sub(r"(postgres(ql)?://[^:/@\s]*:)[^@\s]*@", r"\1***@", text)


def node_env():
    """The environment of a placid on PostgreSQL: this one without PLACID_*
    settings (PLACID_DB would override --db)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PLACID_")}


def support(binary, uri, seconds=60.0):
    """(True, "") when `binary --db uri` answers GET /; (False, why) when
    it does not. The probe runs in a private empty directory (a SQLite
    placid would create files relative to it) and is stopped by PID."""
    tmp = tempfile.mkdtemp(prefix="placid-pgprobe-")
    port = free_port()
    err = open(os.path.join(tmp, "stderr"), "w+")
    env = node_env()
    proc = subprocess.Popen([os.path.abspath(binary), "--listen", f"127.0.0.1:{port}", "--db", uri,
                             "--threads", "2"], cwd=tmp, stdout=subprocess.DEVNULL,
                            stderr=err, env=env)
    answered = False
    end = time.time() + seconds
    while time.time() < end and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as r:
                answered = r.status == 200
                if answered:
                    break
        except OSError:
            time.sleep(0.1)
    _, text = stop(proc, err)
    lines = [x for x in text.splitlines() if x.strip()]
    err.close()
    subprocess.run(["rm", "-rf", tmp], check=False)
    if answered:
        return True, ""
    return False, mask(f"placid --db URI: exit {proc.returncode}, stderr: " + " | ".join(lines[-5:]))


class Throwaway:
    """A throwaway PostgreSQL 15 (tests/pg/pg up) in a short private
    directory; .uri is the role `placid`'s URI on database `placid`.
    .installable is False when PostgreSQL cannot be installed here (pg's
    exit 77). down() stops it by PID and removes it."""

    def __init__(self):
        self.top = tempfile.mkdtemp(prefix="placid-pg-")
        os.chmod(self.top, 0o755)  # the server's user must reach DIR inside it
        self.dir = os.path.join(self.top, "pg")
        up = self.pg("up", self.dir)
        self.installable = up.returncode != 77
        self.ok = up.returncode == 0
        self.error = up.stderr.strip()[-500:]
        self.uri = up.stdout.strip()

    def pg(self, *args):
        return subprocess.run([PG, *args], capture_output=True, text=True, timeout=900)

    def pid(self):
        r = self.pg("pid", self.dir)
        return int(r.stdout) if r.returncode == 0 else None

    def uri_for(self, name):
        """The role's URI on database `name`."""
        return self.uri.rsplit("/", 1)[0] + "/" + name

    def create_db(self, name):
        """A fresh, empty database `name` owned by placid; returns its URI."""
        assert re.match(r"^[a-z_][a-z0-9_]*$", name)
        r = self.pg("psql", self.dir, "-d", "postgres",
                    "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)",
                    "-c", f"CREATE DATABASE {name} OWNER placid")
        if r.returncode != 0:
            raise RuntimeError(f"cannot create database {name}: {r.stderr.strip()}")
        return self.uri_for(name)

    def sql(self, name, query):
        """One query as the superuser on database `name`: (rc, stdout)."""
        r = self.pg("psql", self.dir, "-d", name, "-At", "-c", query)
        return r.returncode, r.stdout.strip()

    def down(self):
        if os.path.isdir(self.dir):
            self.pg("down", self.dir)
        subprocess.run(["rm", "-rf", self.top], check=False)


HAPROXY_CFG = os.path.join(ROOT, "docs", "haproxy-placid.cfg")


def haproxy_config(port, nodes):
    """docs/haproxy-placid.cfg, changed only where its header says: the
    `bind` port, and its first `server` line repeated once per node (with
    that line's options); the other `server` lines dropped."""
    out, template = [], None
    for line in open(HAPROXY_CFG).read().splitlines():
        s = line.strip()
        if s.startswith("bind 127.0.0.1:"):
            line = line.replace(s, f"bind 127.0.0.1:{port}")
        elif s.startswith("server "):
            if template is None:
                template = line
                name, addr = s.split()[1:3]
                for i, node in enumerate(nodes, 1):
                    out.append(template.replace(name, f"placid{i}", 1).replace(addr, node, 1))
            continue
        out.append(line)
    return "\n".join(out) + "\n"



def throwaway_for_test(check):
    """A test's Throwaway: (pg, None) when it runs; (None, 77) after saying
    why when PostgreSQL cannot be installed here and CI is not "true";
    (None, 1) after a failed check(ok, what) when it does not start."""
    pg = Throwaway()
    if not pg.installable and os.environ.get("CI") != "true":
        print("skip PostgreSQL 15 cannot be installed here: " + pg.error)
        pg.down()
        return None, 77
    if not check(pg.ok, f"pg up starts a server ({pg.error[-300:]})"):
        pg.down()
        return None, 1
    return pg, None


class HAProxy:
    """haproxy in the foreground (-db) on the config above, on a free port,
    in front of `nodes` ("127.0.0.1:PORT"); .url is its address. Its log
    goes to tmp/haproxy.log. stop() ends it by PID."""

    def __init__(self, tmp, nodes):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.cfg = os.path.join(tmp, "haproxy.cfg")
        with open(self.cfg, "w") as f:
            f.write(haproxy_config(self.port, nodes))
        self.log = open(os.path.join(tmp, "haproxy.log"), "w+")
        self.proc = subprocess.Popen(["haproxy", "-db", "-f", self.cfg], stdout=self.log,
                                     stderr=subprocess.STDOUT)

    def wait_healthy(self, seconds=30.0):
        """True once GET /healthcheck through haproxy answers 200."""
        end = time.time() + seconds
        while time.time() < end and self.proc.poll() is None:
            try:
                with urllib.request.urlopen(self.url + "/healthcheck", timeout=2) as r:
                    if r.status == 200:
                        return True
            except OSError:
                pass
            time.sleep(0.2)
        return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def main(argv):
    if len(argv) >= 4 and argv[1] == "haproxy-cfg":
        sys.stdout.write(haproxy_config(int(argv[2]), argv[3:]))
        return 0
    if len(argv) != 4 or argv[1] != "support":
        print("usage: placid_pg.py support BINARY URI | haproxy-cfg PORT HOST:PORT...",
              file=sys.stderr)
        return 2
    ok, why = support(argv[2], argv[3])
    if ok:
        return 0
    print(why)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
