#!/usr/bin/python3
"""Keystone mode's cache against a scripted fake Keystone (exact counts, no
real Keystone needed): concurrent requests with one new token cause one
validation, a valid token is not validated again, a rejected one is
remembered briefly, an expired token is refused although cached, the
service token is renewed when Keystone refuses it, and a slow Keystone is
bounded by --keystone-timeout. argv[1] is placid."""
import datetime
import http.server
import json
import os
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from helpers.placid_e2e import check, failures, free_port, launch, wait_ready

PLACID = sys.argv[1]


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.000000Z")


class Fake:
    """What the fake Keystone knows: token -> (roles, expires_at)."""
    lock = threading.Lock()
    tokens = {}
    validations = {}
    logins = 0
    service_tokens = set()
    delay = 0.0


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, doc=None, headers=()):
        body = json.dumps(doc).encode() if doc is not None else b""
        try:
            self.send_response(status)
        except (BrokenPipeError, ConnectionResetError):
            return
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # placid gave up waiting (the timeout case)

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with Fake.lock:
            Fake.logins += 1
            tok = f"svc-{Fake.logins}"
            Fake.service_tokens.add(tok)
        self.reply(201, {"token": {"expires_at": iso(time.time() + 3600)}},
                   [("X-Subject-Token", tok)])

    def do_GET(self):
        if self.headers.get("X-Auth-Token") not in Fake.service_tokens:
            return self.reply(401, {"error": {"code": 401}})
        subject = self.headers.get("X-Subject-Token")
        with Fake.lock:
            Fake.validations[subject] = Fake.validations.get(subject, 0) + 1
            known = Fake.tokens.get(subject)
        time.sleep(Fake.delay)
        if not known:
            return self.reply(404, {"error": {"code": 404}})
        roles, expires = known
        self.reply(200, {"token": {
            "user": {"id": "u-" + subject, "name": subject},
            "project": {"id": "p1", "name": "p1"}, "expires_at": iso(expires),
            "roles": [{"name": r} for r in roles]}})


def get(port, path, token):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                 headers={"X-Auth-Token": token,
                                          "OpenStack-API-Version": "placement 1.6"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def main(tmp):
    ks = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=ks.serve_forever, daemon=True).start()
    creds = os.path.join(tmp, "creds")
    with open(creds, "w") as f:
        f.write("username = placement\npassword = x\nproject_name = service\n")
    port = free_port()
    log = open(os.path.join(tmp, "placid.log"), "w+")
    proc = launch(PLACID, port, os.path.join(tmp, "p.db"),
                  ["--auth", "keystone", "--keystone-url", f"http://127.0.0.1:{ks.server_port}/v3",
                   "--keystone-credentials", creds, "--keystone-timeout", "2", "--threads", "8"],
                  stderr=log)
    try:
        wait_ready(port, proc)
        now = time.time()
        Fake.tokens.update({"adm": (["admin"], now + 3600), "svc": (["service"], now + 3600),
                            "short": (["admin"], now + 2)})

        # Single flight: 16 concurrent requests, one slow validation.
        Fake.delay = 0.5
        results = []
        threads = [threading.Thread(target=lambda: results.append(get(port, "/traits", "adm")))
                   for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        Fake.delay = 0.0
        check(results == [200] * 16, f"16 concurrent requests with a new token: {set(results)}")
        check(Fake.validations.get("adm") == 1,
              f"they caused one validation ({Fake.validations.get('adm')})")
        for _ in range(20):
            get(port, "/traits", "adm")
        check(Fake.validations.get("adm") == 1, "a cached token is not validated again")

        check(get(port, "/traits", "nope") == 401 and get(port, "/traits", "nope") == 401,
              "unknown token 401")
        check(Fake.validations.get("nope") == 1, "a rejection is remembered (negative cache)")

        check(get(port, "/traits", "short") == 200, "a token about to expire is valid")
        time.sleep(2.5)
        check(get(port, "/traits", "short") == 401, "once expired it is refused, cached or not")

        # Keystone forgets placid's service token: placid logs in again.
        logins = Fake.logins
        Fake.service_tokens.clear()
        check(get(port, "/traits", "svc") == 200, "service token refused: renewed, then valid")
        check(Fake.logins == logins + 1, "one new login")

        # A Keystone slower than --keystone-timeout: 503 within the bound.
        Fake.tokens["slow"] = (["admin"], time.time() + 3600)
        Fake.delay = 4.0
        t = time.time()
        st = get(port, "/traits", "slow")
        took = time.time() - t
        Fake.delay = 0.0
        check(st == 503 and took < 4.0, f"slow Keystone: 503 after {took:.1f} s (timeout 2 s)")
        check(get(port, "/traits", "adm") == 200, "cached tokens unaffected")

        # More new tokens than workers-1 while Keystone is slow: at most
        # workers-1 validations wait on Keystone (which ones, and so how many
        # 503s, depends on how MHD spreads the connections over its workers).
        now = time.time()
        for i in range(12):
            Fake.tokens[f"new{i}"] = (["admin"], now + 3600)
        Fake.delay = 1.5
        got = {}

        def ask(tok):
            t0 = time.time()
            got[tok] = (get(port, "/traits", tok), time.time() - t0)

        slow = [threading.Thread(target=ask, args=(f"new{i}",)) for i in range(12)]
        for t in slow:
            t.start()
        time.sleep(0.3)
        t0 = time.time()
        cached = get(port, "/traits", "adm")
        cached_took = time.time() - t0
        for t in slow:
            t.join()
        Fake.delay = 0.0
        statuses = sorted(st for st, _ in got.values())
        check(cached == 200,
              f"cached token served during a burst of slow validations ({cached_took:.2f} s)")
        check(set(statuses) <= {200, 503} and statuses.count(200) >= 7,
              f"a burst of 12 new tokens, Keystone slow: at most threads-1 wait on it, a "
              f"surplus is 503 at once: {statuses}")
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=30)
        ks.shutdown()
        log.seek(0)
        text = log.read()
        check(rc == 0 and "Sanitizer" not in text and "runtime error" not in text,
              f"placid stops cleanly (rc {rc})")


def start_placid(tmp, name, ks_url, extra=()):
    creds = os.path.join(tmp, "creds")
    port = free_port()
    log = open(os.path.join(tmp, name + ".log"), "w+")
    proc = launch(PLACID, port, os.path.join(tmp, name + ".db"),
                  ["--auth", "keystone", "--keystone-url", ks_url, "--keystone-credentials", creds,
                   "--keystone-timeout", "2", *extra],
                  stderr=log)
    wait_ready(port, proc)
    return proc, port, log


def stop_placid(proc, log, name):
    proc.send_signal(signal.SIGTERM)
    rc = proc.wait(timeout=30)
    log.seek(0)
    text = log.read()
    check(rc == 0 and "Sanitizer" not in text and "runtime error" not in text,
          f"{name}: placid stops cleanly (rc {rc})")


def https_checks(tmp):
    """An https Keystone: verified against --keystone-cafile, refused without it."""
    cert, key = os.path.join(tmp, "ks.pem"), os.path.join(tmp, "ks.key")
    res = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                          "1", "-subj", "/CN=127.0.0.1", "-addext",
                          "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
                         capture_output=True, timeout=60)
    if res.returncode != 0:
        check(False, "openssl made a test certificate")
        return
    ks = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ks.socket = ctx.wrap_socket(ks.socket, server_side=True)
    threading.Thread(target=ks.serve_forever, daemon=True).start()
    url = f"https://127.0.0.1:{ks.server_port}/v3"
    try:
        proc, port, log = start_placid(tmp, "tls-verified", url, ["--keystone-cafile", cert])
        check(get(port, "/traits", "adm") == 200, "https Keystone verified with --keystone-cafile")
        stop_placid(proc, log, "tls-verified")
        proc, port, log = start_placid(tmp, "tls-unknown", url)
        check(get(port, "/traits", "adm") == 503,
              "https Keystone with an unknown CA: 503, certificate refused")
        stop_placid(proc, log, "tls-unknown")
    finally:
        ks.shutdown()


with tempfile.TemporaryDirectory() as d:
    main(d)
    https_checks(d)
if failures:
    print(f"{len(failures)} failed")
    sys.exit(1)
print("all passed")
