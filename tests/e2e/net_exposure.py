#!/usr/bin/python3
"""Safe on a network, the front door (issue 14 items 1 and 10): placid
refuses to listen beyond loopback while the administrator token is the
well-known built-in one, logs at start which authentication mode and admin
token source are in force (never the token), and an HTML error page escapes
what it echoes from the request.

argv[1] is the placid binary (argv[2], the agent, is not used). Every
server is started on a free port and stopped by PID. Prints ok/FAIL lines;
exits non-zero on any failure.
"""
import http.client
import os
import signal
import subprocess
import sys
import tempfile
import time

from helpers.placid_e2e import check, failures, free_port, one_line_error

PLACID = sys.argv[1]
SECRET = "7f3c0a9e5b1d4c2aa8e6f0b3d9c71e42"


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLACID_")}
    env.update(extra)
    return env


def run(args, env):
    return subprocess.run([PLACID] + args, capture_output=True, text=True, timeout=20, env=env)


def names_both_ways(res):
    return "--admin-token-file" in res.stderr and "PLACID_ADMIN_TOKEN" in res.stderr


def get(port, path, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.getheader("Content-Type", ""), r.read().decode("utf-8", "replace")
    finally:
        conn.close()


def serve_once(args, env):
    """Starts placid, waits for GET /, returns (proc, port) or (proc, None)."""
    port = free_port()
    proc = subprocess.Popen([PLACID] + [a.replace("{port}", str(port)) for a in args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    end = time.time() + 30
    while time.time() < end and proc.poll() is None:
        try:
            if get(port, "/")[0] == 200:
                return proc, port
        except (OSError, http.client.HTTPException):
            time.sleep(0.05)
    return proc, None


def serve(args, env):
    """serve_once, tried again on a new port when the free port found was
    taken by another process before placid could bind it."""
    for _ in range(3):
        proc, port = serve_once(args, env)
        if port is not None or proc.poll() is None:
            return proc, port
        err = proc.stderr.read()
        if "cannot listen" not in err:
            sys.stderr.write(err)
            return proc, None
    return proc, None


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = -9
    return rc, proc.stderr.read()


with tempfile.TemporaryDirectory() as tmp:
    db = os.path.join(tmp, "p.db")
    base = ["--db", db]

    # Item 1: the built-in token is refused on any non-loopback address,
    # given by flag or environment, and also when "admin" is set explicitly.
    for what, args, env in [
            ("--listen 0.0.0.0", ["--listen", f"0.0.0.0:{free_port()}"], clean_env()),
            ("PLACID_LISTEN=0.0.0.0", [], clean_env(PLACID_LISTEN=f"0.0.0.0:{free_port()}")),
            ("PLACID_ADMIN_TOKEN=admin on 0.0.0.0", ["--listen", f"0.0.0.0:{free_port()}"],
             clean_env(PLACID_ADMIN_TOKEN="admin"))]:
        res = run(args + base, env)
        check(one_line_error(res) and names_both_ways(res),
              f"{what} with the built-in admin token: one-line error naming "
              f"--admin-token-file and PLACID_ADMIN_TOKEN ({res.stderr.strip()!r})")
    check(not os.path.exists(db), "refused before the database is created")

    # A real secret on 0.0.0.0: starts, says where the token came from, never
    # prints it, and the literal "admin" is an ordinary user.
    proc, port = serve(["--listen", "0.0.0.0:{port}"] + base, clean_env(PLACID_ADMIN_TOKEN=SECRET))
    check(port is not None, "0.0.0.0 with PLACID_ADMIN_TOKEN set: starts")
    if port:
        st_admin = get(port, "/resource_providers", {"X-Auth-Token": SECRET})[0]
        st_old = get(port, "/resource_providers", {"X-Auth-Token": "admin"})[0]
        check(st_admin == 200 and st_old == 403,
              f"the secret is admin (200, got {st_admin}), 'admin' is not (403, got {st_old})")
    rc, log = stop(proc)
    check(rc == 0, "stopped with SIGTERM, exit 0")
    check("authentication: noauth2" in log and "admin token from PLACID_ADMIN_TOKEN" in log,
          "start-up log names the auth mode and PLACID_ADMIN_TOKEN as the admin source")
    check(SECRET not in log, "the token never appears in the log")

    tokfile = os.path.join(tmp, "admin-token")
    with open(tokfile, "w") as f:
        f.write(SECRET + "\n")
    proc, port = serve(["--listen", "0.0.0.0:{port}", "--admin-token-file", tokfile] + base,
                       clean_env())
    check(port is not None, "0.0.0.0 with --admin-token-file: starts")
    rc, log = stop(proc)
    check(f"admin token from file {tokfile}" in log and SECRET not in log,
          "start-up log names the token file, not the token")

    # Loopback keeps the zero-configuration default, and says so.
    proc, port = serve(["--listen", "127.0.0.1:{port}"] + base, clean_env())
    check(port is not None, "127.0.0.1 with the built-in token: starts")
    if port:
        # Item 10: an HTML error page escapes the echoed version header; no
        # token is needed to reach it.
        evil = "placement <script>alert('x')</script>"
        st, ctype, body = get(port, "/resource_providers",
                              {"Accept": "text/html", "OpenStack-API-Version": evil})
        check(st == 400 and ctype.startswith("text/html"), f"bad version, Accept text/html: 400 "
              f"HTML (got {st} {ctype})")
        check("<script" not in body and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in body,
              "the HTML page escapes the echoed header")
        st, ctype, body = get(port, "/<b>x</b>", {"Accept": "text/html", "X-Auth-Token": "admin"})
        check(st == 404 and "<b>" not in body, f"404 page for a path with markup: escaped ({st})")
    rc, log = stop(proc)
    check('admin token from the built-in default "admin" (loopback only)' in log,
          "start-up log names the built-in default on loopback")

print(f"{'FAIL' if failures else 'ok'}: net_exposure, {len(failures)} failure(s)")
sys.exit(1 if failures else 0)
