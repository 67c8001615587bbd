#!/usr/bin/python3
"""The haproxy example of the README's "Scaling out" (docs/haproxy-placid.cfg)
in front of two placid nodes: requests are spread over both; a node that
stops is left out at once (a failed connection goes to the other node) and
by the health check on GET /healthcheck; with no node left, haproxy answers
503 in Placement's error format with Retry-After. The nodes here have
databases of their own (SQLite) so that each answer tells which node gave
it; tests/e2e/multinode.py runs the same config on one PostgreSQL.
argv[1]: placid. Exit 77 when haproxy is missing outside CI."""
import json
import os
import shutil
import sys
import tempfile
import time

from helpers.placid_e2e import Server, check, failures, http_call
from helpers.placid_pg import HAProxy

H = {"x-auth-token": "admin", "openstack-api-version": "placement latest"}


def names(url):
    status, _, body = http_call(url + "/resource_providers", headers=H, timeout=10)
    if status != 200:
        return status, None
    return status, sorted(p["name"] for p in json.loads(body)["resource_providers"])


def main():
    if not shutil.which("haproxy"):
        if os.environ.get("CI") == "true":
            print("FAIL haproxy is not installed (tests/run installs it)")
            return 1
        print("skip: haproxy is not installed")
        return 77
    binary = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="placid-haproxy-")
    a = Server(binary, tmp, name="a")
    b = Server(binary, tmp, name="b")
    lb = HAProxy(tmp, [f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"])
    try:
        st, _, _ = http_call(a.url + "/resource_providers", "POST", H, {"name": "on-a"})
        check(st == 200, f"a provider made on node a ({st})")
        check(lb.wait_healthy(), "haproxy answers GET /healthcheck through the example config")
        seen = [names(lb.url) for _ in range(10)]
        check(all(s == 200 for s, _ in seen), "10 GETs through haproxy: all 200")
        check((200, ["on-a"]) in seen and (200, []) in seen,
              "round robin: both nodes answered", seen)
        b.stop()
        seen = [names(lb.url) for _ in range(10)]
        check(seen == [(200, ["on-a"])] * 10,
              "node b stopped: the next 10 GETs all answered by node a (no error)", seen)
        time.sleep(2.5)  # inter 1s, fall 2
        with open(lb.log.name) as f:
            log = f.read()
        check("placid2 is DOWN" in log, "the health check took node b out", log[-1500:])
        a.stop()
        end = time.time() + 10
        st, hdrs, body = None, {}, b""
        while time.time() < end:
            st, hdrs, body = http_call(lb.url + "/resource_providers", headers=H, timeout=5)
            if st == 503 and hdrs.get("Retry-After"):
                break
            time.sleep(0.3)
        check(st == 503 and hdrs.get("Retry-After") == "1",
              f"no node left: 503 with Retry-After: 1 ({st}, {hdrs.get('Retry-After')})")
        try:
            err = json.loads(body)["errors"][0]
            check(err["status"] == 503 and err["code"] == "placid.unavailable",
                  "... in Placement's error format", body)
        except (ValueError, KeyError, IndexError):
            check(False, "... in Placement's error format", body)
    finally:
        a.stop()
        b.stop()
        lb.stop()
    rc = lb.proc.returncode
    check(rc is not None, f"haproxy stopped by PID (exit {rc})")
    shutil.rmtree(tmp, ignore_errors=True)
    print(("FAIL: " if failures else "ok: ") + f"haproxy, {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
