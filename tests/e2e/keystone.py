#!/usr/bin/python3
"""Keystone mode against a real Keystone (../shared/keystone/keystone-up.sh):
every user of its table gets the status upstream Placement's defaults give,
401 with WWW-Authenticate for missing/invalid tokens, a revoked token is
401 once its cache entry expires, Keystone stopped -> cached tokens still
served and uncached ones 503, Keystone back -> recovery without restarting
placid. Also the flag validation of --auth keystone. argv[1] is placid."""
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

from helpers.placid_e2e import (Server, check, failures, free_port, http_call, one_line_error,
                                 stopped_cleanly)

PLACID = sys.argv[1]
AGENT = sys.argv[2] if len(sys.argv) > 2 else None
ROOT = pathlib.Path(__file__).resolve().parents[2]
SHARED = pathlib.Path(os.environ.get("PLACID_SHARED", ROOT.parent / "shared"))


http = http_call


class Keystone:
    def __init__(self, tmp):
        self.port = free_port()
        self.env = dict(os.environ, KS_DIR=os.path.join(tmp, "keystone"))

    def up(self):
        res = subprocess.run([str(SHARED / "keystone/keystone-up.sh"), str(self.port)],
                             env=self.env, capture_output=True, text=True, timeout=600)
        if res.returncode != 0:
            raise RuntimeError("keystone-up.sh failed: " + res.stderr[-2000:])
        self.vars = dict(l.split("=", 1) for l in res.stdout.splitlines() if "=" in l)
        return self.vars

    def down(self):
        subprocess.run([str(SHARED / "keystone/keystone-down.sh"), str(self.port)],
                       env=self.env, capture_output=True, timeout=60)


class Placid(Server):
    def __init__(self, tmp, name, args):
        super().__init__(PLACID, tmp, args, name=name)

    def get(self, path, token=None, version="1.39"):
        h = {"OpenStack-API-Version": "placement " + version}
        if token is not None:
            h["X-Auth-Token"] = token
        return http(f"http://127.0.0.1:{self.port}{path}", headers=h)

    def status(self, path, token):
        return self.get(path, token)[0]

    def stop(self):
        rc, text = super().stop()
        check(stopped_cleanly(rc, text), f"placid stops cleanly (rc {rc})")


def refused(args):
    return one_line_error(subprocess.run([PLACID] + args, capture_output=True, text=True,
                                         timeout=30))


def catalog_clients(tmp, v, p):
    """placid registered as the placement service in Keystone's catalog; the
    openstack CLI (osc-placement) and a keystoneauth1 adapter (what nova's
    report client is built on) find and use it with password auth."""
    adm = {"X-Auth-Token": v["ROOT_SYSTEM_TOKEN"]}
    st, _, body = http(f"{v['KS_URL']}/services", "POST", adm,
                       {"service": {"type": "placement", "name": "placement"}})
    sid = json.loads(body)["service"]["id"] if st == 201 else None
    st2, _, _ = http(f"{v['KS_URL']}/endpoints", "POST", adm,
                     {"endpoint": {"service_id": sid, "interface": "public",
                                   "region_id": "RegionOne",
                                   "url": f"http://127.0.0.1:{p.port}"}})
    check(st == 201 and st2 == 201, "placid registered as the placement endpoint")
    st, _, _ = http(f"http://127.0.0.1:{p.port}/resource_providers", "POST",
                    {"X-Auth-Token": v["NOVA_TOKEN"],
                     "OpenStack-API-Version": "placement 1.20"},
                    {"name": "cn-catalog", "uuid": "5c5e0b6e-52a4-4b39-a2c0-3f2f1e0e0c01"})
    check(st == 200, f"nova (service role) creates a provider ({st})")
    env = {k: v2 for k, v2 in os.environ.items() if not k.startswith("OS_")}
    env.update(OS_AUTH_URL=v["KS_URL"], OS_USERNAME="admin", OS_PASSWORD="adminpass",
               OS_PROJECT_NAME="admin", OS_USER_DOMAIN_NAME="Default",
               OS_PROJECT_DOMAIN_NAME="Default", OS_IDENTITY_API_VERSION="3",
               OS_REGION_NAME="RegionOne", HOME=tmp)
    res = subprocess.run(["openstack", "resource", "provider", "list", "-f", "json"],
                         capture_output=True, text=True, env=env, timeout=120)
    names = [r.get("name") for r in json.loads(res.stdout)] if res.returncode == 0 else []
    check("cn-catalog" in names,
          f"openstack resource provider list through the catalog: {names or res.stderr[-300:]}")
    env.update(OS_USERNAME="alice", OS_PASSWORD="alicepass", OS_PROJECT_NAME="demo")
    res = subprocess.run(["openstack", "resource", "provider", "list"],
                         capture_output=True, text=True, env=env, timeout=120)
    check(res.returncode != 0 and "403" in res.stderr + res.stdout,
          "the same CLI as alice (member): 403")
    script = (
        "import sys\n"
        "from keystoneauth1 import adapter, session\n"
        "from keystoneauth1.identity import v3\n"
        "auth = v3.Password(auth_url=sys.argv[1], username='nova', password='novapass',"
        " project_name='service', user_domain_name='Default', project_domain_name='Default')\n"
        "a = adapter.Adapter(session.Session(auth=auth), service_type='placement',"
        " interface='public', region_name='RegionOne', default_microversion='1.39')\n"
        "r = a.get('/resource_providers?name=cn-catalog', raise_exc=False)\n"
        "print(r.status_code, r.json()['resource_providers'][0]['name'])\n")
    res = subprocess.run(["/usr/bin/python3", "-c", script, v["KS_URL"]], capture_output=True,
                         text=True, timeout=120)
    check(res.stdout.strip() == "200 cn-catalog",
          f"keystoneauth1 adapter (nova's report client's transport) as nova: "
          f"{res.stdout.strip() or res.stderr[-300:]}")
    nova_report_client(tmp, v)
    if AGENT and os.path.exists(AGENT):
        agent_checks(tmp, v, p)


def nova_report_client(tmp, v):
    """python3-nova's SchedulerReportClient, configured as nova-compute is
    (nova.conf [placement]: password auth, region, no endpoint), finds placid
    in the catalog: ensures compute nodes, sets inventory and traits, gets
    allocation candidates for a packed-ring flavor, claims and reads usages
    (tests/e2e/helpers/nova_report_client.py, in its own process)."""
    conf = os.path.join(tmp, "nova.conf")
    with open(conf, "w") as f:
        f.write("[placement]\nauth_type = password\n"
                f"auth_url = {v['KS_URL']}\nusername = nova\npassword = novapass\n"
                "project_name = service\nuser_domain_name = Default\n"
                "project_domain_name = Default\nregion_name = RegionOne\n")
    helper = pathlib.Path(__file__).resolve().parent / "helpers/nova_report_client.py"
    env = {k: x for k, x in os.environ.items() if not k.startswith("OS_")}
    t0 = time.time()
    res = subprocess.run(["/usr/bin/python3", str(helper), conf, v["DEMO_PROJECT_ID"],
                          v["ALICE_USER_ID"]], capture_output=True, text=True, env=env,
                         timeout=300)
    lines = res.stdout.splitlines()
    for line in lines:
        print("     nova: " + line if not line.startswith(("ok", "FAIL")) else line, flush=True)
        if line.startswith("FAIL "):
            failures.append("nova: " + line[5:])
    passed = sum(l.startswith("ok   ") for l in lines)
    check(res.returncode == 0 and passed >= 17,
          f"nova's report client through the catalog: {passed} checks passed in "
          f"{time.time() - t0:.1f} s (rc {res.returncode})"
          + ("" if res.returncode == 0 else ": " + res.stderr[-1500:]))


def agent_checks(tmp, v, p):
    """placid-agent with Keystone password auth finds placid in the catalog."""
    conf = os.path.join(tmp, "nova-agent.conf")
    with open(conf, "w") as f:
        f.write("[placement]\nusername = nova\npassword = novapass\nproject_name = service\n"
                "region_name = RegionOne\ninterface = public\n")
    env = {k: x for k, x in os.environ.items() if k not in ("PLACID_URL", "OS_TOKEN")}
    args = [AGENT, "--once", "--retry-timeout", "5", "--keystone-url", v["KS_URL"],
            "--keystone-credentials", conf, "--name", "cn-agent", "--state-file",
            os.path.join(tmp, "agent.state"), "--vcpus", "4", "--memory-mb", "2048",
            "--disk-gb", "10", "--libvirt-version", "8.0.0", "--qemu-version", "6.2.0"]
    res = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    st, _, body = p.get("/resource_providers?name=cn-agent", v["ADMIN_TOKEN"])
    found = st == 200 and len(json.loads(body)["resource_providers"]) == 1
    check(res.returncode == 0 and found,
          f"placid-agent with Keystone password auth, placid from the catalog "
          f"(rc {res.returncode}{'' if found else ': ' + res.stderr[-400:]})")
    with open(conf, "w") as f:
        f.write("username = nova\npassword = wrong\nproject_name = service\n")
    res = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    check(res.returncode == 3, f"placid-agent with a wrong password exits 3 ({res.returncode})")


def main(tmp):
    creds = os.path.join(tmp, "placement.conf")
    with open(creds, "w") as f:
        f.write("[keystone_authtoken]\n# placid's service user\nusername = placement\n"
                "password = placementpass\nproject_name = service\n"
                "user_domain_name = Default\nproject_domain_name = Default\n")
    check(refused(["--auth", "keystone", "--keystone-credentials", creds]),
          "--auth keystone without --keystone-url: one-line error")
    check(refused(["--auth", "keystone", "--keystone-url", "ftp://x"]),
          "bad --keystone-url: one-line error")
    check(refused(["--auth", "kerberos"]), "bad --auth: one-line error")
    bad = os.path.join(tmp, "bad.conf")
    with open(bad, "w") as f:
        f.write("username = placement\n")
    check(refused(["--auth", "keystone", "--keystone-url", "http://127.0.0.1:1/v3",
                          "--keystone-credentials", bad]),
          "credentials without a password: one-line error")

    ks = Keystone(tmp)
    t0 = time.time()
    v = ks.up()
    print(f"keystone up in {time.time() - t0:.1f} s", flush=True)
    try:
        run_with_keystone(tmp, ks, v, creds)
    finally:
        ks.down()


def run_with_keystone(tmp, ks, v, creds):
    args = ["--auth", "keystone", "--keystone-url", v["KS_URL"], "--keystone-credentials", creds]
    p = Placid(tmp, "short", args + ["--keystone-cache-seconds", "3"])
    demo = v["DEMO_PROJECT_ID"]
    usages = f"/usages?project_id={demo}"
    table = {  # token: (GET /resource_providers, GET /traits, GET /usages of demo)
        "ADMIN": (200, 200, 200), "ROOT": (200, 200, 200), "ROOT_SYSTEM": (200, 200, 200),
        "NOVA": (200, 200, 200), "PLACEMENT": (200, 200, 200),
        "ALICE": (403, 403, 200), "BOB": (403, 403, 200),
    }
    for user, want in table.items():
        tok = v[user + "_TOKEN"]
        got = (p.status("/resource_providers", tok), p.status("/traits", tok),
               p.status(usages, tok))
        check(got == want, f"{user.lower()}: {got} (want {want})")
    check(p.status(f"/usages?project_id={v['ADMIN_PROJECT_ID']}", v["ALICE_TOKEN"]) == 403,
          "alice: another project's usages 403")
    for name, tok in (("no token", None), ("garbage token", "garbage"), ("empty token", "")):
        st, hdrs, body = p.get("/traits", tok)
        check(st == 401 and hdrs.get("WWW-Authenticate") == f'Keystone uri="{v["KS_URL"]}"'
              and json.loads(body)["error"]["code"] == 401,
              f"{name}: 401 with WWW-Authenticate and Keystone's body")
    check(p.status("/", None) == 200, "the root document needs no token")
    catalog_clients(tmp, v, p)

    # Revocation: removing bob's role revokes his tokens; placid notices once
    # its cache entry (3 s here) expires.
    time.sleep(3.1)
    check(p.status(usages, v["BOB_TOKEN"]) == 200, "bob validated afresh")
    st = http(f"{v['KS_URL']}/projects/{demo}/users/{v['BOB_USER_ID']}/roles/"
              f"{v['READER_ROLE_ID']}", method="DELETE",
              headers={"X-Auth-Token": v["ROOT_SYSTEM_TOKEN"]})[0]
    check(st == 204, f"keystone: bob's reader role removed ({st})")
    check(p.status(usages, v["BOB_TOKEN"]) == 200, "bob still served from the cache")
    time.sleep(3.5)
    check(p.status(usages, v["BOB_TOKEN"]) == 401, "revoked token 401 after cache expiry")
    p.stop()

    # Outage: a placid that caches for 300 s keeps serving what it validated.
    p = Placid(tmp, "long", args)
    check(p.status("/traits", v["ADMIN_TOKEN"]) == 200, "admin validated")
    t = time.time()
    for _ in range(200):
        p.status("/traits", v["ADMIN_TOKEN"])
    per = (time.time() - t) / 200 * 1000
    print(f"info cached token: {per:.2f} ms per request through Python (Keystone's own "
          f"validation: 13-25 ms)")
    ks.down()
    check(p.status("/traits", v["ADMIN_TOKEN"]) == 200, "keystone down: cached token served")
    st, _, body = p.get("/traits", v["NOVA_TOKEN"])
    check(st == 503 and b"identity service" in body,
          f"keystone down: uncached token 503 ({st})")
    v2 = ks.up()
    ok = False
    deadline = time.time() + 10
    while time.time() < deadline and not ok:
        ok = p.status("/traits", v2["NOVA_TOKEN"]) == 200
        if not ok:
            time.sleep(1.1)  # a failed validation is shared for a second
    check(ok, "keystone back: new tokens accepted without restarting placid")
    check(p.status("/traits", v2["ALICE_TOKEN"]) == 403, "and policy still applies")
    p.stop()


with tempfile.TemporaryDirectory() as tmpdir:
    main(tmpdir)
if failures:
    print(f"{len(failures)} failed")
    sys.exit(1)
print("all passed")
