#!/usr/bin/python3
"""One Accept rule (server/req.c req_accepts) decides both the 406 of a GET
and whether an error body is JSON, end to end through libmicrohttpd.
argv[1] is the placid binary."""
import http.client
import os
import signal
import subprocess
import sys
import tempfile
import time

from helpers.placid_e2e import check, failures, free_port

PLACID = sys.argv[1]


def get(port, path, accept):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"X-Auth-Token": "admin"}
        if accept is not None:
            headers["Accept"] = accept
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        return r.status, r.getheader("Content-Type", ""), r.read().decode("utf-8", "replace")
    finally:
        conn.close()


with tempfile.TemporaryDirectory() as tmp:
    port = free_port()
    proc = subprocess.Popen([PLACID, "--listen", f"127.0.0.1:{port}", "--db",
                             os.path.join(tmp, "p.db")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        up = False
        end = time.time() + 15
        while time.time() < end and proc.poll() is None and not up:
            try:
                up = get(port, "/", None)[0] == 200
            except OSError:
                time.sleep(0.05)
        check(up, "placid starts")
        if up:
            # (Accept, path, status, content type of the answer)
            for accept, path, status, ctype in [
                    (None, "/nowhere", 404, "application/json"),
                    ("*/*", "/nowhere", 404, "application/json"),
                    ("application/*", "/nowhere", 404, "application/json"),
                    ("text/plain", "/nowhere", 404, "text/plain"),
                    ("text/html", "/nowhere", 404, "text/html"),
                    ("text/json", "/nowhere", 404, "text/plain"),
                    ("application/*", "/resource_providers", 200, "application/json"),
                    ("*/*, application/json;q=0", "/resource_providers", 406, "text/plain"),
                    ("text/html, application/json;q=0", "/resource_providers", 406, "text/html"),
                    ("application/json;q=0.5", "/resource_providers", 200, "application/json")]:
                st, ct, body = get(port, path, accept)
                check(st == status and ct.startswith(ctype),
                      f"GET {path} Accept {accept}: {status} {ctype} (got {st} {ct})")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

sys.exit(1 if failures else 0)
