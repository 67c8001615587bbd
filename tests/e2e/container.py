#!/usr/bin/python3
"""The container image as a user runs it, with podman (no Docker engine on
these machines): builds docker/Dockerfile unchanged (--format docker, so the
HEALTHCHECK is kept), starts it with a secret admin token and a named volume,
published on 127.0.0.1 only, and checks the version document, the packed-ring
trait, `podman healthcheck run`, the numeric non-root user, that data
survives a restart and a new container on the same volume, that SIGTERM
stops it cleanly and fast, and that placid-agent --once inside the image
registers a host; then runs the image on PostgreSQL (--db postgresql://...,
host network, a throwaway PostgreSQL 15 on 127.0.0.1 from tests/pg/pg, the
password from a passfile mounted as a podman secret and never in `podman
logs`) through a short smoke. Removes everything it made (unique names), by
name.

Makes the base images first with ../shared/container/base-images.sh (as CI
has nothing prepared). Exits 77 (counted as skipped by tests/run) only when
podman cannot run at all. argv is ignored (tests/run passes the binaries)."""
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

from helpers.placid_e2e import check, failures, free_port
from helpers.placid_pg import Throwaway

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get("PLACID_SHARED", os.path.join(os.path.dirname(ROOT), "shared"))
SKIP = 77
TAG = f"placid-ct-{os.getpid()}-{secrets.token_hex(3)}"
IMAGE = f"localhost/{TAG}:test"
VOLUME = f"{TAG}-data"
SECRET = f"{TAG}-token"
TOKEN = secrets.token_hex(24)
PG_SECRET = f"{TAG}-pgpass"
made = {"containers": [], "image": False, "volume": False, "secret": False, "compose": None,
        "pg_secret": False}


def podman(*args, timeout=120, check_rc=False):
    res = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout)
    if check_rc and res.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args)}: {res.stderr.strip()[-500:]}")
    return res


def request(port, method, path, token=None, body=None, timeout=10):
    headers = {"OpenStack-API-Version": "placement latest"}
    if token:
        headers["X-Auth-Token"] = token
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method, headers=headers,
                                 data=data)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            return r.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        return e.code, None


def wait_ready(port, limit=30.0):
    end = time.time() + limit
    start = time.time()
    while time.time() < end:
        try:
            status, doc = request(port, "GET", "/", timeout=2)
            if status == 200:
                return time.time() - start, doc
        except OSError:
            pass
        time.sleep(0.1)
    return None, None


def prepare():
    """Base images and podman; returns a reason to skip, or None."""
    script = os.path.join(SHARED, "container", "base-images.sh")
    res = subprocess.run([script], capture_output=True, text=True, timeout=1200) \
        if os.path.exists(script) else None
    if shutil.which("podman") is None:
        return "podman is not installed and base-images.sh could not install it"
    info = subprocess.run(["podman", "info"], capture_output=True, text=True, timeout=120)
    if info.returncode != 0:
        return "podman cannot run here: " + info.stderr.strip()[-300:]
    if res is None or res.returncode != 0:
        # podman runs, so a missing base image is a failure, not a skip.
        check(False, "base images made by ../shared/container/base-images.sh"
              + ("" if res is None else ": " + res.stderr.strip()[-300:]))
    return None


def find_healthcheck(doc):
    """The Test of the first Healthcheck/HealthCheck object in podman's image inspect."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            if key.lower() == "healthcheck" and isinstance(value, dict) and "Test" in value:
                return value["Test"]
            found = find_healthcheck(value)
            if found:
                return found
    elif isinstance(doc, list):
        for value in doc:
            found = find_healthcheck(value)
            if found:
                return found
    return []


def build():
    start = time.time()
    res = podman("build", "--format", "docker", "--layers=false", "--force-rm", "-f",
                 os.path.join(ROOT, "docker", "Dockerfile"), "-t", IMAGE, ROOT, timeout=1800)
    made["image"] = res.returncode == 0
    seconds = time.time() - start
    if not check(res.returncode == 0, f"image builds unchanged from docker/Dockerfile "
                 f"({seconds:.0f} s)"):
        print(res.stdout[-3000:] + res.stderr[-3000:])
        return False
    cfg = json.loads(podman("image", "inspect", IMAGE, check_rc=True).stdout)[0]
    size = cfg["Size"]
    check(size < 100_000_000, f"runtime image under 100 MB ({size / 1e6:.1f} MB)")
    user = cfg["Config"].get("User", "")
    check(user == "10001:10001", f"USER is numeric 10001:10001 ({user!r})")
    labels = cfg["Config"].get("Labels") or {}
    check(all(f"org.opencontainers.image.{k}" in labels for k in ("title", "version", "description")),
          "OCI org.opencontainers.image.* labels")
    hc = find_healthcheck(cfg)
    check("--check-health" in " ".join(hc) and "curl" not in " ".join(hc),
          f"HEALTHCHECK is placid --check-health ({hc})")
    check(podman("run", "--rm", "--entrypoint", "sh", IMAGE, "-c",
                 "command -v curl || echo none").stdout.strip() == "none",
          "no curl in the runtime image")
    return True


def run_container(name, port):
    res = podman("run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:8778",
                 "-v", f"{VOLUME}:/var/lib/placid", "--secret", SECRET,
                 "-e", f"PLACID_ADMIN_TOKEN_FILE=/run/secrets/{SECRET}", IMAGE)
    if res.returncode == 0:
        made["containers"].append(name)
    return check(res.returncode == 0, f"container {name} starts"
                 + ("" if res.returncode == 0 else f" ({res.stderr.strip()[-300:]})"))


def exercise_first(name, port):
    ready, doc = wait_ready(port)
    if not check(ready is not None, f"answers GET / on 127.0.0.1:{port} "
                 f"({ready or 0:.1f} s after start)"):
        print(podman("logs", name).stderr[-2000:])
        return False
    check(doc["versions"][0]["max_version"] == "1.39", "version document: max_version 1.39")
    ports = podman("port", name).stdout.strip()
    check(ports.endswith(f"127.0.0.1:{port}") and "0.0.0.0" not in ports,
          f"published on 127.0.0.1 only ({ports})")
    status, _ = request(port, "GET", "/traits/COMPUTE_NET_VIRTIO_PACKED", TOKEN)
    check(status == 204, f"the packed-ring trait exists ({status})")
    status, _ = request(port, "GET", "/resource_providers", "admin")
    check(status == 403, f"the built-in token 'admin' is not an administrator ({status})")
    res = podman("healthcheck", "run", name)
    check(res.returncode == 0, f"podman healthcheck run: healthy ({res.stdout.strip()}"
          f"{res.stderr.strip()})")
    health = podman("inspect", name, "--format", "{{.State.Health.Status}}").stdout.strip()
    check(health == "healthy", f"State.Health.Status is healthy ({health})")
    ids = podman("exec", name, "sh", "-c", "id -u; id -g").stdout.split()
    check(ids == ["10001", "10001"], f"the server runs as uid:gid 10001:10001 ({ids})")
    status, _ = request(port, "POST", "/resource_providers", TOKEN,
                        {"name": "kept", "uuid": "c0000000-0000-0000-0000-00000000cafe"})
    check(status in (200, 201), f"a provider is created ({status})")
    res = podman("exec", "-e", f"OS_TOKEN={TOKEN}", name, "placid-agent", "--once",
                 "--url", "http://127.0.0.1:8778", "--name", "ct-host",
                 "--state-file", "/var/lib/placid/agent.state",
                 "--libvirt-version", "8.0.0", "--qemu-version", "6.2.0", timeout=60)
    check(res.returncode == 0, "placid-agent --once inside the image: exit 0"
          + ("" if res.returncode == 0 else f" ({res.stderr.strip()[-300:]})"))
    status, doc = request(port, "GET", "/resource_providers?name=ct-host", TOKEN)
    rps = (doc or {}).get("resource_providers", [])
    check(len(rps) == 1, "the agent registered its host")
    if rps:
        _, traits = request(port, "GET", f"/resource_providers/{rps[0]['uuid']}/traits", TOKEN)
        check("COMPUTE_NET_VIRTIO_PACKED" in (traits or {}).get("traits", []),
              "the agent's host carries COMPUTE_NET_VIRTIO_PACKED")
    return True


def data_kept(port, when):
    ready, _ = wait_ready(port)
    status, doc = request(port, "GET", "/resource_providers", TOKEN) if ready else (0, None)
    names = sorted(rp["name"] for rp in (doc or {}).get("resource_providers", []))
    check(names == ["ct-host", "kept"], f"data kept {when} ({names})")


def stop_timed(name):
    start = time.time()
    res = podman("stop", "-t", "20", name, timeout=60)
    seconds = time.time() - start
    state = podman("inspect", name, "--format", "{{.State.ExitCode}} {{.State.Status}}").stdout.split()
    logs = podman("logs", name).stderr
    check(res.returncode == 0 and state[:1] == ["0"] and seconds < 5,
          f"SIGTERM stops it cleanly and fast (exit {state}, {seconds:.1f} s)")
    check("stopped" in logs.splitlines()[-1] if logs.strip() else False,
          "its last log line says it stopped")


def compose_example():
    """docker/compose.yaml with podman-compose on the image just built: placid
    healthy with the secret and volume, the example agent registers, metrics
    served. Unique project, ports and secret file; taken down with its volumes."""
    if shutil.which("podman-compose") is None:
        check(False, "podman-compose is installed (tests/run installs it)")
        return
    project = f"{TAG}-compose"
    made["compose"] = project
    secret_file = os.path.join("/tmp", f"{TAG}-compose-token")
    token = secrets.token_hex(24)
    with open(secret_file, "w") as f:
        f.write(token + "\n")
    os.chmod(secret_file, 0o444)  # read by uid 10001 in the containers
    port, mport = free_port(), free_port()
    env = dict(os.environ, PLACID_IMAGE=IMAGE, PLACID_PORT=str(port),
               PLACID_METRICS_PORT=str(mport), PLACID_ADMIN_TOKEN_SECRET=secret_file)
    compose = ["podman-compose", "-p", project, "-f", os.path.join(ROOT, "docker", "compose.yaml")]
    try:
        res = subprocess.run(compose + ["up", "-d", "--no-build"], capture_output=True, text=True,
                             timeout=300, env=env)
        check(res.returncode == 0, "compose.yaml: podman-compose up"
              + ("" if res.returncode == 0 else f" ({res.stderr.strip()[-400:]})"))
        ready, _ = wait_ready(port)
        check(ready is not None, "compose.yaml: placid answers on its published port")
        rps = []
        end = time.time() + 60
        while ready is not None and time.time() < end and not rps:
            status, doc = request(port, "GET", "/resource_providers?name=compute-example", token)
            rps = (doc or {}).get("resource_providers", [])
            if not rps:
                time.sleep(0.5)
        check(len(rps) == 1, "compose.yaml: the example agent registers with the secret token")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=10) as r:
                text = r.read().decode()
        except OSError:
            text = ""
        check("placid_http_requests_total" in text, "compose.yaml: metrics served")
    finally:
        subprocess.run(compose + ["down", "-v"], capture_output=True, text=True, timeout=300,
                       env=env)
        os.unlink(secret_file)


def bind_mounts():
    """The README's bind-mount rule: a host directory owned by 10001:10001
    works; one the container's user cannot write is a clear one-line error."""
    for owner, works in ((10001, True), (0, False)):
        d = os.path.join("/tmp", f"{TAG}-bind-{owner}")
        os.mkdir(d, 0o750)
        os.chown(d, owner, owner)
        name = f"{TAG}-bind-{owner}"
        made["containers"].append(name)
        port = free_port()
        podman("run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:8778", "-v",
               f"{d}:/var/lib/placid", "-e", f"PLACID_ADMIN_TOKEN={TOKEN}", IMAGE)
        if works:
            ready, _ = wait_ready(port)
            st = os.stat(os.path.join(d, "placid.db")) if ready else None
            check(st is not None and (st.st_uid, st.st_gid) == (10001, 10001),
                  "a bind-mounted directory owned by 10001:10001 holds the database")
            podman("stop", "-t", "20", name, timeout=60)
        else:
            podman("wait", name, timeout=60)
            code = podman("inspect", name, "--format", "{{.State.ExitCode}}").stdout.strip()
            lines = [l for l in podman("logs", name).stderr.splitlines() if l.strip()]
            check(code == "1" and lines and "cannot" in lines[-1],
                  f"a root-owned bind mount: exit 1 with a one-line reason ({lines[-1:]})")
        podman("rm", "-f", name)
        shutil.rmtree(d, ignore_errors=True)


def pg_smoke(port):
    """Provider, inventory, candidates, allocation and usages; True when all
    answered as they should."""
    rp = "c0000000-0000-0000-0000-0000000000b9"
    consumer = "c0000000-0000-0000-0000-0000000000c0"
    status, _ = request(port, "POST", "/resource_providers", TOKEN, {"name": "ct-pg", "uuid": rp})
    ok = check(status == 200, f"on PostgreSQL: a provider is created ({status})")
    status, _ = request(port, "PUT", f"/resource_providers/{rp}/inventories", TOKEN,
                        {"resource_provider_generation": 0,
                         "inventories": {"VCPU": {"total": 8}, "MEMORY_MB": {"total": 4096}}})
    ok &= check(status == 200, f"on PostgreSQL: its inventory is set ({status})")
    status, doc = request(port, "GET", "/allocation_candidates?resources=VCPU:2,MEMORY_MB:512",
                          TOKEN)
    reqs = (doc or {}).get("allocation_requests", [])
    ok &= check(status == 200 and len(reqs) == 1, f"on PostgreSQL: one candidate ({status})")
    status, _ = request(port, "PUT", f"/allocations/{consumer}", TOKEN, {
        "allocations": {rp: {"resources": {"VCPU": 2, "MEMORY_MB": 512}}},
        "project_id": "c0000000-0000-0000-0000-0000000000d0",
        "user_id": "c0000000-0000-0000-0000-0000000000e0",
        "consumer_generation": None, "consumer_type": "INSTANCE"})
    ok &= check(status == 204, f"on PostgreSQL: the candidate is claimed ({status})")
    status, doc = request(port, "GET", f"/resource_providers/{rp}/usages", TOKEN)
    usages = (doc or {}).get("usages", {})
    ok &= check(usages == {"VCPU": 2, "MEMORY_MB": 512}, f"on PostgreSQL: usages {usages}")
    return ok


def on_postgresql():
    """The image against a throwaway PostgreSQL 15 on 127.0.0.1 (the
    container on the host network, listening on 127.0.0.1 only); the
    password in a passfile mounted as a podman secret readable by uid 10001
    alone (libpq ignores a passfile others can read), the URI without it."""
    pg = Throwaway()
    if not pg.installable and os.environ.get("CI") != "true":
        print("skip container on PostgreSQL: PostgreSQL 15 cannot be installed here")
        return
    try:
        if not check(pg.ok, f"a throwaway PostgreSQL for the image ({pg.error[-300:]})"):
            return
        password = pg.uri.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
        pg_port = pg.uri.rsplit(":", 1)[1].split("/", 1)[0]
        passfile = os.path.join("/tmp", PG_SECRET)
        with open(os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(open(os.path.join(pg.dir, "pgpass")).read())
        made["pg_secret"] = podman("secret", "create", PG_SECRET, passfile).returncode == 0
        os.unlink(passfile)
        name, port = f"{TAG}-pg", free_port()
        uri = f"postgresql://placid@127.0.0.1:{pg_port}/placid"
        res = podman("run", "-d", "--name", name, "--network", "host",
                     "--secret", SECRET, "--secret", f"{PG_SECRET},uid=10001,gid=10001,mode=0400",
                     "-e", f"PLACID_ADMIN_TOKEN_FILE=/run/secrets/{SECRET}",
                     "-e", f"PLACID_LISTEN=127.0.0.1:{port}", "-e", f"PLACID_DB={uri}",
                     "-e", f"PGPASSFILE=/run/secrets/{PG_SECRET}", IMAGE)
        if res.returncode == 0:
            made["containers"].append(name)
        if not check(res.returncode == 0, "the image starts with --db postgresql://... "
                     "(host network, passfile secret)" +
                     ("" if res.returncode == 0 else f" ({res.stderr.strip()[-300:]})")):
            return
        ready, _ = wait_ready(port, 60)
        if not check(ready is not None, f"on PostgreSQL: answers GET / ({ready or 0:.1f} s)"):
            print(podman("logs", name).stderr[-2000:].replace(password, "<PASSWORD>"))
            return
        pg_smoke(port)
        rc, count = pg.sql("placid", "SELECT count(*) FROM providers WHERE name = 'ct-pg'")
        check(rc == 0 and count == "1", f"the provider is in PostgreSQL ({count})")
        res = podman("healthcheck", "run", name)
        check(res.returncode == 0, "on PostgreSQL: podman healthcheck run: healthy")
        res = podman("stop", "-t", "20", name, timeout=60)
        code = podman("inspect", name, "--format", "{{.State.ExitCode}}").stdout.strip()
        check(res.returncode == 0 and code == "0", f"on PostgreSQL: SIGTERM, exit {code}")
        logs = podman("logs", name)
        text = logs.stdout + logs.stderr
        check(password not in text and f"postgresql://placid@127.0.0.1:{pg_port}" in text,
              "podman logs name the database but never show its password")
    finally:
        pg.down()


def cleanup():
    for name in made["containers"]:
        podman("rm", "-f", "-t", "5", name)
    if made["pg_secret"]:
        podman("secret", "rm", PG_SECRET)
    if made["volume"]:
        podman("volume", "rm", "-f", VOLUME)
    if made["secret"]:
        podman("secret", "rm", SECRET)
    if made["compose"]:  # whatever `down -v` left
        project = made["compose"]
        for kind in ("ps -a", "volume ls"):
            names = podman(*kind.split(), "--filter", f"label=io.podman.compose.project={project}",
                           "--format", "{{.Names}}" if kind == "ps -a" else "{{.Name}}").stdout.split()
            for name in names:
                podman(*(("rm", "-f", "-t", "5") if kind == "ps -a" else ("volume", "rm", "-f")), name)
    if made["image"]:
        podman("rmi", "-f", IMAGE)


def main():
    reason = prepare()
    if reason:
        print(f"skip container: {reason}")
        return SKIP
    try:
        if failures or not build():
            return 1
        made["volume"] = podman("volume", "create", VOLUME).returncode == 0
        secret_file = os.path.join("/tmp", SECRET)
        with open(os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(TOKEN + "\n")
        made["secret"] = podman("secret", "create", SECRET, secret_file).returncode == 0
        os.unlink(secret_file)
        check(made["volume"] and made["secret"], "named volume and secret created")
        port = free_port()
        first = f"{TAG}-a"
        if run_container(first, port) and exercise_first(first, port):
            start = time.time()
            podman("restart", "-t", "20", first, timeout=60)
            data_kept(port, f"across a restart ({time.time() - start:.1f} s)")
            stop_timed(first)
            second = f"{TAG}-b"
            port2 = free_port()
            if run_container(second, port2):
                data_kept(port2, "in a new container on the same volume")
                podman("stop", "-t", "20", second, timeout=60)
        bind_mounts()
        on_postgresql()
        compose_example()
    finally:
        cleanup()
        left = podman("ps", "-a", "--filter", f"name={TAG}", "--format", "{{.Names}}").stdout.strip()
        check(left == "", f"containers removed ({left or 'none left'})")
    print(f"container: {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
