#!/usr/bin/python3
"""Identity and policy over real HTTP: empty tokens, noauth2 role headers,
--policy-file (YAML and JSON) with SIGHUP reload that keeps the old rules
on a bad file, --policy-dump, flag validation and CORS. argv[1] is the
placid binary."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from helpers.placid_e2e import (Server, check, failures, free_port, http_call, one_line_error,
                                 stopped_cleanly)

PLACID = sys.argv[1]


def run(args, env=None):
    return subprocess.run([PLACID] + args, capture_output=True, text=True, timeout=20,
                          env=env)


def request(port, path, method="GET", headers=None):
    headers = dict(headers or {}, **{"OpenStack-API-Version": "placement latest"})
    return http_call(f"http://127.0.0.1:{port}{path}", method, headers, timeout=10)


class Placid(Server):
    def __init__(self, args, env=None):
        super().__init__(PLACID, tempfile.mkdtemp(), args, env=env)

    def get(self, path, token="admin", **headers):
        if token is not None:
            headers["X-Auth-Token"] = token
        return request(self.port, path, headers=headers)

    def stop(self):
        rc, text = super().stop()
        check(stopped_cleanly(rc, text), f"server stops cleanly (rc {rc})")
        return text


def write(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


with tempfile.TemporaryDirectory() as tmp:
    # Tokens and noauth2 headers with the default configuration.
    s = Placid([])
    check(s.get("/traits", token="")[0] == 401, "empty X-Auth-Token is 401, like no token")
    check(s.get("/traits", token=None)[0] == 401, "no X-Auth-Token is 401")
    check(s.get("/traits")[0] == 200, "admin token is 200")
    check(s.get("/traits", token="user")[0] == 403, "a user without roles is 403")
    check(s.get("/traits", token="nova", **{"X-Roles": "service"})[0] == 200,
          "X-Roles: service is allowed the service APIs")
    status, _, body = s.get("/traits", token="alice:demo", **{"X-Roles": "member,reader"})
    detail = json.loads(body)["errors"][0]["detail"] if body else ""
    check(status == 403 and "Policy does not allow placement:traits:list to be performed."
          in detail, "member is 403 with Placement's policy message")
    check(s.get("/usages?project_id=demo", token="alice:demo",
                **{"X-Roles": "member,reader"})[0] == 200, "reader gets her project's usages")
    check(s.get("/usages?project_id=other", token="alice:demo",
                **{"X-Roles": "member,reader"})[0] == 403, "but not another project's")
    check(request(s.port, "/", method="OPTIONS")[0] == 405, "CORS is off by default")
    s.stop()

    # An admin secret: role headers cannot claim admin.
    secret = os.path.join(tmp, "secret")
    write(secret, "s3cret\n")
    s = Placid(["--admin-token-file", secret])
    check(s.get("/traits", token="user", **{"X-Roles": "admin"})[0] == 403,
          "with an admin secret X-Roles: admin is ignored")
    check(s.get("/traits", token="s3cret")[0] == 200, "the secret is admin")
    s.stop()

    # A policy file, reloaded on SIGHUP.
    pol = os.path.join(tmp, "policy.yaml")
    write(pol, '# operator rules\n"placement:traits:list": "role:reader"\n')
    s = Placid(["--policy-file", pol])
    reader = {"X-Roles": "reader"}
    check(s.get("/traits", token="bob:demo", **reader)[0] == 200, "policy file rule applies")
    check(s.get("/resource_classes", token="bob:demo", **reader)[0] == 403,
          "other rules keep their defaults")
    write(pol, '"placement:traits:list": "role:reader or"\n')
    s.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    check(s.get("/traits", token="bob:demo", **reader)[0] == 200,
          "a bad file on SIGHUP keeps the old rules")
    write(pol, '{"placement:traits:list": "!"}')
    s.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 5
    while time.time() < deadline and s.get("/traits")[0] != 403:
        time.sleep(0.1)
    check(s.get("/traits")[0] == 403, "a good file (JSON) on SIGHUP replaces the rules")
    # Reloads while requests are in flight: every answer is one of the two
    # rule sets' answers, never an error (and no race under TSan).
    import threading
    seen, stop_load = set(), threading.Event()

    def load():
        while not stop_load.is_set():
            seen.add(s.get("/traits", token="bob:demo", **reader)[0])

    workers = [threading.Thread(target=load) for _ in range(4)]
    for w in workers:
        w.start()
    for i in range(10):
        write(pol, '"placement:traits:list": "%s"\n' % ("role:reader" if i % 2 else "!"))
        s.proc.send_signal(signal.SIGHUP)
        time.sleep(0.1)
    stop_load.set()
    for w in workers:
        w.join()
    check(seen <= {200, 403} and s.proc.poll() is None,
          f"SIGHUP reloads under load: answers {sorted(seen)}")
    log = s.stop()
    check("policy reload failed, keeping the rules in force" in log,
          "the failed reload is logged")

    # Enforcement flags.
    s = Placid(["--enforce-scope", "--enforce-new-defaults"])
    check(s.get("/traits", token="root", **{"X-Roles": "admin",
                                            "OpenStack-System-Scope": "all"})[0] == 403,
          "--enforce-scope: a system-scoped admin is refused project-scoped APIs")
    check(s.get("/traits")[0] == 200, "the project-scoped admin token still works")
    s.stop()

    # CORS.
    s = Placid(["--cors-allowed-origin", "http://ok.example", "--cors-max-age", "60"])
    st, hdrs, _ = request(s.port, "/resource_providers", method="OPTIONS",
                          headers={"Origin": "http://ok.example",
                                   "Access-Control-Request-Method": "GET"})
    check(st == 200 and hdrs.get("Access-Control-Allow-Origin") == "http://ok.example"
          and hdrs.get("Access-Control-Max-Age") == "60", "CORS preflight")
    st, hdrs, _ = s.get("/traits", Origin="http://ok.example")
    check(st == 200 and hdrs.get("Access-Control-Allow-Origin") == "http://ok.example",
          "CORS actual request")
    s.stop()

    # --policy-dump and validation.
    res = run(["--policy-dump", "--enforce-new-defaults"])
    check(res.returncode == 0 and '"placement:reshaper:reshape": "rule:service_api"\n'
          in res.stdout and '"admin_or_service_api": "role:admin or role:service"\n'
          in res.stdout, "--policy-dump prints the effective rules")
    res = run(["--policy-dump"])
    check('"admin_or_service_api": "(role:admin or role:service) or (role:admin)"'
          in res.stdout, "--policy-dump shows the deprecated fallback")
    write(pol, '"placement:nope": "@"\n')
    check(one_line_error(run(["--policy-file", pol, "--listen", f"127.0.0.1:{free_port()}"]),
                         "unknown rule 'placement:nope'"), "unknown rule: one-line error")
    write(pol, '"placement:usages": "(role:a"\n')
    check(one_line_error(run(["--policy-dump", "--policy-file", pol]), "placement:usages"),
          "bad check string: one-line error naming the rule")
    check(one_line_error(run(["--policy-file", os.path.join(tmp, "none.yaml")])),
          "missing policy file: one-line error")
    check(one_line_error(run(["--cors-max-age", "soon"]), "--cors-max-age"),
          "bad --cors-max-age: one-line error")
    env = dict(os.environ, PLACID_ENFORCE_SCOPE="maybe")
    check(one_line_error(run(["--policy-dump"], env=env), "PLACID_ENFORCE_SCOPE"),
          "bad PLACID_ENFORCE_SCOPE: one-line error")

if failures:
    print(f"{len(failures)} failed")
    sys.exit(1)
print("all passed")
